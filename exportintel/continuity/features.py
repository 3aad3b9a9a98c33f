"""Features of the export continuity index at the end of year T, leak-free.

One row per firm that exported in year T, built only from what was known by the end of T:

- exports up to T (`export_history`), the status of T (`export_status`: the novice flag);
- the firm's latest figures of a year up to T (`firm_financials`);
- the latest credit grade issued up to 31 December of T (`credit_evaluations`);
- exchange rates, commodity prices and trade flows of years T-1 and T, and the travel
  advisories in effect on 31 December of T.

The label (`target.with_label`) is the only column that looks past T. Feature definitions
are the field descriptions of the `continuity_features` contract (and the data dictionary);
the functions below are their implementation, each a DataFrame -> DataFrame step keyed by
(firm_id, year) so that a test can check one family at a time.

Conventions: a year's value of a market series is its yearly mean; a change is the natural
log of this year's mean over last year's. A firm's destinations are weighted by the export
value of T to each (and cells of destination x HS chapter likewise).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from exportintel.continuity.status import exported_years, observation_window
from exportintel.continuity.tables import conform
from exportintel.continuity.target import with_label
from exportintel.contracts.continuity import CONTINUITY_FEATURES
from exportintel.contracts.datasets import CREDIT_GRADES
from exportintel.contracts.model import FieldType
from exportintel.reference.countries import KOREA, PARTNERS

KEY = ["firm_id", "year"]
OIL = "brent_crude"
# Destinations outside the reference list, and currencies the ECB does not quote over both
# years, are taken to be invoiced in US dollars, as most of Korea's exports are.
DEFAULT_CURRENCY = "USD"
# A currency's (or commodity's) yearly mean counts only when it has prices on at least this
# share of the days of the best-covered series that year: the ECB stopped quoting some
# currencies mid-year (the rouble in March 2022), and a two-month mean is not a yearly mean.
MIN_COVERAGE = 0.5

RAW_MATERIALS = (
    "copper",
    "aluminium",
    "nickel",
    "iron_ore",
    "natural_rubber",
    "cotton",
    "polyethylene",
)
# The raw material that dominates a chapter's input costs, where one clearly does (a domain
# judgement, not a published table). Other chapters (food, pharmaceuticals, glass, furniture,
# ...) take the mean change of all raw materials.
_CHAPTERS_OF_MATERIAL = {
    # petrochemicals, plastics, synthetic fibres, and goods mostly moulded or packed in plastic
    "polyethylene": ("29", "33", "34", "38", "39", "54", "55", "95", "96"),
    "natural_rubber": ("40", "64"),  # rubber articles; footwear (rubber soles)
    "cotton": ("52", "56", "57", "58", "59", "60", "61", "62", "63", "65"),
    "iron_ore": ("72", "73", "82", "83", "84", "86", "87", "89"),  # steel and steel-built goods
    "copper": ("74", "85"),  # copper; electrical machinery (wiring, windings)
    "nickel": ("75",),
    "aluminium": ("76",),
}
RAW_MATERIAL_BY_CHAPTER: dict[str, str] = {
    chapter: material
    for material, chapters in _CHAPTERS_OF_MATERIAL.items()
    for chapter in chapters
}
CURRENCY_BY_COUNTRY: dict[str, str] = {p.code: p.currency for p in PARTNERS}

FEATURES: tuple[str, ...] = tuple(
    f.name for f in CONTINUITY_FEATURES.fields if f.type == FieldType.DOUBLE
)


@dataclass(frozen=True)
class FeatureInputs:
    """The curated tables the features are built from (and the derived export status)."""

    export_history: DataFrame
    exporters: DataFrame
    firm_financials: DataFrame
    credit_evaluations: DataFrame
    fx_rates: DataFrame
    commodity_prices: DataFrame
    country_risk: DataFrame
    trade_flows: DataFrame
    export_status: DataFrame


def _year_end(year: Column) -> Column:
    return F.make_date(year, F.lit(12), F.lit(31))


def _weighted_mean(value: str, weight: str = "weight") -> Column:
    """Mean of `value` weighted by `weight` over the rows where `value` is known."""
    known = F.when(F.col(value).isNotNull(), F.col(weight))
    return F.sum(F.col(value) * F.col(weight)) / F.sum(known)


# ------------------------------------------------------------------------------ exports


def export_cells(export_history: DataFrame) -> DataFrame:
    """(firm_id, year, destination_country, hs_chapter, value): positive exports per cell."""
    return (
        export_history.where(F.col("export_value_usd") > 0)
        .groupBy(
            "firm_id",
            F.col("year").cast("int").alias("year"),
            "destination_country",
            F.substring("hs_code", 1, 2).alias("hs_chapter"),
        )
        .agg(F.sum("export_value_usd").alias("value"))
    )


def population(export_history: DataFrame) -> DataFrame:
    """Every firm-year with exports: value, destinations, HS6 codes and the main chapter."""
    exported = export_history.where(F.col("export_value_usd") > 0)
    totals = exported.groupBy("firm_id", F.col("year").cast("int").alias("year")).agg(
        F.sum("export_value_usd").alias("value"),
        F.countDistinct("destination_country").cast("double").alias("destinations"),
        F.countDistinct("hs_code").cast("double").alias("hs_codes"),
    )
    chapters = (
        export_cells(export_history).groupBy(*KEY, "hs_chapter").agg(F.sum("value").alias("v"))
    )
    # The largest chapter; on a tie the lower chapter number, so reruns agree.
    rank = Window.partitionBy(*KEY).orderBy(F.col("v").desc(), F.col("hs_chapter"))
    main = chapters.withColumn("_rank", F.row_number().over(rank)).where("_rank = 1")
    return totals.join(main.select(*KEY, "hs_chapter"), KEY, "left")


def destination_weights(cells: DataFrame) -> DataFrame:
    """(firm_id, year, destination_country, weight): share of the year's export value."""
    per_destination = cells.groupBy(*KEY, "destination_country").agg(F.sum("value").alias("v"))
    total = F.sum("v").over(Window.partitionBy(*KEY))
    return per_destination.select(*KEY, "destination_country", (F.col("v") / total).alias("weight"))


