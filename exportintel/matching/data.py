"""The matching channel: interactions and optional side tables, read and checked once.

The contract is generic so that any interaction data trains the recommender:

- `interactions.parquet` (required): one row per event with `exporter_id`, `buyer_id`,
  `weight` (the event's preference value, negative for a bad rating) and `ts` (when), and
  optionally `actor` (who acted: "exporter", "buyer", anything else counts for both sides)
  and `event_type` (kept for the record, never needed);
- `exporters.parquet` keyed `exporter_id` and `buyers.parquet` keyed `buyer_id` (optional):
  any columns, numeric, boolean, categorical strings, free text, or lists of codes. A buyer's
  `bad_credit` column, when present, keeps that buyer out of every output.

Bad input raises `DataError` with a message that says what is wrong and what to change; the
jobs turn it into exit code 1 and SageMaker's failure reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.models.tabular import DataError

EXPORTER_ID = "exporter_id"
BUYER_ID = "buyer_id"
WEIGHT = "weight"
TS = "ts"
ACTOR = "actor"
EVENT_TYPE = "event_type"
BAD_CREDIT = "bad_credit"
INTERACTION_COLUMNS = (EXPORTER_ID, BUYER_ID, WEIGHT, TS)

INTERACTIONS_FILE = "interactions.parquet"
EXPORTERS_FILE = "exporters.parquet"
BUYERS_FILE = "buyers.parquet"

# Actors that speak for one side only; every other value (agency, a matchmaker, unknown)
# counts as both sides' interest.
EXPORTER_ACTOR = "exporter"
BUYER_ACTOR = "buyer"

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


@dataclass(frozen=True)
class MatchingData:
    """The checked channel. Interactions: ids as strings, weight float64, ts naive UTC."""

    interactions: pd.DataFrame
    exporters: pd.DataFrame | None = None
    buyers: pd.DataFrame | None = None

    def before(self, moment: pd.Timestamp) -> MatchingData:
        """The same data with only the interactions strictly before `moment`."""
        kept = self.interactions[self.interactions[TS] < moment]
        return MatchingData(kept.reset_index(drop=True), self.exporters, self.buyers)

    @property
    def last_moment(self) -> pd.Timestamp:
        return pd.Timestamp(self.interactions[TS].max())


@dataclass(frozen=True)
class Firms:
    """Every exporter and buyer the data names, each with a fixed position (row of a matrix).

    Ids are sorted, so the same data always gives the same positions. `blocked` marks the
    buyers that must never be recommended (bad credit).
    """

    exporters: pd.Index
    buyers: pd.Index
    blocked: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, data: MatchingData) -> Firms:
        exporter_ids = set(data.interactions[EXPORTER_ID].unique())
        buyer_ids = set(data.interactions[BUYER_ID].unique())
        if data.exporters is not None:
            exporter_ids.update(data.exporters[EXPORTER_ID])
        if data.buyers is not None:
            buyer_ids.update(data.buyers[BUYER_ID])
        exporters = pd.Index(sorted(exporter_ids), dtype=object)
        buyers = pd.Index(sorted(buyer_ids), dtype=object)
        blocked = np.zeros(len(buyers), dtype=bool)
        if data.buyers is not None and BAD_CREDIT in data.buyers.columns:
            flagged = data.buyers.loc[data.buyers[BAD_CREDIT].to_numpy(dtype=bool), BUYER_ID]
            blocked[buyers.get_indexer(flagged)] = True
        return cls(exporters, buyers, blocked)

    def exporter_positions(self, ids: Any) -> npt.NDArray[np.int64]:
        return np.asarray(self.exporters.get_indexer(ids), dtype=np.int64)

    def buyer_positions(self, ids: Any) -> npt.NDArray[np.int64]:
        return np.asarray(self.buyers.get_indexer(ids), dtype=np.int64)

    def to_frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return (
            pd.DataFrame({EXPORTER_ID: self.exporters.to_numpy(dtype=object)}),
            pd.DataFrame({BUYER_ID: self.buyers.to_numpy(dtype=object), BAD_CREDIT: self.blocked}),
        )

    @classmethod
    def from_frames(cls, exporters: pd.DataFrame, buyers: pd.DataFrame) -> Firms:
        return cls(
            pd.Index(exporters[EXPORTER_ID].astype(str), dtype=object),
            pd.Index(buyers[BUYER_ID].astype(str), dtype=object),
            buyers[BAD_CREDIT].to_numpy(dtype=bool),
        )


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file or a folder of Parquet files, with a readable error for anything else."""
    if not path.exists():
        raise DataError(f"input not found: {path}")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"empty file: {path} has no bytes")
    try:
        # Hive partition folders (`year_partition=2024/`) repeat a column; they are not data.
        return pd.read_parquet(path, partitioning=None)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read {path} as Parquet: {error}") from error


def _channel_file(location: Path, name: str) -> Path | None:
    """`<location>/<name>`: a file or a folder of parts; None when absent."""
    path = location / name
    if path.exists():
        return path
    stem = location / name.removesuffix(".parquet")
    return stem if stem.is_dir() else None


