"""Where records land in the raw zone: one statement of the layout for producers and the emulation.

Every dataset lands under `<dataset>/dt=<landing day>/` of the raw bucket, the prefix the raw
Glue tables project (`exportintel.contracts.tables.raw_table`):

- clickstream (`web_events`): Kinesis -> Firehose with the prefix `CLICKSTREAM_PREFIX`;
- external feeds: direct-PUT Firehose with dynamic partitioning, `FEEDS_PREFIX`, the dataset
  taken from each record's `DATASET_FIELD` by `FEEDS_PARTITION_QUERY`;
- agency extracts: whole files, put by the ingestion CLI at `batch_key(...)`.

The landing day is the UTC calendar day, as Firehose's `!{timestamp:...}` gives it by default
(Athena evaluates the raw tables' `NOW` projection bound in UTC too), so the three routes agree
on what `dt` means.

Every producer ends each record with a newline: Kinesis and Firehose join records without a
delimiter, and raw objects must be JSON Lines. (The feeds delivery stream also appends one
itself, which leaves blank lines in AWS that the ETL skips.)

The CDK ingestion unit (`infra/ingestion.py`) and the local emulation import these constants.
"""

from __future__ import annotations

import datetime as dt

from exportintel.contracts.tables import RAW_DATE_KEY

CLICKSTREAM_DATASET = "web_events"
DATASET_FIELD = "_dataset"
# A line of an external feed that is not a JSON object still has to carry its dataset to be
# partitioned: it is wrapped as {"_dataset": ..., "_malformed": "<the line>"} and left for the
# ETL to quarantine with the original text.
MALFORMED_FIELD = "_malformed"

CLICKSTREAM_PREFIX = f"{CLICKSTREAM_DATASET}/{RAW_DATE_KEY}=!{{timestamp:yyyy-MM-dd}}/"
CLICKSTREAM_ERROR_PREFIX = (
    f"errors/{CLICKSTREAM_DATASET}/!{{firehose:error-output-type}}/"
    f"{RAW_DATE_KEY}=!{{timestamp:yyyy-MM-dd}}/"
)
FEEDS_PREFIX = f"!{{partitionKeyFromQuery:dataset}}/{RAW_DATE_KEY}=!{{timestamp:yyyy-MM-dd}}/"
FEEDS_ERROR_PREFIX = (
    f"errors/feeds/!{{firehose:error-output-type}}/{RAW_DATE_KEY}=!{{timestamp:yyyy-MM-dd}}/"
)
FEEDS_PARTITION_QUERY = f'{{"dataset":.{DATASET_FIELD}}}'

# How each contract origin reaches the raw zone.
ROUTE_STREAM = "kinesis"
ROUTE_FEEDS = "firehose"
ROUTE_BATCH = "s3"
ROUTES = {
    "clickstream": ROUTE_STREAM,
    "external feed": ROUTE_FEEDS,
    "agency extract": ROUTE_BATCH,
}


def landing_day(now: dt.datetime | None = None) -> str:
    """The raw partition day (`dt`) of something landing at `now` (default: this instant)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("landing_day needs an aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


def batch_key(dataset: str, day: str, file_name: str) -> str:
    """The raw object key of an agency extract file landing on `day`."""
    return f"{dataset}/{RAW_DATE_KEY}={day}/{file_name}"


def route_of(origin: str) -> str:
    """The ingestion route of a contract origin; derived datasets are not ingested."""
    try:
        return ROUTES[origin]
    except KeyError:
        raise ValueError(f"datasets of origin {origin!r} are not ingested") from None
