"""The evidence for a firm entering a country, as it was known at the end of an as-of year.

For every exporter and candidate country, seven raw terms (`EVIDENCE_TERMS`), each computed
from the curated tables with nothing dated after the as-of year Y:

- demand:    ln of Korea's exports of the firm's main HS chapter to the country in Y
             (trade_flows, Korea as reporter: the country's imports from Korea);
- growth:    the yearly ln change of that trade over Y-2..Y;
- fx:        ln change of the yearly mean KRW per unit of the country's payment currency, Y over
             Y-1 (positive: the won weakened, the firm's prices fell for buyers there);
- price_fit: the share of the country's buyers of the firm's chapters whose desired price range
             meets the firm's, once the firm's prices have moved with that exchange rate;
- crisis:    the mean travel-advisory level (0-4) of the country over Y;
- buyers:    ln(1 + buyers asking for any of the firm's chapters there) among the buyers the
             agency knew by Y (first seen in match_history by Y; bad-credit buyers left out);
- peers:     ln(1 + years in which similar firms (same main chapter, size band at most one
             step away) that exported there kept exporting there the next year, up to Y): where
             firms like it kept exporting, not only where they tried.

The firm's own history gives the countries it already exports to (by Y: marked, never
suggested) and whether it is a novice (first export in Y-2 or later, or none yet); a novice's
evidence rests on its HS codes, prices and size alone, so it gets suggestions too. The
exporters' directory is a snapshot (HS codes, price range): static attributes, not history.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.markets.data import MarketTables
from exportintel.reference.countries import KOREA, PARTNERS

BANDS = ("small", "medium", "large")  # under 50 employees, under 300, the rest
PAY_FALLBACK = "USD"


def size_band(employees: pd.Series) -> pd.Series:
    """small < 50 employees, medium < 300, large; unknown size counts as small."""
    bands = np.where(employees < 50, "small", np.where(employees < 300, "medium", "large"))
    return pd.Series(np.where(employees.isna(), "small", bands), index=employees.index)


@dataclass(frozen=True)
class Evidence:
    """One as-of year's evidence: a row per (firm, candidate country)."""

    as_of_year: int
    rows: pd.DataFrame  # firm_id, country_code, the raw terms, already, hs_chapter, ...
    firms: pd.DataFrame  # firm_id, hs_chapter, size_band, novice, first_export

    def candidates(self) -> pd.DataFrame:
        """The rows of countries the firm does not export to yet."""
        return self.rows[~self.rows["already"]]