def read_channel(
    location: str | Path,
    *,
    interactions_file: str = INTERACTIONS_FILE,
    exporters_file: str = EXPORTERS_FILE,
    buyers_file: str = BUYERS_FILE,
) -> MatchingData:
    """The training channel: interactions (required) and the side tables (when present)."""
    root = Path(location)
    if root.is_file():  # a single file is the interactions alone
        return MatchingData(check_interactions(read_parquet(root)))
    if not root.is_dir():
        raise DataError(f"input not found: {root}")
    path = _channel_file(root, interactions_file)
    if path is None:
        raise DataError(
            f"no {interactions_file} in {root}: the channel needs the interactions "
            "(exporter_id, buyer_id, weight, ts)"
        )
    interactions = check_interactions(read_parquet(path))
    exporters_path = _channel_file(root, exporters_file)
    buyers_path = _channel_file(root, buyers_file)
    exporters = (
        check_side(read_parquet(exporters_path), EXPORTER_ID, exporters_file)
        if exporters_path is not None
        else None
    )
    buyers = (
        check_side(read_parquet(buyers_path), BUYER_ID, buyers_file)
        if buyers_path is not None
        else None
    )
    return MatchingData(interactions, exporters, buyers)


def _ids(column: pd.Series, name: str, table: str) -> pd.Series:
    missing = column.isna()
    if missing.any():
        raise DataError(f"{table}: {int(missing.sum())} row(s) without {name}; every row needs one")
    text = column.astype(str).str.strip()
    if (text == "").any():
        raise DataError(f"{table}: {int((text == '').sum())} row(s) with an empty {name}")
    return text


def _timestamps(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        moments = pd.to_datetime(column, utc=True)
    elif pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise DataError(
            f"interactions: ts has type {column.dtype}; it must be a timestamp (or ISO 8601 "
            "text), not a number"
        )
    else:
        try:
            moments = pd.to_datetime(column, utc=True, format="ISO8601")
        except (TypeError, ValueError) as error:
            raise DataError(f"interactions: ts is not a timestamp: {error}") from error
    if moments.isna().any():
        raise DataError(f"interactions: {int(moments.isna().sum())} row(s) without ts")
    return moments.dt.tz_localize(None).astype("datetime64[ns]")


def check_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    """The interactions with typed, non-null keys, weight and time; other columns dropped."""
    missing = [c for c in INTERACTION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"interactions: missing column(s) {', '.join(repr(c) for c in missing)}; required: "
            f"{', '.join(INTERACTION_COLUMNS)} (optional: {ACTOR}, {EVENT_TYPE})"
        )
    if frame.empty:
        raise DataError("interactions: no rows; the model needs past interactions to learn from")
    weight = frame[WEIGHT]
    if not (pd.api.types.is_numeric_dtype(weight) or pd.api.types.is_bool_dtype(weight)):
        try:
            weight = pd.to_numeric(weight.astype("object"), errors="raise")
        except (TypeError, ValueError) as error:
            raise DataError(f"interactions: weight must be numeric: {error}") from error
    weight = weight.astype("float64")
    if not np.isfinite(weight.to_numpy()).all():
        bad = int((~np.isfinite(weight.to_numpy())).sum())
        raise DataError(f"interactions: {bad} weight(s) missing or not finite")
    # Ids as categoricals: at 20M events, codes instead of 40M Python strings.
    out = pd.DataFrame(
        {
            EXPORTER_ID: _ids(frame[EXPORTER_ID], EXPORTER_ID, "interactions").astype("category"),
            BUYER_ID: _ids(frame[BUYER_ID], BUYER_ID, "interactions").astype("category"),
            WEIGHT: weight,
            TS: _timestamps(frame[TS]),
        }
    )
    if ACTOR in frame.columns:
        actor = frame[ACTOR].astype("object").where(frame[ACTOR].notna(), "").astype(str)
        out[ACTOR] = actor.str.strip().str.lower().astype("category")
    if EVENT_TYPE in frame.columns:
        out[EVENT_TYPE] = frame[EVENT_TYPE].astype("object").astype(str).astype("category")
    return out.reset_index(drop=True)


def _flags(column: pd.Series, table: str) -> pd.Series:
    """A boolean column from booleans, 0/1 or true/false text; missing is false."""
    if pd.api.types.is_bool_dtype(column):
        return column.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(column):
        values = column.fillna(0)
        if not values.isin([0, 1]).all():
            raise DataError(f"{table}: {BAD_CREDIT} must be boolean (or 0/1)")
        return values.astype(bool)
    text = column.astype("object").where(column.notna(), "").astype(str).str.strip().str.lower()
    unknown = sorted(set(text) - _TRUE - _FALSE)
    if unknown:
        raise DataError(
            f"{table}: {BAD_CREDIT} must be boolean; found {', '.join(map(repr, unknown[:5]))}"
        )
    return text.isin(_TRUE)


def check_side(frame: pd.DataFrame, key: str, table: str) -> pd.DataFrame:
    """A side table with a unique, non-null key; any other columns are kept as they are."""
    if key not in frame.columns:
        raise DataError(f"{table}: missing key column {key!r}")
    if frame.empty:
        raise DataError(f"{table}: no rows; leave the file out to train on interactions alone")
    out = frame.copy()
    out[key] = _ids(frame[key], key, table)
    duplicated = out[key].duplicated()
    if duplicated.any():
        examples = ", ".join(out.loc[duplicated, key].head(3))
        raise DataError(
            f"{table}: {int(duplicated.sum())} duplicated {key} value(s) (e.g. {examples}); "
            "one row per firm"
        )
    if BAD_CREDIT in out.columns:
        out[BAD_CREDIT] = _flags(out[BAD_CREDIT], table)
    return out.reset_index(drop=True)
