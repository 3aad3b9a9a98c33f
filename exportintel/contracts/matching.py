"""Contracts of the matching tables: weighted interactions and stored recommendations.

Derived tables (`origin="derived"`), written whole by their jobs (exportintel.matching).
"""

from __future__ import annotations

from collections.abc import Mapping

from exportintel.contracts.datasets import (
    ARR,
    BIGINT,
    BOOL,
    COMMODITY_PRICES,
    CREDIT_GRADES,
    DATE,
    DBL,
    FIRST_YEAR,
    INT,
    KOREAN_REGIONS,
    LAST_YEAR,
    STR,
    TS,
)
from exportintel.contracts.model import Contract, Field, FieldType, PiiClass
from exportintel.matching.interactions import (
    EVENT_TYPES,
    MATCH_EVENT_VALUES,
    MAX_WEIGHT,
    MIN_WEIGHT,
    WEB_EVENT_VALUES,
    Actor,
    Source,
)


def _values(values: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in values.items())


def _id(name: str, description: str, format_: str) -> Field:
    return Field(name=name, type=STR, description=description, format=format_,
                 pii=PiiClass.BUSINESS)  # fmt: skip


INTERACTIONS = Contract(
    name="interactions",
    description=(
        "Exporter-buyer pair interactions of the web events and the match history, each "
        "weighted by the behaviour scoring of its event, not decayed (decay is applied at "
        "training time against an as-of time; exportintel.matching.interactions). Staff and "
        "anonymous web events are not pair interactions and are left out."
    ),
    origin="derived",
    owner="matching",
    primary_key=("event_id",),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        _id("exporter_id", "Exporter of the pair", "exporter_id"),
        _id("buyer_id", "Buyer of the pair", "buyer_id"),
        Field(
            name="actor",
            type=STR,
            description=(
                "Who acted: the exporter or the buyer (a meeting held or a deal closed is a row "
                "for each side); agency: a matchmaker requested the meeting, neither firm's "
                "preference"
            ),
            allowed=tuple(a.value for a in Actor),
        ),
        Field(
            name="event_type",
            type=STR,
            description=(
                f"Web: {_values(WEB_EVENT_VALUES)}; match history: {_values(MATCH_EVENT_VALUES)}; "
                "rating (both): the post-meeting rating"
            ),
            allowed=EVENT_TYPES,
        ),
        Field(
            name="weight",
            type=DBL,
            description="The event's value (the rating for a rating, -1 to 1); not decayed",
            minimum=MIN_WEIGHT,
            maximum=MAX_WEIGHT,
            unit="preference value",
        ),
        Field(
            name="ts",
            type=TS,
            description=(
                "When: the web event's time; for match history, the start of the request date "
                "in Asia/Seoul (the only date a match records)"
            ),
            unit="timestamp, UTC",
        ),
        Field(
            name="source",
            type=STR,
            description="Curated table the interaction comes from",
            allowed=tuple(s.value for s in Source),
        ),
        Field(
            name="event_id",
            type=STR,
            description=(
                "Stable id for dedup: the web event's id, or <match_id>.<event_type> (with "
                ".<side> for the events of both sides and for ratings)"
            ),
        ),
        Field(
            name="year",
            type=INT,
            description="Calendar year of ts in Asia/Seoul",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
    ),
)

# The raw materials of commodity_prices (the crude oils are not raw materials of goods).
RAW_MATERIAL_NAMES = tuple(
    c for c in COMMODITY_PRICES.field("commodity").allowed or () if not c.endswith("_crude")
)


def _as_of() -> Field:
    return Field(
        name="as_of",
        type=DATE,
        description=(
            "Date the features are as of (default: the last date of fx_rates): firm figures of "
            "the latest year up to its year; grades, rates and prices up to the date"
        ),
        unit="date",
    )


def _side(name: str, type_: FieldType, description: str, unit: str | None = None, *,
          required: bool = False, minimum: float | None = None,
          format_: str | None = None) -> Field:  # fmt: skip
    return Field(name=name, type=type_, description=description, unit=unit, required=required,
                 minimum=minimum, format=format_)  # fmt: skip


def _product_text(of: str) -> Field:
    return Field(
        name="product_text",
        type=STR,
        description=f"{of} joined by '; ' (scrubbed of contact details at curation)",
        required=False,
        pii=PiiClass.FREE_TEXT,
    )


def _firm_age(founded: str) -> Field:
    return _side("firm_age", INT, f"Year of as_of - {founded}", "years", required=True, minimum=0)


