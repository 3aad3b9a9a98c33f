"""The pipeline's load step: a scoring run's files into the curated score tables and the
DynamoDB serving tables.

The same functions run in AWS (`sagemaker_jobs/<model>/load.py`, a processing job over the
version's `scores/` prefix) and on the emulation (`exportintel.pipeline.local`), against the
S3 lake through `LocalLake` (a table is replaced whole: pulled, rewritten, published).

- continuity: `index.parquet` joined to the features it was scored from becomes the
  `continuity_index` table; its rows of the newest version fill the continuity table, with the
  risk group's profile against continuing firms per year (from the same features). The risk
  group's changes against the index that served before are returned for the alert step.
- matching: the stored lists of both directions become the `recommendations` table; the firm
  profiles, the explained part of each list and the cold-start lists fill the serving tables.
- markets: `suggestions.parquet` becomes the `market_suggestions` table; with the cold-start
  lists and each exporter's current markets it fills the markets serving table (one item per
  exporter, per HS chapter and size band for firms scored later, and `_meta`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from exportintel.local.lake import LocalLake, NotReady, has_data
from exportintel.settings import EnvironmentSettings


@dataclass
class LoadResult:
    model: str
    version: str
    rows: int  # rows of the curated score table
    serving: dict[str, int] = field(default_factory=dict)  # items written per kind
    risk_changes: Any = None  # continuity: exportintel.continuity.alerts.RiskChanges

    def render(self) -> str:
        written = ", ".join(f"{count:,} {what}" for what, count in self.serving.items())
        return f"{self.model} {self.version}: {self.rows:,} curated rows; serving: {written}"


def _read(lake: LocalLake, table: str) -> pd.DataFrame | None:
    folder = lake.pull(table)
    return pd.read_parquet(folder, partitioning=None) if has_data(folder) else None


def _firms(lake: LocalLake) -> tuple[pd.DataFrame, pd.DataFrame]:
    exporters, buyers = _read(lake, "exporters"), _read(lake, "buyers")
    if exporters is None or buyers is None:
        raise NotReady("no curated exporters or buyers: curate the lake first")
    return exporters, buyers


def continuity_features(lake: LocalLake) -> pd.DataFrame:
    """The `continuity_features` table the scoring run scored (`NotReady` without it)."""
    from exportintel.models.tabular import read_features

    folder = lake.pull("continuity_features")
    if not has_data(folder):
        raise NotReady("no continuity_features table: derive it first")
    return read_features(folder)


def publish_index(
    lake: LocalLake, scores: Path, features: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Replace `continuity_index` with the scoring run's rows, joined to the `features` they
    were scored from; returns (new, previous)."""
    from exportintel.continuity.index import index_table
    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import write_partitioned

    previous = _read(lake, "continuity_index")
    scored = pd.read_parquet(scores / "index.parquet")
    table = index_table(scored, features)
    mirror = lake.mirror("continuity_index")
    write_partitioned(table, get_contract("continuity_index"), mirror.folder)
    lake.publish("continuity_index")
    return table.to_pandas(), previous