def trajectory_features(
    rows: DataFrame,
    export_history: DataFrame,
    founding: DataFrame,
    *,
    first_observed_year: int,
    last_observed_year: int,
) -> DataFrame:
    """Years exported, time since the first export, last year's exports and value trends.

    `rows` holds (firm_id, year, value) of the exported firm-years; `founding` holds
    (firm_id, founding_year).
    """
    years = exported_years(export_history)
    value_of = rows.select("firm_id", F.col("year").alias("_y"), F.col("value").alias("_v"))
    frame = rows.join(years, "firm_id", "left").join(founding, "firm_id", "left")
    year, found = F.col("year"), F.col("founding_year")

    def observed(y: Column) -> Column:
        return (
            (y >= F.lit(first_observed_year))
            & (y <= F.lit(last_observed_year))
            & (found.isNull() | (y >= found))
        )

    up_to_t = F.filter("years", lambda e: e <= year)
    previous = rows.select(
        "firm_id", (F.col("year") + 1).alias("year"), F.col("value").alias("_prev")
    )
    frame = frame.join(previous, KEY, "left")
    features = frame.select(
        *KEY,
        F.size(up_to_t).cast("double").alias("years_exported"),
        (year - F.array_min(up_to_t)).cast("double").alias("years_since_first_export"),
        F.when(observed(year - 1), F.array_contains("years", year - 1).cast("double")).alias(
            "exported_prev_year"
        ),
        F.log(F.col("value")).alias("export_value_log"),
        F.log(F.col("value") / F.col("_prev")).alias("export_value_growth"),
    )

    # Slope of the value over the years of T-2..T with exports: the intensive margin only,
    # whether the firm exported at all is `exported_prev_year` and `years_exported`.
    points = (
        rows.select(*KEY, F.explode(F.array(*(year - k for k in (2, 1, 0)))).alias("_y"))
        .join(value_of, ["firm_id", "_y"])
        .select(*KEY, F.col("_y").cast("double").alias("x"), F.log(F.col("_v")).alias("y"))
    )
    slope = points.groupBy(*KEY).agg(F.expr("regr_slope(y, x)").alias("export_value_slope"))
    return features.join(slope, KEY, "left")


# ------------------------------------------------------------------------------ firm data


def _latest(rows: DataFrame, candidates: DataFrame, when: str, known_by: Column) -> DataFrame:
    """For each (firm_id, year) of `rows`, the candidate rows of the latest `when` <= known_by."""
    joined = rows.select(*KEY).join(candidates, "firm_id").where(known_by)
    latest = F.max(when).over(Window.partitionBy(*KEY))
    return joined.withColumn("_latest", latest).where(F.col(when) == F.col("_latest"))


def financial_features(rows: DataFrame, firm_financials: DataFrame) -> DataFrame:
    """Capability and stability figures of the latest firm year up to T."""
    figures = firm_financials.select(
        "firm_id",
        F.col("year").cast("int").alias("figures_year"),
        *(
            F.col(name).cast("double").alias(name)
            for name in (
                "target_language_staff",
                "overseas_marketing_staff",
                "exhibitions",
                "certifications",
                "net_income_krw_mn",
                "employees",
                "revenue_growth_pct",
            )
        ),
    )
    latest = _latest(rows, figures, "figures_year", F.col("figures_year") <= F.col("year"))
    # A firm year is one row (the primary key); first() only guards against replays.
    return latest.groupBy(*KEY).agg(
        *(F.first(c).alias(c) for c in figures.columns if c not in ("firm_id", "figures_year"))
    )