class MarketWorld:
    """The tables, prepared once; `evidence(year)` for any as-of year."""

    def __init__(self, tables: MarketTables) -> None:
        self.tables = tables

    # --- prepared once ----------------------------------------------------------------------

    @cached_property
    def trade(self) -> pd.DataFrame:
        """Korea's exports by country, HS chapter and year: ln value, and its growth."""
        flows = self.tables.trade_flows
        rows = flows[
            (flows["reporter_code"] == KOREA)
            & (flows["flow"] == "export")
            & (flows["hs_code"].str.len() == 2)
            & (flows["trade_value_usd"] > 0)
        ]
        value = rows.groupby(["partner_code", "hs_code", "year"], as_index=False)[
            "trade_value_usd"
        ].sum()
        value["demand"] = np.log(value["trade_value_usd"])
        earlier = value[["partner_code", "hs_code", "year", "demand"]].copy()
        earlier["year"] += 2
        value = value.merge(
            earlier.rename(columns={"demand": "demand_before"}),
            on=["partner_code", "hs_code", "year"],
            how="left",
        )
        value["growth"] = ((value["demand"] - value["demand_before"]) / 2).fillna(0.0)
        return value.rename(columns={"partner_code": "country_code", "hs_code": "hs_chapter"})

    @cached_property
    def countries(self) -> np.ndarray:
        """The candidate countries: every partner of Korea's exports in the trade table."""
        return np.array(sorted(self.trade["country_code"].unique()), dtype=object)

    @cached_property
    def fx_moves(self) -> pd.DataFrame:
        """Per country and year: ln change of the yearly mean KRW per unit of its payment
        currency (its own when quoted in both years, else USD)."""
        rates = self.tables.fx_rates
        years = pd.to_datetime(rates["rate_date"]).dt.year
        means = rates.assign(year=years).groupby(["currency", "year"])["krw_per_unit"].mean()
        log_means = np.log(means)
        moves = (log_means - log_means.groupby(level="currency").shift(1)).dropna()
        local = {p.code: p.currency for p in PARTNERS}
        out = []
        for year in sorted(set(moves.index.get_level_values("year"))):
            for country in self.countries.tolist():
                currency = local.get(country, PAY_FALLBACK)
                if (currency, year) not in moves.index:
                    currency = PAY_FALLBACK
                move = moves.get((currency, year), np.nan)
                out.append((country, year, currency, float(move)))
        frame = pd.DataFrame(out, columns=["country_code", "year", "currency", "fx"])
        frame["fx"] = frame["fx"].fillna(0.0)
        return frame

    @cached_property
    def crisis_levels(self) -> pd.DataFrame:
        """Per country and year: the day-weighted mean advisory level (0 without one)."""
        risk = self.tables.country_risk.copy()
        risk["effective_date"] = pd.to_datetime(risk["effective_date"])
        first, last = int(risk["effective_date"].dt.year.min()), int(self.trade["year"].max())
        days = pd.date_range(f"{first}-01-01", f"{last}-12-31", freq="D")
        day_years = days.year.to_numpy()
        out = []
        for country in self.countries.tolist():
            events = risk[risk["country_code"] == country].sort_values("effective_date")
            level = np.zeros(len(days))
            if len(events):
                at = np.searchsorted(
                    events["effective_date"].to_numpy(), days.to_numpy(), side="right"
                )
                known = at > 0
                level[known] = events["advisory_level"].to_numpy()[at[known] - 1]
            for year in range(first, last + 1):
                out.append((country, year, float(level[day_years == year].mean())))
        return pd.DataFrame(out, columns=["country_code", "year", "crisis"])

    @cached_property
    def buyer_chapters(self) -> pd.DataFrame:
        """A row per buyer and HS chapter it asks for, with the year the agency first saw it
        (its first matchmaking; never seen: not counted in any year)."""
        buyers = self.tables.buyers
        buyers = buyers[~buyers["bad_credit"].fillna(False).astype(bool)]
        seen = self.tables.match_history.dropna(subset=["requested_on"])
        first_seen = pd.to_datetime(seen["requested_on"]).dt.year.groupby(seen["buyer_id"]).min()
        rows = buyers.assign(first_seen=buyers["buyer_id"].map(first_seen)).dropna(
            subset=["first_seen"]
        )
        rows = rows.explode("hs_codes_wanted").dropna(subset=["hs_codes_wanted"])
        rows["hs_chapter"] = rows["hs_codes_wanted"].str[:2]
        rows = rows.drop_duplicates(["buyer_id", "hs_chapter"])
        return rows[
            [
                "buyer_id", "country_code", "hs_chapter", "first_seen",
                "desired_price_min_usd", "desired_price_max_usd",
            ]
        ].reset_index(drop=True)  # fmt: skip

    @cached_property
    def exporters(self) -> pd.DataFrame:
        """Firm id, main chapter, every chapter, price range, first export year."""
        firms = self.tables.exporters.drop_duplicates("firm_id").copy()
        codes = firms["hs_codes"].map(lambda c: [str(x) for x in c] if c is not None else [])
        firms["chapters"] = codes.map(lambda c: sorted({x[:2] for x in c}))
        firms["hs_chapter"] = codes.map(lambda c: c[0][:2] if c else None)
        firms = firms.dropna(subset=["hs_chapter"])
        first = self.tables.export_history.groupby("firm_id")["year"].min()
        firms["first_export"] = firms["firm_id"].map(first)
        return firms[
            ["firm_id", "hs_chapter", "chapters", "price_min_usd", "price_max_usd", "first_export"]
        ].reset_index(drop=True)

    @cached_property
    def presence(self) -> pd.DataFrame:
        """A row per firm, country and year it exported there."""
        history = self.tables.export_history
        return (
            history[["firm_id", "destination_country", "year"]]
            .drop_duplicates()
            .rename(columns={"destination_country": "country_code"})
        )

    # --- per as-of year ---------------------------------------------------------------------

    def sizes(self, year: int) -> pd.Series:
        """Size band per firm from its latest financial year <= `year`."""
        fin = self.tables.firm_financials
        fin = fin[fin["year"] <= year].sort_values("year").drop_duplicates("firm_id", keep="last")
        employees = self.exporters["firm_id"].map(fin.set_index("firm_id")["employees"])
        return pd.Series(size_band(employees).to_numpy(), index=self.exporters["firm_id"])

    def evidence(self, year: int, firms: pd.DataFrame | None = None) -> Evidence:
        """The evidence of `firms` (default: every exporter) as known at the end of `year`.

        `firms` may also describe firms with no history (the cold-start profiles): columns
        firm_id, hs_chapter, chapters, price_min_usd, price_max_usd, size_band."""
        sizes = self.sizes(year)
        if firms is None:
            firms = self.exporters.assign(size_band=sizes.to_numpy())
        firms = firms.copy()
        if "first_export" in firms:  # exports after the as-of year are not known yet
            firms["first_export"] = firms["first_export"].where(firms["first_export"] <= year)
        else:
            firms["first_export"] = np.nan
        firms["novice"] = firms["first_export"].isna() | (firms["first_export"] >= year - 2)

        pairs = firms[["firm_id", "hs_chapter", "size_band"]].merge(
            pd.DataFrame({"country_code": self.countries}), how="cross"
        )
        trade = self.trade[self.trade["year"] == year][
            ["country_code", "hs_chapter", "demand", "growth"]
        ]
        pairs = pairs.merge(trade, on=["country_code", "hs_chapter"], how="left")
        floor = float(trade["demand"].min()) - 1.0 if len(trade) else 0.0
        pairs["demand"] = pairs["demand"].fillna(floor)
        pairs["growth"] = pairs["growth"].fillna(0.0)
        fx = self.fx_moves[self.fx_moves["year"] == year][["country_code", "fx"]]
        pairs = pairs.merge(fx, on="country_code", how="left")
        pairs["fx"] = pairs["fx"].fillna(0.0)
        crisis = self.crisis_levels[self.crisis_levels["year"] == year][["country_code", "crisis"]]
        pairs = pairs.merge(crisis, on="country_code", how="left")
        pairs["crisis"] = pairs["crisis"].fillna(0.0)
        pairs = pairs.merge(self._buyer_terms(firms, year, fx), on=["firm_id", "country_code"],
                            how="left")  # fmt: skip
        pairs["buyer_count"] = pairs["buyer_count"].fillna(0).astype(int)
        pairs["buyers"] = np.log1p(pairs["buyer_count"])
        pairs["price_fit"] = pairs["price_fit"].fillna(0.0)
        pairs = pairs.merge(self._peer_terms(firms, year, sizes), on=["firm_id", "country_code"],
                            how="left")  # fmt: skip
        pairs["peer_count"] = pairs["peer_count"].fillna(0).astype(int)
        pairs["peers"] = np.log1p(pairs["peer_count"])
        already = self.presence[self.presence["year"] <= year][["firm_id", "country_code"]]
        already = already.drop_duplicates().assign(already=True)
        pairs = pairs.merge(already, on=["firm_id", "country_code"], how="left")
        pairs["already"] = pairs["already"].notna()
        pairs["novice"] = pairs["firm_id"].map(firms.set_index("firm_id")["novice"])
        columns = ["firm_id", "country_code", *EVIDENCE_TERMS, "already", "hs_chapter",
                   "size_band", "novice", "buyer_count", "peer_count"]  # fmt: skip
        pairs = pairs[columns].sort_values(["firm_id", "country_code"], kind="stable")
        return Evidence(
            year,
            pairs.reset_index(drop=True),
            firms[["firm_id", "hs_chapter", "size_band", "novice", "first_export"]],
        )

    def _buyer_terms(self, firms: pd.DataFrame, year: int, fx: pd.DataFrame) -> pd.DataFrame:
        """Per firm and country: buyers asking for the firm's chapters, and the share whose
        price range meets the firm's after the exchange-rate move."""
        known = self.buyer_chapters[self.buyer_chapters["first_seen"] <= year]
        wanted = firms[["firm_id", "chapters", "price_min_usd", "price_max_usd"]].explode(
            "chapters"
        )
        rows = wanted.rename(columns={"chapters": "hs_chapter"}).merge(known, on="hs_chapter")
        rows = rows.drop_duplicates(["firm_id", "buyer_id"])
        if rows.empty:
            return pd.DataFrame(columns=["firm_id", "country_code", "buyer_count", "price_fit"])
        move = rows["country_code"].map(fx.set_index("country_code")["fx"]).fillna(0.0)
        shift = np.exp(-move)  # a weaker won lowers the firm's prices in the buyer's currency
        low, high = rows["price_min_usd"] * shift, rows["price_max_usd"] * shift
        rows["fits"] = (low <= rows["desired_price_max_usd"]) & (
            high >= rows["desired_price_min_usd"]
        )
        out = rows.groupby(["firm_id", "country_code"]).agg(
            buyer_count=("buyer_id", "size"), price_fit=("fits", "mean")
        )
        return out.reset_index()

    def _peer_terms(self, firms: pd.DataFrame, year: int, sizes: pd.Series) -> pd.DataFrame:
        """Per firm and country: how often similar firms (same main chapter, a size band at
        most one step from the firm's) that exported there one year did so again the next,
        counted over every year up to `year`, the firm's own years left out."""
        history = self.presence[self.presence["year"] <= year]
        stayed = history.merge(
            history.assign(year=history["year"] + 1)[["firm_id", "country_code", "year"]],
            on=["firm_id", "country_code", "year"],
        )
        groups = self.exporters[["firm_id", "hs_chapter"]].assign(peer_band=sizes.to_numpy())
        stayed = stayed.merge(groups, on="firm_id")
        counts = stayed.groupby(["hs_chapter", "peer_band", "country_code"]).size()
        counts = counts.rename("group_count").reset_index()
        near = pd.DataFrame(
            [(band, other) for band in BANDS for other in BANDS
             if abs(BANDS.index(band) - BANDS.index(other)) <= 1],
            columns=["size_band", "peer_band"],
        )  # fmt: skip
        rows = firms[["firm_id", "hs_chapter", "size_band"]].merge(near, on="size_band")
        rows = rows.merge(counts, on=["hs_chapter", "peer_band"])
        rows = rows.groupby(["firm_id", "country_code"], as_index=False)["group_count"].sum()
        own = stayed.groupby(["firm_id", "country_code"]).size().rename("own").reset_index()
        rows = rows.merge(own, on=["firm_id", "country_code"], how="left")
        rows["peer_count"] = rows["group_count"] - rows["own"].fillna(0)
        return rows[["firm_id", "country_code", "peer_count"]]