def publish_recommendations(lake: LocalLake, scores: Path) -> pd.DataFrame:
    """Replace `recommendations` with both directions' stored lists of the scoring run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import write_partitioned
    from exportintel.matching.scoring import OUTPUT_FILES

    files = [scores / name for name in OUTPUT_FILES.values()]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise NotReady(f"the scoring run wrote no {', '.join(missing)} in {scores}")
    table = pa.concat_tables(pq.read_table(path) for path in files)
    write_partitioned(table, get_contract("recommendations"), lake.mirror("recommendations").folder)
    lake.publish("recommendations")
    return table.to_pandas()


def load_continuity(
    lake: LocalLake, tables: Mapping[str, Any], scores: Path, version: str
) -> LoadResult:
    from exportintel.continuity.alerts import compare
    from exportintel.continuity.groups import group_profile
    from exportintel.serving.load import load_continuity_serving

    features = continuity_features(lake)
    index, previous = publish_index(lake, scores, features)
    exporters, buyers = _firms(lake)
    # Before the serving tables are written: features that miss scored rows fail the step here.
    profile = group_profile(features, index)
    serving = load_continuity_serving(
        tables,
        exporters=exporters,
        buyers=buyers,
        continuity_index=index,
        export_status=_read(lake, "export_status"),
        group_profile=profile,
    )
    names = dict(zip(exporters["firm_id"], exporters["firm_name"], strict=True))
    changes = compare(previous, index.assign(name=index["firm_id"].map(names)))
    return LoadResult("continuity", version, len(index), serving.counts, changes)


def load_matching(
    lake: LocalLake,
    tables: Mapping[str, Any],
    scores: Path,
    version: str,
    settings: EnvironmentSettings,
) -> LoadResult:
    from exportintel.serving.load import load_matching_serving

    recommendations = publish_recommendations(lake, scores)
    exporters, buyers = _firms(lake)
    serving = load_matching_serving(
        tables,
        exporters=exporters,
        buyers=buyers,
        recommendations=recommendations,
        settings=settings,
    )
    return LoadResult("matching", version, len(recommendations), serving.counts)


# What the market scoring job writes (sagemaker_jobs/markets/score.py) and the load step reads.
MARKET_FILES = ("suggestions.parquet", "cold_start.parquet", "current_markets.parquet")


def _market_frames(scores: Path) -> dict[str, pd.DataFrame]:
    missing = [name for name in MARKET_FILES if not (scores / name).is_file()]
    if missing:
        raise NotReady(f"the scoring run wrote no {', '.join(missing)} in {scores}")
    return {name: pd.read_parquet(scores / name) for name in MARKET_FILES}


def _as_of_year(suggestions: pd.DataFrame) -> int:
    years = sorted({int(year) for year in suggestions["as_of_year"]})
    if len(years) != 1:
        raise ValueError(f"suggestions.parquet holds as-of years {years}: expected exactly one")
    return years[0]


def publish_suggestions(lake: LocalLake, scores: Path) -> int:
    """Replace the curated `market_suggestions` table with a scoring run's suggestions (what
    `exportintel score markets` does; the load step also fills the serving table)."""
    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import to_arrow

    suggestions = _market_frames(scores)["suggestions.parquet"]
    table = to_arrow(suggestions, get_contract("market_suggestions"))
    _publish_suggestions(lake, table)
    return int(table.num_rows)


def _publish_suggestions(lake: LocalLake, table: Any) -> None:
    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import write_partitioned

    contract = get_contract("market_suggestions")
    write_partitioned(table, contract, lake.mirror(contract.name).folder)
    lake.publish(contract.name)


def load_markets(
    lake: LocalLake, tables: Mapping[str, Any], scores: Path, version: str
) -> LoadResult:
    """Replace `market_suggestions` with the scoring run's suggestions and write the markets
    serving table. The items are built (and the frames checked against `version`) before
    anything is replaced, so a bad scoring run leaves the table and serving as they were."""
    from exportintel.contracts import get_contract
    from exportintel.etl.arrow_tables import to_arrow
    from exportintel.serving.load import write_items
    from exportintel.serving.markets import COLD_PREFIX, META_ID, market_items

    frames = _market_frames(scores)
    suggestions = frames["suggestions.parquet"]
    contract = get_contract("market_suggestions")
    table = to_arrow(suggestions, contract)  # a missing column fails here
    items = market_items(
        suggestions,
        frames["cold_start.parquet"],
        frames["current_markets.parquet"],
        version=version,
        as_of_year=_as_of_year(suggestions),
    )
    _publish_suggestions(lake, table)
    cold = sum(1 for item in items if str(item["firm_id"]).startswith(f"{COLD_PREFIX}#"))
    meta = sum(1 for item in items if item["firm_id"] == META_ID)
    written = write_items(tables["markets"], items)
    serving = {"exporters": written - cold - meta, "cold-start lists": cold, "meta": meta}
    return LoadResult("markets", version, table.num_rows, serving)
