"""The Glue jobs that derive tables from the curated lake: script, tables read, tables written.

Declared once: the CDK app makes one Glue job of each (with read access to exactly the
tables it reads and write access to exactly those it writes), and every script takes one
`--<table>-path` argument per table in either list. The curation jobs, one per dataset that
lands in raw, are not listed: they follow from the contracts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DerivedJob:
    name: str  # glue_scripts/<name>.py
    description: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    @property
    def script(self) -> str:
        return f"{self.name}.py"

    @property
    def tables(self) -> tuple[str, ...]:
        return (*self.reads, *self.writes)


def path_option(table: str) -> str:
    """The script argument naming a table's folder: `--export-history-path`."""
    return f"--{table.replace('_', '-')}-path"


EXPORT_STATUS = DerivedJob(
    name="export_status",
    description="Export status of every firm and analysis year (the three-year rule)",
    reads=("export_history", "exporters"),
    writes=("export_status",),
)
CONTINUITY_FEATURES = DerivedJob(
    name="continuity_features",
    description="Leak-free continuity features and labels of every firm-year with exports",
    reads=(
        "export_history",
        "exporters",
        "firm_financials",
        "credit_evaluations",
        "fx_rates",
        "commodity_prices",
        "country_risk",
        "trade_flows",
        "export_status",
    ),
    writes=("continuity_features",),
)
MATCHING_INPUTS = DerivedJob(
    name="matching_inputs",
    description="Weighted pair interactions and side features of the matching model",
    reads=(
        "web_events",
        "match_history",
        "exporters",
        "buyers",
        "firm_financials",
        "credit_evaluations",
        "fx_rates",
        "commodity_prices",
    ),
    writes=("interactions", "matching_exporters", "matching_buyers"),
)

DERIVED_JOBS = (EXPORT_STATUS, CONTINUITY_FEATURES, MATCHING_INPUTS)
