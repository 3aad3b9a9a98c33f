"""The dashboard's site and its local origin: built from `web/` with the chart library, served
with the right types and security headers, no listings, nothing outside the folder, the
development token only in `/config.json`, the API under `/api` as well as at the root."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from exportintel.local.api import LocalApi, serve
from exportintel.web.site import VENDOR_CHART, WEB_SOURCE, SiteError, build_site
from tests.serving.world import serving_world

TOKEN = "w" * 43


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "out")


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[LocalApi]:
    patch = pytest.MonkeyPatch()  # module-wide: the world takes seconds to build
    try:
        with serving_world(patch):
            running = serve(TOKEN, site=site, log_requests=False)
            yield running
            running.shutdown()
            running.server_close()
    finally:
        patch.undo()


def body_of(server: LocalApi, path: str, token: str | None = None) -> tuple[int, bytes, dict]:
    """A raw request: the path goes out exactly as written (no client-side normalising)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=30)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    response = connection.getresponse()
    return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}


def test_the_site_holds_the_pages_and_the_chart_library_but_no_config(site: Path) -> None:
    assert (site / "index.html").is_file() and (site / "app.js").is_file()
    assert (site / "views" / "continuity.js").is_file()
    assert (site / VENDOR_CHART).stat().st_size > 100_000
    assert not (site / "config.json").exists()


def test_a_missing_chart_library_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="npm ci"):
        build_site(tmp_path / "out", chart_bundle=tmp_path / "nothing.js")


def test_the_pages_load_nothing_from_elsewhere_and_run_no_inline_script() -> None:
    for path in [
        *WEB_SOURCE.rglob("*.html"),
        *WEB_SOURCE.rglob("*.js"),
        *WEB_SOURCE.rglob("*.css"),
    ]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path
    index = (WEB_SOURCE / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", index, flags=re.S)
    assert scripts and all(
        "src=" in attributes and not body.strip() for attributes, body in scripts
    )
    assert not re.search(r"\son[a-z]+=", index)  # no inline event handlers either


def test_the_index_and_files_with_their_types_and_security_headers(server: LocalApi) -> None:
    for path, kind in (
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/app.js", "text/javascript"),
        ("/views/risk.js", "text/javascript"),
        ("/styles.css", "text/css"),
        ("/vendor/chart.umd.min.js", "text/javascript"),
        ("/favicon.svg", "image/svg+xml"),
    ):
        status, body, headers = body_of(server, path)
        assert status == 200 and body, path
        assert headers["content-type"].startswith(kind), path
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_the_config_names_the_api_and_the_development_token(server: LocalApi) -> None:
    status, body, headers = body_of(server, "/config.json")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert json.loads(body) == {"apiBase": "/api", "auth": {"kind": "token", "token": TOKEN}}


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/views/..%2f..%2fpyproject.toml",
        "/views/%2e%2e/%2e%2e/pyproject.toml",
        "/..%5c..%5cpyproject.toml",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/views/",
        "/views",
        "/vendor/",
        "/index.html%00.js",
        "/.gitignore",
        "/nothing-here.js",
    ],
)
def test_no_listing_and_nothing_outside_the_site(server: LocalApi, path: str) -> None:
    status, body, headers = body_of(server, path)
    assert status == 404, path
    assert b"[project]" not in body and b"root:" not in body and b"<li>" not in body
    assert "content-security-policy" in headers


def test_the_api_answers_under_api_and_at_the_root(server: LocalApi) -> None:
    for prefix in ("/api", ""):
        status, body, _ = body_of(server, f"{prefix}/exporters/EXP000001/matches?k=2")
        assert status == 401, prefix  # the site is open, the API is not
        status, body, _ = body_of(server, f"{prefix}/exporters/EXP000001/matches?k=2", TOKEN)
        assert status == 200 and json.loads(body)["matches"], prefix
    status, body, _ = body_of(server, "/api/openapi.json")
    assert status == 200 and "/risk-group" in json.loads(body)["paths"]
    status, body, _ = body_of(server, "/api/no/such/route", TOKEN)
    assert status == 404 and json.loads(body)["error"] == "no_route"


def test_without_a_site_the_root_is_the_api_alone(server: LocalApi) -> None:
    running = serve(TOKEN, log_requests=False)  # in the same world as `server`
    try:
        assert body_of(running, "/")[0] == 401
        assert body_of(running, "/config.json")[0] == 401
    finally:
        running.shutdown()
        running.server_close()