MATCHING_EXPORTERS = Contract(
    name="matching_exporters",
    description=(
        "The exporter side of the matching model: one row per exporter founded by the as-of "
        "year, its offer, stability, capability, credit and raw-material trend as known on "
        "the as-of date (exportintel.matching.sides). No personal fields."
    ),
    origin="derived",
    owner="matching",
    primary_key=("exporter_id",),
    fields=(
        _id("exporter_id", "Agency firm id", "exporter_id"),
        _as_of(),
        Field(
            name="region",
            type=STR,
            description="Province or metropolitan city of the head office",
            allowed=KOREAN_REGIONS,
        ),
        _side(
            "hs_codes", ARR, "HS codes of the products the firm sells", required=True, format_="hs6"
        ),
        _side(
            "hs_chapters",
            ARR,
            "Distinct HS chapters of hs_codes, sorted",
            required=True,
            format_="hs2",
        ),
        _side(
            "main_hs_chapter",
            STR,
            "Chapter of the first HS code listed (the main product)",
            format_="hs2",
        ),
        _product_text("Product names as the firm wrote them,"),
        _side(
            "price_min_usd",
            DBL,
            "Lowest unit price offered",
            "USD per unit",
            required=True,
            minimum=0,
        ),
        _side(
            "price_max_usd",
            DBL,
            "Highest unit price offered",
            "USD per unit",
            required=True,
            minimum=0,
        ),
        _side(
            "monthly_capacity_units",
            BIGINT,
            "Volume the firm can supply",
            "units per month",
            required=True,
            minimum=0,
        ),
        _firm_age("founding_year"),
        _side(
            "figures_year",
            INT,
            "Latest firm_financials year up to the as-of year (the "
            "figures below); null without one",
            "year",
        ),
        _side("employees", INT, "Employees at the end of figures_year", "persons", minimum=0),
        _side("net_income_krw_mn", DBL, "Net income of figures_year", "KRW million"),
        _side("revenue_growth_pct", DBL, "Revenue growth of figures_year", "percent"),
        _side("operating_profit_krw_mn", DBL, "Operating profit of figures_year", "KRW million"),
        _side("capital_krw_mn", DBL, "Paid-in capital in figures_year", "KRW million", minimum=0),
        _side(
            "target_language_staff",
            INT,
            "Staff speaking a target market's language, figures_year",
            "persons",
            minimum=0,
        ),
        _side(
            "overseas_marketing_staff",
            INT,
            "Overseas-marketing staff, figures_year",
            "persons",
            minimum=0,
        ),
        _side(
            "exhibitions",
            INT,
            "Overseas exhibitions attended in figures_year",
            "count per year",
            minimum=0,
        ),
        _side(
            "certifications",
            INT,
            "Certifications held at the end of figures_year",
            "count",
            minimum=0,
        ),
        Field(
            name="credit_grade",
            type=DBL,
            description=(
                "Latest credit grade issued up to as_of, 0 AAA .. 9 D (mean of the grades of "
                "that day); null without one"
            ),
            required=False,
            minimum=0,
            maximum=len(CREDIT_GRADES) - 1,
            unit="grade index",
        ),
        Field(
            name="raw_material",
            type=STR,
            description=(
                "Main raw material of main_hs_chapter (exportintel.continuity.features); null "
                "where the chapter has none (raw_material_change is then the mean over raw "
                "materials)"
            ),
            required=False,
            allowed=RAW_MATERIAL_NAMES,
        ),
        _side(
            "raw_material_change",
            DBL,
            "ln(price at as_of / price 365 days before) of "
            "raw_material, or the mean of that change over the raw materials; a price is the "
            "last one of the 7 days up to the day",
            "ln ratio",
        ),
    ),
)

