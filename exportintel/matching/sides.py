"""Side features of the matching model: one row per exporter and one per buyer, as of a date.

The content half of the recommender (and the cold start of new firms) reads what each side
offers or wants and how solid it is, as known on the as-of date (default: the last date of
`fx_rates`, the freshest daily feed):

- exporters (`matching_exporters`): the offer (HS codes and chapters, product names, price
  range, monthly capacity, region), the figures of the latest firm year up to the as-of year
  (`firm_financials`: stability and export capability), the latest credit grade issued up to
  the as-of date, and the price trend of the main raw material of the main HS chapter (the
  lookup of `exportintel.continuity.features`);
- buyers (`matching_buyers`): the wishes (HS codes, products, desired price and volume),
  country and currency, revenue, age, employees, the bad-credit flag, and the trend of the
  won against the buyer's currency.

Conventions: the main HS chapter is the chapter of the first HS code listed (a firm lists its
main product first). Firm age is the as-of year minus the founding year; firms founded after
the as-of year did not exist yet and have no row. A trend over "the last year" is
ln(value on the as-of date / value 365 days before), a day's value being the last quote of the
`STALE_DAYS` days up to it (rates and prices are quoted on business days only; a series that
stopped, such as the rouble in March 2022, has no value and no trend). A buyer's currency that
is not quoted at both ends takes the US dollar's trend, as most of Korea's exports are invoiced
in dollars; the won itself has no change.

No personal fields: contacts are pseudonymised or dropped at curation and not carried here;
firm names are left out too (the model needs none).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from exportintel.continuity.features import DEFAULT_CURRENCY, RAW_MATERIAL_BY_CHAPTER, RAW_MATERIALS
from exportintel.continuity.tables import conform
from exportintel.contracts.datasets import CREDIT_GRADES
from exportintel.contracts.matching import MATCHING_BUYERS, MATCHING_EXPORTERS

YEAR_DAYS = 365
# Weekends and holidays (up to five days around the new year and Easter in the ECB calendar).
STALE_DAYS = 7
HOME_CURRENCY = "KRW"
TEXT_SEPARATOR = "; "
FIGURES = (
    "employees",
    "net_income_krw_mn",
    "revenue_growth_pct",
    "operating_profit_krw_mn",
    "capital_krw_mn",
    "target_language_staff",
    "overseas_marketing_staff",
    "exhibitions",
    "certifications",
)


def default_as_of(fx_rates: DataFrame) -> dt.date:
    """The last date of `fx_rates`: the as-of date when none is given."""
    row = fx_rates.agg(F.max("rate_date").alias("last")).first()
    if row is None or row["last"] is None:
        raise ValueError("fx_rates is empty: give the as-of date")
    last: dt.date = row["last"]
    return last


def _chapters(codes: Column) -> Column:
    """Distinct HS chapters of a list of HS codes, sorted."""
    return F.array_sort(F.array_distinct(F.transform(codes, lambda c: F.substring(c, 1, 2))))


def _text(names: Column) -> Column:
    """A list of names as one text; null when there is none."""
    return F.when(F.size(names) > 0, F.array_join(names, TEXT_SEPARATOR))


def change_over_year(
    series: DataFrame, key: str, day: str, value: str, as_of: dt.date
) -> DataFrame:
    """(key, change): ln(value on as_of / value 365 days before), per series.

    A day's value is the last positive quote of the STALE_DAYS days up to it; no change
    without a value at both ends.
    """
    ends = {"_end": as_of, "_start": as_of - dt.timedelta(days=YEAR_DAYS)}
    quotes = []
    for name, moment in ends.items():
        window = series.where(
            (F.col(day) <= F.lit(moment))
            & (F.col(day) > F.lit(moment - dt.timedelta(days=STALE_DAYS)))
            & (F.col(value) > 0)
        )
        # The last day's quote; a replayed day (same key and day twice) is one quote.
        latest = Window.partitionBy(key).orderBy(F.col(day).desc(), F.col(value))
        quotes.append(
            window.withColumn("_rank", F.row_number().over(latest))
            .where("_rank = 1")
            .select(key, F.col(value).alias(name))
        )
    last, first = quotes
    return last.join(first, key).select(key, F.log(F.col("_end") / F.col("_start")).alias("change"))


def _founded_by(frame: DataFrame, as_of: dt.date) -> DataFrame:
    return frame.where(F.col("founding_year") <= F.lit(as_of.year))


# ------------------------------------------------------------------------------ exporters


def latest_figures(firm_financials: DataFrame, as_of: dt.date) -> DataFrame:
    """(firm_id, figures_year, figures...): the latest firm year up to the as-of year."""
    known = firm_financials.where(F.col("year") <= F.lit(as_of.year))
    # A firm year is one row (the primary key); the ordering only guards against replays.
    latest = Window.partitionBy("firm_id").orderBy(F.col("year").desc())
    return (
        known.withColumn("_rank", F.row_number().over(latest))
        .where("_rank = 1")
        .select("firm_id", F.col("year").cast("int").alias("figures_year"), *FIGURES)
    )


def latest_grade(credit_evaluations: DataFrame, as_of: dt.date) -> DataFrame:
    """(firm_id, credit_grade): the grade issued last up to as_of, 0 (AAA) .. 9 (D); the mean
    where bureaus issued grades that same day."""
    index = F.create_map(*(F.lit(v) for i, g in enumerate(CREDIT_GRADES) for v in (g, float(i))))
    grades = credit_evaluations.where(F.col("evaluated_on") <= F.lit(as_of)).select(
        "firm_id", "evaluated_on", F.element_at(index, F.col("grade")).alias("grade_index")
    )
    grades = grades.where(F.col("grade_index").isNotNull())
    last = F.max("evaluated_on").over(Window.partitionBy("firm_id"))
    return (
        grades.withColumn("_last", last)
        .where(F.col("evaluated_on") == F.col("_last"))
        .groupBy("firm_id")
        .agg(F.avg("grade_index").alias("credit_grade"))
    )


def raw_material_trend(
    chapters: DataFrame, commodity_prices: DataFrame, as_of: dt.date
) -> DataFrame:
    """(main_hs_chapter, raw_material, raw_material_change) for the chapters of `chapters`:
    the chapter's raw material and its change over the last year; for a chapter without one,
    no material and the mean change over the raw materials."""
    spark = chapters.sparkSession
    change = change_over_year(
        commodity_prices.where(F.col("commodity").isin(*RAW_MATERIALS)),
        "commodity",
        "price_date",
        "price_usd",
        as_of,
    )
    average = change.agg(F.avg("change").alias("_average"))
    mapping = spark.createDataFrame(
        sorted(RAW_MATERIAL_BY_CHAPTER.items()), "main_hs_chapter string, raw_material string"
    )
    specific = change.select(
        F.col("commodity").alias("raw_material"), F.col("change").alias("_specific")
    )
    return (
        chapters.select("main_hs_chapter")
        .distinct()
        .join(F.broadcast(mapping), "main_hs_chapter", "left")
        .join(specific, "raw_material", "left")
        .crossJoin(average)
        .select(
            "main_hs_chapter",
            "raw_material",
            F.when(F.col("raw_material").isNull(), F.col("_average"))
            .otherwise(F.col("_specific"))
            .alias("raw_material_change"),
        )
    )


def exporter_sides(
    exporters: DataFrame,
    firm_financials: DataFrame,
    credit_evaluations: DataFrame,
    commodity_prices: DataFrame,
    *,
    as_of: dt.date,
) -> DataFrame:
    """The `matching_exporters` table (conformed to its contract)."""
    firms = _founded_by(exporters.dropDuplicates(["firm_id"]), as_of).select(
        F.col("firm_id"),
        "region",
        "hs_codes",
        _chapters(F.col("hs_codes")).alias("hs_chapters"),
        F.substring(F.element_at("hs_codes", 1), 1, 2).alias("main_hs_chapter"),
        _text(F.col("product_names")).alias("product_text"),
        "price_min_usd",
        "price_max_usd",
        "monthly_capacity_units",
        (F.lit(as_of.year) - F.col("founding_year")).alias("firm_age"),
    )
    frame = (
        firms.join(latest_figures(firm_financials, as_of), "firm_id", "left")
        .join(latest_grade(credit_evaluations, as_of), "firm_id", "left")
        .join(raw_material_trend(firms, commodity_prices, as_of), "main_hs_chapter", "left")
        .withColumnRenamed("firm_id", "exporter_id")
        .withColumn("as_of", F.lit(as_of))
    )
    return conform(frame, MATCHING_EXPORTERS)


# ------------------------------------------------------------------------------ buyers


def buyer_sides(buyers: DataFrame, fx_rates: DataFrame, *, as_of: dt.date) -> DataFrame:
    """The `matching_buyers` table (conformed to its contract)."""
    change = change_over_year(fx_rates, "currency", "rate_date", "krw_per_unit", as_of)
    own = change.select(F.col("currency"), F.col("change").alias("_own"))
    # One row, null when the dollar has no change: every buyer keeps its row.
    default = change.agg(
        F.max(F.when(F.col("currency") == F.lit(DEFAULT_CURRENCY), F.col("change"))).alias(
            "_default"
        )
    )
    frame = (
        _founded_by(buyers.dropDuplicates(["buyer_id"]), as_of)
        .join(own, "currency", "left")
        .crossJoin(default)
    )
    home = F.col("currency") == F.lit(HOME_CURRENCY)
    fx_currency = (
        F.when(home, F.col("currency"))
        .when(F.col("_own").isNotNull(), F.col("currency"))
        .when(F.col("_default").isNotNull(), F.lit(DEFAULT_CURRENCY))
    )
    fx_change = F.when(home, F.lit(0.0)).otherwise(F.coalesce("_own", "_default"))
    return conform(
        frame.select(
            "buyer_id",
            F.lit(as_of).alias("as_of"),
            "country_code",
            "currency",
            "hs_codes_wanted",
            _chapters(F.col("hs_codes_wanted")).alias("hs_chapters_wanted"),
            F.substring(F.element_at("hs_codes_wanted", 1), 1, 2).alias("main_hs_chapter"),
            _text(F.col("products_wanted")).alias("product_text"),
            "desired_price_min_usd",
            "desired_price_max_usd",
            "desired_volume_units",
            "annual_revenue_usd",
            (F.lit(as_of.year) - F.col("founding_year")).alias("firm_age"),
            "employees",
            "bad_credit",
            fx_currency.alias("fx_currency"),
            fx_change.alias("fx_change"),
        ),
        MATCHING_BUYERS,
    )
