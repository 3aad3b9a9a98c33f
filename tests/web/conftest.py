"""The dashboard in a real browser: Debian's chromium driven by Playwright against the local
server (the API's handlers over the small lake's serving tables, and the built site)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from exportintel.local.api import LocalApi, serve
from exportintel.local.pump import Pump
from exportintel.local.serving import counters_consumer, load_from_lake, sample_ids, serving_environ
from exportintel.web.site import REPO_ROOT, build_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

    from exportintel.local.emulation import EmulatedAws
    from tests.lake import SmallLake

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container: no sandbox; no background calls to Google's hosts (the network is
# closed, and each refused call would only slow the start).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
LAPTOP: ViewportSize = {"width": 1366, "height": 900}
TABLET: ViewportSize = {"width": 820, "height": 1180}
TOKEN = "d" * 43


@dataclass
class Dashboard:
    server: LocalApi
    ids: dict[str, str]
    pump: Pump

    @property
    def url(self) -> str:
        return f"{self.server.url}/"


def pump_from_tip(aws: EmulatedAws) -> Pump:
    """A pump feeding the live counters with what arrives from now on: the small lake's events
    were pumped already and must not reach the raw zone twice."""
    pump = Pump(
        kinesis=aws.client("kinesis"),
        firehose=aws.client("firehose"),
        s3=aws.client("s3"),
        resources=aws.resources,
    )
    kinesis, stream = aws.client("kinesis"), aws.resources.clickstream_stream
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    # The pump's own key for a stream (Pump.drain): its ARN and creation time.
    key = f"{summary['StreamARN']}|{summary['StreamCreationTimestamp'].isoformat()}"
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        last = None
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            if page["Records"]:
                last = page["Records"][-1]["SequenceNumber"]
            elif not page.get("MillisBehindLatest"):
                break
            iterator = page.get("NextShardIterator")
        if last is not None:
            pump.checkpoints.save(key, shard["ShardId"], last)
    pump.add_consumer(counters_consumer(aws))
    return pump


@pytest.fixture(scope="module")
def dashboard(
    small_lake: SmallLake, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    patch = pytest.MonkeyPatch()
    try:
        for name, value in serving_environ(small_lake.aws).items():
            patch.setenv(name, value)
        summary = load_from_lake(small_lake.aws, small_lake.workdir)
        assert summary is not None and summary.counts["continuity rows"] > 0
        assert summary.counts.get("group profiles", 0) > 0, summary.counts
        site = build_site(tmp_path_factory.mktemp("dashboard") / "site")
        server = serve(TOKEN, site=site, log_requests=False)
        try:
            yield Dashboard(server, sample_ids(small_lake.aws), pump_from_tip(small_lake.aws))
        finally:
            server.shutdown()
            server.server_close()
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make chromium`, which `make test` runs, installs it)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "playwright is not installed: `pip install -c requirements.lock -e '.[dev]'`",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ConsoleErrors(list[str]):
    """Errors the page logged or threw."""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="ko-KR", accept_downloads=True)
    opened = context.new_page()
    errors = ConsoleErrors()
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(f"{e}"))
    opened.console_errors = errors  # type: ignore[attr-defined]
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def console_errors(page: Page) -> list[str]:
    errors: list[str] = page.console_errors  # type: ignore[attr-defined]
    return list(errors)


def open_view(page: Page, dashboard: Dashboard, route: str) -> None:
    """Open `#/<route>` (from anywhere) and wait until the view has rendered its data."""
    view = route.split("/")[0].split("?")[0]
    if page.url.startswith(dashboard.url):
        page.evaluate("document.body.dataset.ready = ''")
        page.evaluate("hash => { window.location.hash = hash }", f"#/{route}")
    else:
        page.goto(f"{dashboard.url}#/{route}")
    page.wait_for_selector(f"body[data-ready='{view}']")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def texts(page: Page, selector: str) -> list[Any]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]
