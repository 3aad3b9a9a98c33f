"""Each piece of evidence moves a country's rank the right way, and nothing after the as-of
year reaches the evidence.

The hand-made world has five countries alike in every way (tests/markets/handmade.py); each
test changes one input for one country and ranks the countries for a novice (EXP000003) with
weights of the expected signs, through the real path: tables -> evidence -> utilities -> top 5.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.markets.evidence import MarketWorld
from exportintel.markets.model import MarketModel
from exportintel.markets.scoring import suggest
from tests.markets import handmade
from tests.markets.handmade import AS_OF, with_rows

SIGNS = {"demand": 1.0, "growth": 1.0, "fx": 1.0, "price_fit": 1.0, "crisis": -1.0,
         "buyers": 1.0, "peers": 1.0}  # fmt: skip
MODEL = MarketModel(
    EVIDENCE_TERMS, dict.fromkeys(EVIDENCE_TERMS, 0.0), dict.fromkeys(EVIDENCE_TERMS, 1.0), SIGNS
)
NOVICE = "EXP000003"


def ranking(tables: handmade.MarketTables, firm: str = NOVICE) -> list[str]:
    top = suggest(MarketWorld(tables).evidence(AS_OF), MODEL, "v-test")
    return top[top["firm_id"] == firm].sort_values("rank")["country_code"].tolist()


def evidence_of(tables: handmade.MarketTables, country: str, firm: str = NOVICE) -> pd.Series:
    rows = MarketWorld(tables).evidence(AS_OF).rows
    return rows[(rows["firm_id"] == firm) & (rows["country_code"] == country)].iloc[0]


def test_the_alike_world_ranks_by_the_peers_then_by_name() -> None:
    # VNM: two similar firms kept exporting there; the others tie and fall back to the code.
    assert ranking(handmade.tables()) == ["VNM", "DEU", "JPN", "MEX", "USA"]


def _scale_trade(country: str, factor: float, years: range) -> handmade.Edit:
    def edit(frames: dict[str, pd.DataFrame]) -> None:
        trade = frames["trade_flows"]
        rows = (trade["partner_code"] == country) & trade["year"].isin(years)
        trade.loc[rows, "trade_value_usd"] *= factor

    return edit


def test_more_import_demand_raises_the_country() -> None:
    tables = handmade.tables(_scale_trade("MEX", 5.0, range(2000, 2030)))
    assert evidence_of(tables, "MEX")["demand"] > evidence_of(tables, "DEU")["demand"]
    assert ranking(tables).index("MEX") < 3


def test_growing_demand_raises_the_country() -> None:
    # Same trade in the as-of year, less two years before: growth, not size.
    tables = handmade.tables(_scale_trade("MEX", 0.6, range(2000, AS_OF - 1)))
    mex = evidence_of(tables, "MEX")
    assert mex["growth"] > 0.2 and mex["demand"] == evidence_of(tables, "DEU")["demand"]
    assert ranking(tables).index("MEX") < 3


def _weaker_won_against(currency: str, year: int, factor: float) -> handmade.Edit:
    def edit(frames: dict[str, pd.DataFrame]) -> None:
        rates = frames["fx_rates"]
        dates = pd.to_datetime(rates["rate_date"])
        rows = (rates["currency"] == currency) & (dates.dt.year >= year)
        rates.loc[rows, "krw_per_unit"] *= factor

    return edit


def test_a_weaker_won_against_the_buyers_currency_raises_the_country() -> None:
    tables = handmade.tables(_weaker_won_against("MXN", AS_OF, 1.1))
    assert evidence_of(tables, "MEX")["fx"] == pytest.approx(0.0953, abs=1e-3)
    assert ranking(tables).index("MEX") < 3


def test_prices_outside_what_buyers_want_lower_the_country() -> None:
    def dearer_wishes(frames: dict[str, pd.DataFrame]) -> None:
        buyers = frames["buyers"]
        buyers.loc[buyers["country_code"] == "DEU", "desired_price_min_usd"] = 100.0
        buyers.loc[buyers["country_code"] == "DEU", "desired_price_max_usd"] = 200.0

    tables = handmade.tables(dearer_wishes)
    assert evidence_of(tables, "DEU")["price_fit"] == 0.0
    assert ranking(tables)[-1] == "DEU"


def test_price_fit_follows_the_exchange_rate() -> None:
    """Buyers wanting prices just under the firm's: out of reach until the won weakens 10%
    against their currency, which brings the firm's prices down into their range."""

    def cheaper_wishes(frames: dict[str, pd.DataFrame]) -> None:
        buyers = frames["buyers"]
        buyers.loc[buyers["country_code"] == "MEX", "desired_price_min_usd"] = 8.0
        buyers.loc[buyers["country_code"] == "MEX", "desired_price_max_usd"] = 9.5

    before = handmade.tables(cheaper_wishes)
    weaker_won = _weaker_won_against("MXN", AS_OF, 1.1)

    def both(frames: dict[str, pd.DataFrame]) -> None:
        cheaper_wishes(frames)
        weaker_won(frames)

    after = handmade.tables(both)
    assert evidence_of(before, "MEX")["price_fit"] == 0.0
    assert evidence_of(after, "MEX")["price_fit"] == 1.0