def credit_features(rows: DataFrame, credit_evaluations: DataFrame) -> DataFrame:
    """The latest credit grade issued by 31 December of T, as 0 (AAA) .. 9 (D)."""
    index = F.create_map(*(F.lit(v) for i, g in enumerate(CREDIT_GRADES) for v in (g, float(i))))
    evaluations = credit_evaluations.select(
        "firm_id", "evaluated_on", F.element_at(index, F.col("grade")).alias("grade_index")
    ).where(F.col("grade_index").isNotNull())
    latest = _latest(
        rows, evaluations, "evaluated_on", F.col("evaluated_on") <= _year_end(F.col("year"))
    )
    return latest.groupBy(*KEY).agg(F.avg("grade_index").alias("credit_grade"))


# ------------------------------------------------------------------------------ markets


def yearly_change(series: DataFrame, key: str, day: str, value: str) -> DataFrame:
    """(key, year, change): ln of the yearly mean over the previous year's, per series.

    A series-year counts only with prices on at least MIN_COVERAGE of the days of the best-
    covered series of that year; no change without both years.
    """
    yearly = (
        series.where(F.col(value) > 0)
        .groupBy(key, F.year(day).alias("year"))
        .agg(F.avg(value).alias("mean"), F.countDistinct(day).alias("days"))
    )
    best = F.max("days").over(Window.partitionBy("year"))
    covered = yearly.withColumn("_best", best).where(
        F.col("days") >= F.lit(MIN_COVERAGE) * F.col("_best")
    )
    before = covered.select(key, (F.col("year") + 1).alias("year"), F.col("mean").alias("_before"))
    return covered.join(before, [key, "year"]).select(
        key, "year", F.log(F.col("mean") / F.col("_before")).alias("change")
    )


def fx_features(weights: DataFrame, fx_rates: DataFrame) -> DataFrame:
    """Value-weighted log change of KRW per unit of the destinations' currencies in T."""
    spark = weights.sparkSession
    currencies = spark.createDataFrame(
        sorted(CURRENCY_BY_COUNTRY.items()), "destination_country string, currency string"
    )
    change = yearly_change(fx_rates, "currency", "rate_date", "krw_per_unit")
    local = change.select("currency", "year", F.col("change").alias("_local"))
    default = change.where(F.col("currency") == DEFAULT_CURRENCY).select(
        "year", F.col("change").alias("_default")
    )
    cells = (
        weights.join(F.broadcast(currencies), "destination_country", "left")
        .join(local, ["currency", "year"], "left")
        .join(default, "year", "left")
        .withColumn("fx", F.coalesce("_local", "_default"))
    )
    return cells.groupBy(*KEY).agg(_weighted_mean("fx").alias("fx_change"))


def commodity_features(rows: DataFrame, commodity_prices: DataFrame) -> DataFrame:
    """Oil and the main chapter's raw material: log change of the yearly mean price in T.

    `rows` holds (firm_id, year, hs_chapter).
    """
    spark = rows.sparkSession
    change = yearly_change(commodity_prices, "commodity", "price_date", "price_usd")
    oil = change.where(F.col("commodity") == OIL).select(
        "year", F.col("change").alias("oil_change")
    )
    materials = change.where(F.col("commodity").isin(*RAW_MATERIALS))
    average = materials.groupBy("year").agg(F.avg("change").alias("_average"))
    mapping = spark.createDataFrame(
        sorted(RAW_MATERIAL_BY_CHAPTER.items()), "hs_chapter string, commodity string"
    )
    specific = materials.select("commodity", "year", F.col("change").alias("_specific"))
    return (
        rows.select(*KEY, "hs_chapter")
        .join(F.broadcast(mapping), "hs_chapter", "left")
        .join(specific, ["commodity", "year"], "left")
        .join(average, "year", "left")
        .join(oil, "year", "left")
        .select(
            *KEY,
            "oil_change",
            F.when(F.col("commodity").isNull(), F.col("_average"))
            .otherwise(F.col("_specific"))
            .alias("raw_material_change"),
        )
    )


def crisis_features(weights: DataFrame, country_risk: DataFrame) -> DataFrame:
    """Advisory levels in effect on 31 December of T in the destinations (0 without one)."""
    years = weights.select("year").distinct()
    in_effect = (
        country_risk.select("country_code", "effective_date", "advisory_level")
        .crossJoin(F.broadcast(years))
        .where(F.col("effective_date") <= _year_end(F.col("year")))
    )
    latest = Window.partitionBy("country_code", "year").orderBy(F.col("effective_date").desc())
    level = (
        in_effect.withColumn("_rank", F.row_number().over(latest))
        .where("_rank = 1")
        .select(
            F.col("country_code").alias("destination_country"),
            "year",
            F.col("advisory_level").cast("double").alias("level"),
        )
    )
    cells = weights.join(level, ["destination_country", "year"], "left").withColumn(
        "level", F.coalesce("level", F.lit(0.0))
    )
    return cells.groupBy(*KEY).agg(
        _weighted_mean("level").alias("crisis_level_mean"),
        F.max("level").alias("crisis_level_max"),
    )


