"""The raw layout is stated once: every route lands where the raw Glue tables look."""

from __future__ import annotations

import datetime as dt

from exportintel.contracts import all_contracts
from exportintel.contracts.tables import RAW_DATE_KEY, raw_table
from exportintel.ingest import layout
from exportintel.local.raw_layout import render_prefix

DAY = dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC)


def _projected(contract_name: str) -> str:
    """Where the raw table projects the partition of DAY, as a key prefix."""
    contract = next(c for c in all_contracts() if c.name == contract_name)
    template = raw_table(contract).with_bucket("bucket")["storage.location.template"]
    return template.replace(f"${{{RAW_DATE_KEY}}}", "2026-03-09").removeprefix("s3://bucket/")


def test_every_route_lands_where_its_raw_table_looks() -> None:
    for contract in all_contracts():
        if contract.origin not in layout.ROUTES:
            continue
        route = layout.route_of(contract.origin)
        if route == layout.ROUTE_STREAM:
            landed = render_prefix(layout.CLICKSTREAM_PREFIX, DAY)
        elif route == layout.ROUTE_FEEDS:
            landed = render_prefix(layout.FEEDS_PREFIX, DAY, {"dataset": contract.name})
        else:
            landed = layout.batch_key(contract.name, layout.landing_day(DAY), "")
        assert landed == _projected(contract.name), contract.name


def test_only_the_clickstream_uses_the_stream() -> None:
    streamed = [c.name for c in all_contracts() if layout.ROUTES.get(c.origin) == "kinesis"]
    assert streamed == [layout.CLICKSTREAM_DATASET]
