"""The staff dashboard in headless Chromium over real demo data (the small lake): every view
loads without console errors, the continuity chart draws the firm's years, a save click reaches
the live counters, the risk filters narrow the table and the CSV export downloads, the language
switch changes the texts. Screenshots of every view land in build/screenshots/."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.conftest import (
    TABLET,
    Dashboard,
    console_errors,
    open_view,
    screenshot,
    texts,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.lake import SmallLake

pytestmark = pytest.mark.slow
HANGUL = range(0xAC00, 0xD7A4)


def has_hangul(text: str) -> bool:
    return any(ord(ch) in HANGUL for ch in text)


def test_every_view_loads_in_korean_without_console_errors(
    page: Page, dashboard: Dashboard
) -> None:
    ids = dashboard.ids
    routes = {
        "search": f"search?q={ids['exporter_id']}",
        "matches": f"matches/{ids['exporter_id']}",
        "continuity": f"continuity/{ids['firm_id']}",
        "risk": "risk",
        "live": "live",
    }
    for name, route in routes.items():
        open_view(page, dashboard, route)
        assert page.locator(".notice-error").count() == 0, page.locator("main").inner_text()
        assert has_hangul(page.locator("main h2").inner_text())
        screenshot(page, f"{name}-ko")
    assert page.locator("html").get_attribute("lang") == "ko"
    # Landmarks and the live region are there for assistive technology.
    assert page.locator("header").count() == 1 and page.locator("nav").count() == 1
    assert page.locator("main#main").count() == 1
    assert page.locator("#announcer[aria-live='polite']").count() == 1
    assert console_errors(page) == []


def test_the_search_finds_a_firm_by_id_and_by_name(page: Page, dashboard: Dashboard) -> None:
    exporter = dashboard.ids["exporter_id"]
    open_view(page, dashboard, f"search?q={exporter}")
    rows = page.locator("table.results tbody tr")
    assert rows.count() >= 1
    assert rows.first.locator("th").inner_text().strip() == exporter
    name = rows.first.locator("td").nth(1).inner_text().strip()
    prefix = name.split()[0][:3]
    page.fill("#search-q", prefix)
    page.evaluate("document.body.dataset.ready = ''")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("body[data-ready='search']")
    page.wait_for_selector("table.results tbody tr, .notice")
    assert exporter in texts(page, "table.results tbody th") or rows.count() == 20
    assert console_errors(page) == []


def test_the_continuity_chart_draws_the_firms_years(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, f"continuity/{dashboard.ids['firm_id']}")
    page.wait_for_function("() => window.Chart && Chart.getChart('continuity-chart')")
    points = page.evaluate(
        """() => {
            const chart = Chart.getChart('continuity-chart');
            const values = chart.data.datasets[0].data.filter(v => v !== null);
            return {values: values.length, drawn: chart.getDatasetMeta(0).data.length,
                    labels: chart.data.labels.length};
        }"""
    )
    history_rows = page.locator("table.history tbody tr").count()
    assert points["values"] > 0 and points["drawn"] == points["labels"] == history_rows
    painted = page.evaluate(
        """() => {
            const canvas = document.getElementById('continuity-chart');
            const context = canvas.getContext('2d');
            const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++;
            return count;
        }"""
    )
    assert painted > 1000
    assert page.locator("#latest-index").inner_text().strip() not in ("", "–")
    assert page.locator("#factors-heading").is_visible()
    screenshot(page, "continuity-chart")
    page.set_viewport_size(TABLET)
    page.wait_for_timeout(400)
    screenshot(page, "continuity-tablet")
    assert console_errors(page) == []


def test_a_save_click_shows_in_the_live_counters(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, f"matches/{dashboard.ids['exporter_id']}")
    cards = page.locator("li.match")
    assert 0 < cards.count() <= 10
    assert all(texts(page, "li.match .reasons"))  # every match says why
    buyer = cards.first.get_attribute("data-id")
    assert buyer
    with page.expect_response(
        lambda r: r.url.endswith("/save") and r.request.method == "POST"
    ) as sent:
        cards.first.locator("button[data-action=save]").click()
    assert sent.value.status == 200
    page.wait_for_selector("li.match[data-state=save]")
    screenshot(page, "matches-saved")
    dashboard.pump.run_once()  # what the event-source mapping does in AWS
    open_view(page, dashboard, "live")
    page.wait_for_selector(f"#most-saved tbody th:has-text('{buyer}')")
    assert buyer in texts(page, "#most-saved tbody th")
    screenshot(page, "live-after-save")
    assert console_errors(page) == []


def test_a_refresh_draws_the_matches_again(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, f"matches/{dashboard.ids['exporter_id']}")
    page.wait_for_selector("li.match")
    with page.expect_response(lambda r: "/matches?" in r.url) as drawn:
        page.click("#matches-refresh")
    assert drawn.value.status == 200 and "seed=" in drawn.value.url
    page.wait_for_selector(".draw-label:has-text('2')")
    assert 0 < page.locator("li.match").count() <= 10
    assert console_errors(page) == []


def _column(page: Page, index: int) -> list[str]:
    return [
        row.locator("th, td").nth(index).inner_text().strip()
        for row in page.locator("table.risk-table tbody tr").all()
    ]


def test_the_risk_filters_narrow_the_table_and_the_csv_downloads(
    page: Page, dashboard: Dashboard
) -> None:
    open_view(page, dashboard, "risk?limit=200")
    everyone = page.locator("table.risk-table tbody tr").count()
    assert everyone > 0
    chapters = _column(page, 3)
    chapter = min(set(chapters), key=chapters.count)  # the rarest: the filter must narrow
    page.fill("#risk-hs", chapter)
    page.evaluate("document.body.dataset.ready = ''")
    page.click("#risk-apply")
    page.wait_for_selector("body[data-ready='risk']")
    filtered = _column(page, 3)
    assert filtered and set(filtered) == {chapter}
    assert len(filtered) == chapters.count(chapter) <= everyone
    if len(set(chapters)) > 1:
        assert len(filtered) < everyone
    screenshot(page, "risk-filtered")

    with page.expect_download() as downloaded:
        page.click("#risk-csv")
    download = downloaded.value
    assert download.suggested_filename.endswith(".csv")
    text = download.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {r["hs_chapter"] for r in rows} == {chapter}
    assert len(rows) == len(filtered)

    # Size: every row shown is of the chosen band.
    open_view(page, dashboard, "risk?limit=200")
    sizes = [s for s in _column(page, 4) if s]
    if sizes:
        size_label = sizes[0]
        page.select_option("#risk-size", label=size_label)
        page.evaluate("document.body.dataset.ready = ''")
        page.click("#risk-apply")
        page.wait_for_selector("body[data-ready='risk']")
        assert set(_column(page, 4)) == {size_label}
    assert console_errors(page) == []


def test_the_risk_group_is_compared_with_continuing_firms(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, "risk")
    comparison = page.locator("table.profile-table")
    if comparison.count() == 0:
        # The load step writes the profile; without one the API's message is shown.
        assert page.locator(".panel .notice").count() == 1
        pytest.fail(page.locator(".panel .notice").inner_text())
    assert comparison.locator("tbody tr").count() > 0
    assert comparison.locator("thead th").count() == 3
    comparison.scroll_into_view_if_needed()
    screenshot(page, "risk-comparison")
    assert console_errors(page) == []


def test_the_language_switch_changes_the_texts(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, "risk")
    assert page.locator("h1").inner_text() == "수출 인텔리전스 대시보드"
    page.evaluate("document.body.dataset.ready = ''")
    page.click("#language-switch")
    page.wait_for_selector("body[data-ready='risk']")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Export Intelligence Dashboard"
    assert page.locator("main h2").inner_text() == "Risk group"
    assert page.locator("nav a[data-view=live]").inner_text() == "Live fair"
    assert not has_hangul(page.locator("table.risk-table thead").inner_text())
    screenshot(page, "risk-en")
    for route in (f"continuity/{dashboard.ids['firm_id']}", "live"):
        open_view(page, dashboard, route)
        screenshot(page, f"{route.split('/')[0]}-en")
    page.set_viewport_size(TABLET)
    open_view(page, dashboard, "risk")
    screenshot(page, "risk-tablet-en")
    # The choice is kept; switching back restores Korean.
    page.reload()
    page.wait_for_selector("body[data-ready='risk']")
    assert page.locator("h1").inner_text() == "Export Intelligence Dashboard"
    page.click("#language-switch")
    page.wait_for_selector("html[lang=ko]")
    assert page.locator("h1").inner_text() == "수출 인텔리전스 대시보드"
    assert console_errors(page) == []


def test_an_api_error_shows_its_message(page: Page, dashboard: Dashboard) -> None:
    open_view(page, dashboard, "continuity/EXP999999")
    alert = page.locator("[role=alert]")
    assert alert.count() == 1
    assert "EXP999999" in alert.inner_text() and "404" in alert.inner_text()
    screenshot(page, "error-state")
    open_view(page, dashboard, "matches")
    assert page.locator(".notice-empty").count() == 1


def _scored_exporter(small_lake: SmallLake) -> dict[str, Any] | None:
    """An exporter's item in the markets table, or None when the lake has no suggestions."""
    from boto3.dynamodb.conditions import Attr

    from exportintel.local.serving import serving_tables

    table = serving_tables(small_lake.aws)["markets"]
    if "Item" not in table.get_item(Key={"firm_id": "_meta"}):
        return None
    scan = {"FilterExpression": Attr("firm_id").begins_with("EXP")}
    while True:
        page = table.scan(**scan)
        for item in page.get("Items", []):
            if len(item.get("suggestions", [])) == 5:
                return dict(item)
        if "LastEvaluatedKey" not in page:
            return None
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_an_exporters_markets_panel_shows_five_countries(
    page: Page, dashboard: Dashboard, small_lake: SmallLake
) -> None:
    item = _scored_exporter(small_lake)
    if item is None:
        pytest.skip("the small lake has no market suggestions (the pipeline's markets model "
                    "loads them)")  # fmt: skip
    exporter = str(item["firm_id"])
    open_view(page, dashboard, f"search?q={exporter}")
    page.evaluate("document.body.dataset.ready = ''")
    page.click(f"table.results a[href='#/markets/{exporter}']")
    page.wait_for_selector("body[data-ready='markets']")
    assert page.locator(".notice-error").count() == 0, page.locator("main").inner_text()
    rows = page.locator("li.market")
    assert rows.count() == 5
    expected = [s["country_code"] for s in sorted(item["suggestions"], key=lambda s: s["rank"])]
    assert [r.get_attribute("data-country") for r in rows.all()] == expected
    assert all(texts(page, "li.market .reasons"))  # every country says why
    assert all(has_hangul(t) for t in texts(page, "li.market .reasons"))
    shares = texts(page, "li.market .market-share")
    assert all(share.endswith("%") for share in shares)
    current = sorted(c.get_attribute("data-country") or "" for c in
                     page.locator("#markets-current .current-market").all())  # fmt: skip
    assert current == sorted(item.get("current_markets", []))
    meta = page.locator("#markets-meta").inner_text()
    assert str(item["as_of_year"]) in meta and str(item["model_version"]) in meta
    assert (page.locator("#markets-basis").count() == 1) == bool(item.get("novice"))
    screenshot(page, "markets-ko")
    assert console_errors(page) == []