MATCHING_BUYERS = Contract(
    name="matching_buyers",
    description=(
        "The buyer side of the matching model: one row per buyer founded by the as-of year, "
        "its wishes, stability, credit flag and exchange-rate trend as known on the as-of date "
        "(exportintel.matching.sides). Bad-credit buyers are kept, flagged: the recommender "
        "never recommends them. No personal fields."
    ),
    origin="derived",
    owner="matching",
    primary_key=("buyer_id",),
    fields=(
        _id("buyer_id", "Agency buyer id", "buyer_id"),
        _as_of(),
        _side("country_code", STR, "Country of the buyer", required=True, format_="iso_country"),
        _side("currency", STR, "Currency the buyer pays in", required=True, format_="iso_currency"),
        _side(
            "hs_codes_wanted",
            ARR,
            "HS codes the buyer wants to source",
            required=True,
            format_="hs6",
        ),
        _side(
            "hs_chapters_wanted",
            ARR,
            "Distinct HS chapters of hs_codes_wanted, sorted",
            required=True,
            format_="hs2",
        ),
        _side("main_hs_chapter", STR, "Chapter of the first HS code wanted", format_="hs2"),
        _product_text("Wanted products as the buyer wrote them,"),
        _side(
            "desired_price_min_usd",
            DBL,
            "Lowest acceptable unit price",
            "USD per unit",
            required=True,
            minimum=0,
        ),
        _side(
            "desired_price_max_usd",
            DBL,
            "Highest acceptable unit price",
            "USD per unit",
            required=True,
            minimum=0,
        ),
        _side(
            "desired_volume_units",
            BIGINT,
            "Volume wanted",
            "units per month",
            required=True,
            minimum=0,
        ),
        _side("annual_revenue_usd", DBL, "Annual revenue", "USD per year", minimum=0),
        _firm_age("founding_year"),
        _side("employees", INT, "Number of employees", "persons", minimum=0),
        Field(
            name="bad_credit", type=BOOL, description="Flagged for bad credit: never recommended"
        ),
        _side(
            "fx_currency",
            STR,
            "Currency of fx_change: the buyer's, or USD where the ECB "
            "does not quote it at both ends; null without a change",
            format_="iso_currency",
        ),
        _side(
            "fx_change",
            DBL,
            "ln(KRW per unit of fx_currency at as_of / 365 days before); "
            "positive: the won weakened, Korean goods are cheaper for the buyer; 0 for KRW; a "
            "rate is the last one of the 7 days up to the day",
            "ln ratio",
        ),
    ),
)


# Query side of a recommendation list: buyers for an exporter, or exporters for a buyer.
RECOMMENDATION_DIRECTIONS = ("buyers_for_exporter", "exporters_for_buyer")


def _probability(name: str, description: str) -> Field:
    return Field(name=name, type=DBL, description=description, minimum=0, maximum=1,
                 unit="probability")  # fmt: skip


def _reasons(name: str, description: str) -> Field:
    return Field(name=name, type=ARR, description=description, required=False)


RECOMMENDATIONS = Contract(
    name="recommendations",
    description=(
        "The stored top K candidates of every exporter (buyers) and of every buyer (exporters) "
        "of a matching model, ranked by the reciprocal score, with the reasons and the shown "
        "draw of one serving (exportintel.matching.scoring). Pairs already seen in the "
        "training data and bad-credit buyers never appear."
    ),
    origin="derived",
    owner="matching",
    primary_key=("model_version", "direction", "exporter_id", "buyer_id"),
    fields=(
        _id("exporter_id", "Exporter of the pair", "exporter_id"),
        _id("buyer_id", "Buyer of the pair", "buyer_id"),
        Field(
            name="direction",
            type=STR,
            description=(
                "buyers_for_exporter: the exporter's list (rank among its buyers); "
                "exporters_for_buyer: the buyer's list"
            ),
            allowed=RECOMMENDATION_DIRECTIONS,
        ),
        Field(
            name="rank",
            type=INT,
            description="Position in the query firm's list by score, 1 = best",
            minimum=1,
        ),
        _probability(
            "score",
            "Reciprocal score: harmonic mean of p_exporter and p_buyer (high only when both "
            "sides are likely to engage)",
        ),
        _probability(
            "p_exporter", "Calibrated probability that the exporter engages with the buyer"
        ),
        _probability("p_buyer", "Calibrated probability that the buyer engages with the exporter"),
        Field(
            name="shown_rank",
            type=INT,
            description=(
                "Position among the recommendations drawn for one serving (Gumbel top-k over "
                "the stored list, temperature explore); null when not drawn"
            ),
            required=False,
            minimum=1,
        ),
        _reasons("reason_codes", "Reason codes, the strongest first (e.g. code_match:hs_codes)"),
        _reasons(
            "reason_values",
            "The pair's value behind each reason, same order; empty for a reason without a "
            "single value (taste fit, similar partners)",
        ),
        _reasons("reasons_en", "The reasons as sentences in English, same order"),
        _reasons("reasons_ko", "The reasons as sentences in Korean, same order"),
        Field(
            name="model_version",
            type=STR,
            description="Version of the matching model that scored the pair",
            format="identifier",
        ),
    ),
)


CONTRACTS: tuple[Contract, ...] = (
    INTERACTIONS,
    MATCHING_EXPORTERS,
    MATCHING_BUYERS,
    RECOMMENDATIONS,
)