def test_a_crisis_lowers_the_country() -> None:
    def unrest(frames: dict[str, pd.DataFrame]) -> None:
        frames["country_risk"] = with_rows(
            frames["country_risk"],
            [{"country_code": "DEU", "effective_date": dt.date(AS_OF, 1, 1), "advisory_level": 3}],
        )

    tables = handmade.tables(unrest)
    assert evidence_of(tables, "DEU")["crisis"] == 3.0
    assert ranking(tables)[-1] == "DEU"


def test_more_buyers_asking_raise_the_country() -> None:
    def more_buyers(frames: dict[str, pd.DataFrame]) -> None:
        extra = [f"BUY9{k:05d}" for k in range(6)]
        frames["buyers"] = with_rows(
            frames["buyers"],
            [
                {
                    "buyer_id": b,
                    "country_code": "USA",
                    "hs_codes_wanted": ["850490"],
                    "desired_price_min_usd": 12.0,
                    "desired_price_max_usd": 18.0,
                    "bad_credit": False,
                }
                for b in extra
            ],
        )
        frames["match_history"] = with_rows(
            frames["match_history"],
            [{"buyer_id": b, "requested_on": dt.date(2020, 1, 1)} for b in extra],
        )

    tables = handmade.tables(more_buyers)
    assert evidence_of(tables, "USA")["buyer_count"] == 9
    assert ranking(tables).index("USA") < 3


def test_bad_credit_buyers_do_not_count() -> None:
    def bad(frames: dict[str, pd.DataFrame]) -> None:
        buyers = frames["buyers"]
        buyers.loc[buyers["country_code"] == "JPN", "bad_credit"] = True

    assert evidence_of(handmade.tables(bad), "JPN")["buyer_count"] == 0


def test_similar_firms_that_kept_exporting_raise_the_country() -> None:
    def peers_in_mexico(frames: dict[str, pd.DataFrame]) -> None:
        frames["export_history"] = with_rows(
            frames["export_history"],
            [
                {
                    "firm_id": "EXP000001",
                    "year": year,
                    "hs_code": "850440",
                    "destination_country": "MEX",
                    "export_value_usd": 1e5,
                }
                for year in (AS_OF - 1, AS_OF)
            ],
        )

    tables = handmade.tables(peers_in_mexico)
    assert evidence_of(tables, "MEX")["peer_count"] == 1
    assert ranking(tables).index("MEX") < 3


