"""Each feed reads its provider's recorded answer into records that meet the contract."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from exportintel.collectors.feeds import FEEDS, FeedError, get_feed
from exportintel.collectors.http import https_get
from exportintel.contracts import get_contract
from exportintel.contracts.validation import validate_record

RECORDED = Path(__file__).resolve().parents[1] / "events" / "collectors"
DAY = dt.date(2025, 3, 14)


def recorded(feed: str) -> bytes:
    [path] = RECORDED.glob(f"{feed}.*")
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_recorded_answer_parses_into_contract_records(name: str) -> None:
    feed = get_feed(name)
    records = feed.parse(recorded(name), DAY)
    assert records
    contract = get_contract(feed.dataset)
    results = [validate_record(contract, r) for r in records]
    if name == "mofa_travel_advisories":
        # The unknown country code "XX" is kept for quarantine, not silently dropped.
        assert [r.reason for r in results if not r.ok] == [
            "country_code: bad_format: 'XX' is not a ISO 3166-1 alpha-3 country code"
        ]
    else:
        assert all(r.ok for r in results), [r.reason for r in results if not r.ok]


def test_ecb_rates_become_krw_per_unit() -> None:
    rates = {r["currency"]: r["krw_per_unit"] for r in get_feed("ecb_fx").parse(
        recorded("ecb_fx"), DAY)}  # fmt: skip
    assert rates["EUR"] == pytest.approx(1580.27)
    assert rates["USD"] == pytest.approx(1580.27 / 1.0882)
    assert rates["JPY"] == pytest.approx(1580.27 / 161.39)
    assert "KRW" not in rates


def test_a_day_without_a_fixing_gives_no_records() -> None:
    assert get_feed("ecb_fx").parse(recorded("ecb_fx"), dt.date(2025, 3, 15)) == []


def test_world_totals_are_not_partners_and_unknown_symbols_are_skipped() -> None:
    flows = get_feed("comtrade").parse(recorded("comtrade"), DAY)
    assert {f["partner_code"] for f in flows} == {"KOR"}
    assert flows[0]["flow"] == "import"
    materials = get_feed("raw_materials").parse(recorded("raw_materials"), DAY)
    assert len(materials) == 7 and "GOLD_OZ" not in str(materials)


def test_missing_advisory_level_means_none() -> None:
    levels = {r["country_code"]: r["advisory_level"] for r in get_feed(
        "mofa_travel_advisories").parse(recorded("mofa_travel_advisories"), DAY)}  # fmt: skip
    assert levels["UKR"] == 4 and levels["JPN"] == 0


@pytest.mark.parametrize("name", ["eia_oil", "comtrade", "credit_evaluations"])
def test_an_error_page_is_a_clear_feed_error(name: str) -> None:
    with pytest.raises(FeedError, match=name):
        get_feed(name).parse(b"<html>Service Unavailable</html>", DAY)
    with pytest.raises(FeedError, match=name):
        get_feed(name).parse(b'{"error": "invalid api key"}', DAY)


def test_keys_go_where_each_provider_expects_them() -> None:
    assert get_feed("eia_oil").request(DAY, "k1").params["api_key"] == "k1"
    assert get_feed("comtrade").request(DAY, "k2").headers == {"Ocp-Apim-Subscription-Key": "k2"}
    assert get_feed("mofa_travel_advisories").request(DAY, "k3").params["serviceKey"] == "k3"
    assert get_feed("comtrade").request(DAY, None).params["period"] == "2024"


class FlakyProvider(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` calls, then the recorded body."""

    failures = 0
    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        body = recorded("eia_oil")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[str]:
    FlakyProvider.calls = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    server.shutdown()


def _pool(total: int) -> urllib3.PoolManager:
    retry = urllib3.Retry(total=total, backoff_factor=0, status_forcelist=(503,),
                          raise_on_status=False)  # fmt: skip
    return urllib3.PoolManager(retries=retry)


def test_transient_errors_are_retried_over_real_http(provider: str) -> None:
    FlakyProvider.failures = 2
    request = get_feed("eia_oil").request(DAY, "key")
    body = https_get(type(request)(provider, request.params), pool=_pool(3))
    assert FlakyProvider.calls == 3
    assert get_feed("eia_oil").parse(body, DAY)[0]["commodity"] == "brent_crude"


def test_an_error_that_outlasts_the_retries_is_a_feed_error(provider: str) -> None:
    FlakyProvider.failures = 10
    request = get_feed("eia_oil").request(DAY, "key")
    with pytest.raises(FeedError, match="answered 503"):
        https_get(type(request)(provider, request.params), pool=_pool(2))
