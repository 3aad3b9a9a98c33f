"""Contracts of the export continuity tables: statuses, features, the index, group profiles.

Derived tables (`origin="derived"`): written whole by their jobs from the curated sources, never
ingested. Shared field types and value lists come from `datasets`.
"""

from __future__ import annotations

from exportintel.continuity.status import Status
from exportintel.contracts.datasets import (
    ARR,
    BOOL,
    DBL,
    FIRST_YEAR,
    INT,
    KOREAN_REGIONS,
    LAST_YEAR,
    STR,
)
from exportintel.contracts.model import Contract, Field, PiiClass


def _firm_year_key(year_description: str) -> tuple[Field, ...]:
    return (
        Field(
            name="firm_id",
            type=STR,
            description="Agency firm id",
            format="exporter_id",
            pii=PiiClass.BUSINESS,
        ),
        Field(
            name="year",
            type=INT,
            description=year_description,
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
    )


EXPORT_STATUS = Contract(
    name="export_status",
    description=(
        "Export status of every firm in every analysis year Y by the three-year rule over "
        "Y-2, Y-1 and Y (exportintel.continuity.status), with the novice flag."
    ),
    origin="derived",
    owner="export continuity",
    primary_key=("firm_id", "year"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        *_firm_year_key("Analysis year Y"),
        Field(
            name="status",
            type=STR,
            description=(
                "continuing: exported in at least two of Y-2, Y-1, Y; discontinued: in at most "
                "one; pending: founded after Y-2, or fewer than three observed years"
            ),
            allowed=tuple(s.value for s in Status),
        ),
        Field(
            name="novice",
            type=BOOL,
            description="First export in Y-2 or later (a first export the records can vouch for)",
        ),
        Field(name="exported_y2", type=BOOL, description="Exported (a positive value) in Y-2"),
        Field(name="exported_y1", type=BOOL, description="Exported in Y-1"),
        Field(name="exported_y", type=BOOL, description="Exported in Y"),
        Field(
            name="first_export_year",
            type=INT,
            description="First year up to Y with an export record; null if none",
            required=False,
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
    ),
)


def _feature(name: str, description: str, unit: str, *, required: bool = False) -> Field:
    return Field(name=name, type=DBL, description=description, unit=unit, required=required)


# Every feature is known by the end of year T: exports up to T, the latest firm figures and
# credit grade up to T, market data up to 31 December of T (exportintel.continuity.features).
CONTINUITY_FEATURE_FIELDS = (
    # Export capability (latest firm_financials year <= T)
    _feature(
        "target_language_staff",
        "Staff speaking a target market's language, latest firm year <= T",
        "persons",
    ),
    _feature(
        "overseas_marketing_staff", "Overseas-marketing staff, latest firm year <= T", "persons"
    ),
    _feature(
        "exhibitions",
        "Overseas exhibitions attended in the latest firm year <= T",
        "count per year",
    ),
    _feature(
        "certifications", "Certifications held at the end of the latest firm year <= T", "count"
    ),
    # Stability
    _feature("firm_age", "T - founding_year (null without an agency record)", "years"),
    _feature("net_income_krw_mn", "Net income of the latest firm year <= T", "KRW million"),
    _feature("employees", "Employees at the latest firm year's end <= T", "persons"),
    _feature("revenue_growth_pct", "Revenue growth of the latest firm year <= T", "percent"),
    # Export trajectory (export_history up to T)
    _feature(
        "years_exported",
        "Years with exports from the first observed year to T",
        "years",
        required=True,
    ),
    _feature("years_since_first_export", "T - first export year on record", "years", required=True),
    _feature(
        "novice",
        "1 when a novice exporter in T (export_status.novice), else 0",
        "0/1",
        required=True,
    ),
    _feature(
        "exported_prev_year",
        "1 when the firm exported in T-1, 0 when not; null when T-1 is not observed",
        "0/1",
    ),
    _feature("export_value_log", "ln of the export value of T", "ln USD", required=True),
    _feature(
        "export_value_growth",
        "ln(export value of T / export value of T-1); null without exports in T-1",
        "ln ratio",
    ),
    _feature(
        "export_value_slope",
        "OLS slope of ln(export value) on the year over the years of T-2..T with exports; "
        "null with fewer than two",
        "ln USD per year",
    ),
    _feature("destinations", "Destination countries exported to in T", "count", required=True),
    _feature("hs_codes", "HS6 codes exported in T", "count", required=True),
    # External change (market data up to 31 December of T)
    _feature(
        "fx_change",
        "ln change of the yearly mean KRW per unit of the destinations' currencies, T over T-1, "
        "weighted by the export value of T (positive: the won weakened); USD where the local "
        "currency is not quoted both years",
        "ln ratio",
    ),
    _feature("oil_change", "ln change of the yearly mean Brent price, T over T-1", "ln ratio"),
    _feature(
        "raw_material_change",
        "ln change of the yearly mean price of the main HS chapter's raw material, T over T-1; "
        "the mean over raw materials where the chapter has none",
        "ln ratio",
    ),
    _feature(
        "crisis_level_mean",
        "Travel-advisory level in effect on 31 December of T, mean over the destinations "
        "weighted by the export value of T",
        "level 0-4",
    ),
    _feature(
        "crisis_level_max", "Highest advisory level in effect on 31 December of T", "level 0-4"
    ),
    _feature(
        "credit_grade",
        "Latest credit grade issued up to 31 December of T, 0 AAA .. 9 D (mean of the grades "
        "of that day)",
        "grade index",
    ),
    _feature(
        "trade_flow_growth",
        "ln change of Korea's trade into the destinations in the HS chapters exported, T over "
        "T-1, weighted by the firm's export value of T per destination and chapter",
        "ln ratio",
    ),
)

CONTINUITY_FEATURES = Contract(
    name="continuity_features",
    description=(
        "Leak-free features of each firm that exported in year T, as known at the end of T, "
        "with the continuity label (exportintel.continuity.features and .target)."
    ),
    origin="derived",
    owner="export continuity",
    primary_key=("firm_id", "year"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        *_firm_year_key("Year T the features describe (the firm exported in T)"),
        Field(
            name="region",
            type=STR,
            description="Province or metropolitan city of the head office",
            required=False,
            allowed=KOREAN_REGIONS,
        ),
        Field(
            name="hs_chapter",
            type=STR,
            description="Main HS chapter: the chapter of the largest export value in T",
            format="hs2",
        ),
        *CONTINUITY_FEATURE_FIELDS,
        Field(
            name="label",
            type=INT,
            description=(
                "1 when the status of T+2 is continuing (exported in T+1 or T+2), 0 when "
                "discontinued; null when T+2 is not observed yet (scored only)"
            ),
            required=False,
            allowed=(0, 1),
        ),
    ),
)


SIZE_BANDS = ("small", "medium", "large")
RISK_FACTOR_COUNT = 3

CONTINUITY_INDEX = Contract(
    name="continuity_index",
    description=(
        "The export continuity index of every scored firm-year (near 1: likely to keep "
        "exporting), the risk group and its top risk factors, with the firm's region, main HS "
        "chapter and size for slicing (exportintel.continuity.index)."
    ),
    origin="derived",
    owner="export continuity",
    primary_key=("firm_id", "year", "model_version"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        *_firm_year_key("Year T the index describes (as known at the end of T)"),
        Field(
            name="continuity_index",
            type=DBL,
            description="Calibrated probability that the firm still exports by T+2",
            minimum=0,
            maximum=1,
            unit="probability",
        ),
        Field(
            name="risk_group",
            type=BOOL,
            description="Index below the risk threshold of the settings (or of the model)",
        ),
        Field(
            name="model_version",
            type=STR,
            description="Version of the model that scored the row",
            format="identifier",
        ),
        Field(
            name="region",
            type=STR,
            description="Province or metropolitan city of the head office",
            required=False,
            allowed=KOREAN_REGIONS,
        ),
        Field(
            name="hs_chapter",
            type=STR,
            description="Main HS chapter: the chapter of the largest export value in T",
            format="hs2",
        ),
        Field(
            name="size_band",
            type=STR,
            description="Employees of the latest firm year <= T: small < 50, medium < 300, large",
            required=False,
            allowed=SIZE_BANDS,
        ),
        Field(
            name="label",
            type=INT,
            description="The observed outcome when already known (1 continuing), else null",
            required=False,
            allowed=(0, 1),
        ),
        Field(
            name="risk_factors",
            type=ARR,
            description=(
                f"Up to {RISK_FACTOR_COUNT} features pulling the index down the most, "
                "strongest first (feature names of continuity_features)"
            ),
            required=False,
        ),
        Field(
            name="risk_factors_en",
            type=ARR,
            description="The risk factors as sentences in English, same order",
            required=False,
        ),
        Field(
            name="risk_factors_ko",
            type=ARR,
            description="The risk factors as sentences in Korean, same order",
            required=False,
        ),
        Field(
            name="top_factor_contribution",
            type=DBL,
            description="Signed contribution of the first risk factor to the log-odds",
            required=False,
            unit="log-odds",
        ),
    ),
)

GROUPS = ("risk", "continuing")

CONTINUITY_GROUP_PROFILE = Contract(
    name="continuity_group_profile",
    description=(
        "The risk group against continuing firms per scored year: descriptive statistics of "
        "each continuous variable, the most frequent category and its share for each "
        "categorical one (exportintel.continuity.groups)."
    ),
    origin="derived",
    owner="export continuity",
    primary_key=("year", "model_version", "group_name", "variable"),
    partition_key="year_partition",
    partition_source="year",
    fields=(
        Field(
            name="year",
            type=INT,
            description="Scored year T",
            minimum=FIRST_YEAR,
            maximum=LAST_YEAR,
            unit="year",
        ),
        Field(
            name="model_version",
            type=STR,
            description="Version of the model whose risk group is described",
            format="identifier",
        ),
        Field(
            name="group_name",
            type=STR,
            description="risk: in the risk group; continuing: index at or above the threshold",
            allowed=GROUPS,
        ),
        Field(name="variable", type=STR, description="Feature or attribute described"),
        Field(
            name="kind",
            type=STR,
            description="continuous or categorical",
            allowed=("continuous", "categorical"),
        ),
        Field(name="firms", type=INT, description="Firms of the group in the year", minimum=0),
        Field(name="known", type=INT, description="Firms with a known value", minimum=0),
        *(
            Field(name=name, type=DBL, description=text, required=False)
            for name, text in (
                ("mean", "Mean (continuous)"),
                ("std", "Standard deviation (continuous)"),
                ("min", "Minimum (continuous)"),
                ("p25", "First quartile (continuous)"),
                ("median", "Median (continuous)"),
                ("p75", "Third quartile (continuous)"),
                ("max", "Maximum (continuous)"),
            )
        ),
        Field(
            name="top_category",
            type=STR,
            description="Most frequent category (categorical)",
            required=False,
        ),
        Field(
            name="top_share",
            type=DBL,
            description="Share of the known values in the most frequent category (categorical)",
            required=False,
            minimum=0,
            maximum=1,
            unit="share",
        ),
    ),
)

CONTRACTS = (EXPORT_STATUS, CONTINUITY_FEATURES, CONTINUITY_INDEX, CONTINUITY_GROUP_PROFILE)