def test_a_peer_that_stopped_exporting_there_does_not_count() -> None:
    def left_mexico(frames: dict[str, pd.DataFrame]) -> None:
        frames["export_history"] = with_rows(
            frames["export_history"],
            [
                {
                    "firm_id": "EXP000001",
                    "year": AS_OF - 1,
                    "hs_code": "850440",
                    "destination_country": "MEX",
                    "export_value_usd": 1e5,
                }
            ],
        )

    assert evidence_of(handmade.tables(left_mexico), "MEX")["peer_count"] == 0


def test_countries_a_firm_exports_to_are_marked_and_never_suggested() -> None:
    tables = handmade.tables()
    evidence = MarketWorld(tables).evidence(AS_OF)
    marked = evidence.rows[evidence.rows["already"]]
    assert set(map(tuple, marked[["firm_id", "country_code"]].to_numpy())) == {
        ("EXP000001", "VNM"),
        ("EXP000002", "VNM"),
    }
    assert "VNM" not in ranking(tables, "EXP000001")
    assert len(ranking(tables, "EXP000001")) == 4  # the four other countries


def _truncated(tables: handmade.MarketTables, year: int) -> handmade.MarketTables:
    def before(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        values = frame[column]
        years = values if column == "year" else pd.to_datetime(values).dt.year
        return frame[years <= year].reset_index(drop=True)

    return handmade.MarketTables(
        exporters=tables.exporters,
        buyers=tables.buyers,
        export_history=before(tables.export_history, "year"),
        firm_financials=before(tables.firm_financials, "year"),
        trade_flows=before(tables.trade_flows, "year"),
        fx_rates=before(tables.fx_rates, "rate_date"),
        country_risk=before(tables.country_risk, "effective_date"),
        match_history=before(tables.match_history, "requested_on"),
    )


def test_nothing_after_the_as_of_year_reaches_the_evidence() -> None:
    """A future full of changes (trade, rates, advisories, new buyers, new exports, a bigger
    firm) leaves the evidence of the as-of year exactly as the lake cut at that year gives it."""

    def future(frames: dict[str, pd.DataFrame]) -> None:
        nxt = AS_OF + 1
        frames["trade_flows"].loc[frames["trade_flows"]["year"] == nxt, "trade_value_usd"] *= 50
        frames["fx_rates"] = with_rows(
            frames["fx_rates"],
            [{"rate_date": dt.date(nxt, 6, 1), "currency": "MXN", "krw_per_unit": 500.0}],
        )
        frames["country_risk"] = with_rows(
            frames["country_risk"],
            [{"country_code": "USA", "effective_date": dt.date(nxt, 2, 1), "advisory_level": 4}],
        )
        frames["export_history"] = with_rows(
            frames["export_history"],
            [
                {
                    "firm_id": "EXP000003",
                    "year": nxt,
                    "hs_code": "850440",
                    "destination_country": "JPN",
                    "export_value_usd": 1e6,
                }
            ],
        )
        frames["firm_financials"].loc[frames["firm_financials"]["year"] == nxt, "employees"] = 900
        frames["buyers"] = with_rows(
            frames["buyers"],
            [
                {
                    "buyer_id": "BUY900000",
                    "country_code": "DEU",
                    "hs_codes_wanted": ["850440"],
                    "desired_price_min_usd": 1.0,
                    "desired_price_max_usd": 99.0,
                    "bad_credit": False,
                }
            ],
        )
        frames["match_history"] = with_rows(
            frames["match_history"], [{"buyer_id": "BUY900000", "requested_on": dt.date(nxt, 3, 1)}]
        )

    full = handmade.tables(future)
    seen = MarketWorld(full).evidence(AS_OF)
    cut = MarketWorld(_truncated(full, AS_OF)).evidence(AS_OF)
    pd.testing.assert_frame_equal(seen.rows, cut.rows)
    pd.testing.assert_frame_equal(
        seen.firms.reset_index(drop=True), cut.firms.reset_index(drop=True)
    )
    # The future is there, and does change a later year's evidence.
    later = MarketWorld(full).evidence(AS_OF + 1).rows
    assert later[(later["firm_id"] == NOVICE) & (later["country_code"] == "JPN")]["already"].all()