def trade_features(cells: DataFrame, trade_flows: DataFrame) -> DataFrame:
    """Growth of Korea's trade into the firm's destinations in its chapters, T over T-1.

    Per destination and chapter, the destination's reported imports from Korea where it
    reports both years, else Korea's reported exports to it (chapter-level rows only).
    """
    chapters = trade_flows.where(F.length("hs_code") == 2)
    imports = chapters.where((F.col("partner_code") == KOREA) & (F.col("flow") == "import")).select(
        F.col("reporter_code").alias("destination_country"), "hs_code", "year", "trade_value_usd"
    )
    exports = chapters.where(
        (F.col("reporter_code") == KOREA) & (F.col("flow") == "export")
    ).select(
        F.col("partner_code").alias("destination_country"), "hs_code", "year", "trade_value_usd"
    )

    def growth(flows: DataFrame, name: str) -> DataFrame:
        yearly = (
            flows.where(F.col("trade_value_usd") > 0)
            .groupBy(
                "destination_country",
                F.col("hs_code").alias("hs_chapter"),
                F.col("year").cast("int").alias("year"),
            )
            .agg(F.sum("trade_value_usd").alias("v"))
        )
        before = yearly.select(
            "destination_country",
            "hs_chapter",
            (F.col("year") + 1).alias("year"),
            F.col("v").alias("_before"),
        )
        return yearly.join(before, ["destination_country", "hs_chapter", "year"]).select(
            "destination_country",
            "hs_chapter",
            "year",
            F.log(F.col("v") / F.col("_before")).alias(name),
        )

    share = cells.withColumn(
        "weight", F.col("value") / F.sum("value").over(Window.partitionBy(*KEY))
    )
    joined = (
        share.join(
            growth(imports, "_imports"), ["destination_country", "hs_chapter", "year"], "left"
        )
        .join(growth(exports, "_exports"), ["destination_country", "hs_chapter", "year"], "left")
        .withColumn("trade", F.coalesce("_imports", "_exports"))
    )
    return joined.groupBy(*KEY).agg(_weighted_mean("trade").alias("trade_flow_growth"))


# ------------------------------------------------------------------------------ together


def build_features(
    inputs: FeatureInputs,
    *,
    first_observed_year: int | None = None,
    last_observed_year: int | None = None,
) -> DataFrame:
    """The `continuity_features` table: every firm-year with exports, features and label."""
    if first_observed_year is None or last_observed_year is None:
        first, last = observation_window(inputs.export_history)
        first_observed_year = first if first_observed_year is None else first_observed_year
        last_observed_year = last if last_observed_year is None else last_observed_year

    exporters = inputs.exporters.dropDuplicates(["firm_id"])
    founding = exporters.select("firm_id", F.col("founding_year").cast("int"))
    # The firm-years and their cells feed every family: computed once (they are small, a row
    # per firm and year), not once per family. Spark frees them with the frames.
    rows = population(inputs.export_history).localCheckpoint(eager=True)
    cells = export_cells(inputs.export_history).localCheckpoint(eager=True)
    weights = destination_weights(cells)
    status = inputs.export_status.select(
        "firm_id", F.col("year").cast("int"), F.col("novice").cast("double").alias("novice")
    )
    families = [
        trajectory_features(
            rows,
            inputs.export_history,
            founding,
            first_observed_year=first_observed_year,
            last_observed_year=last_observed_year,
        ),
        status,
        financial_features(rows, inputs.firm_financials),
        credit_features(rows, inputs.credit_evaluations),
        fx_features(weights, inputs.fx_rates),
        commodity_features(rows, inputs.commodity_prices),
        crisis_features(weights, inputs.country_risk),
        trade_features(cells, inputs.trade_flows),
    ]
    frame = rows.join(exporters.select("firm_id", "region", "founding_year"), "firm_id", "left")
    frame = frame.withColumn("firm_age", (F.col("year") - F.col("founding_year")).cast("double"))
    for family in families:
        frame = frame.join(family, KEY, "left")
    # A firm exporting in T has a status row for T; novice is 0 unless the status says 1.
    frame = frame.withColumn("novice", F.coalesce("novice", F.lit(0.0)))
    frame = with_label(frame, inputs.export_status)
    return conform(frame, CONTINUITY_FEATURES)
