"""Firm-year feature tables: columns, kinds, one cleaning for training and scoring, year split.

The contract is deliberately generic: a table holds `firm_id`, `year`, an optional `label`
(1 continuing, 0 discontinued, null unknown) and any number of feature columns with any names.
Numeric columns (integers, floats, booleans) are numeric features; strings and pandas
categoricals are categorical features. What a feature is, and the categories it may take, is
learned on the training years and written into `model.json`, so scoring cleans new data exactly
as training did, whatever features the upstream feature build adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

FIRM_ID = "firm_id"
YEAR = "year"
LABEL = "label"
KEY_COLUMNS = (FIRM_ID, YEAR)
# Reserved categories: values never seen in training, and missing values. Both always exist, so
# the encoded width never depends on the data being scored.
OTHER = "(other)"
MISSING = "(missing)"

Kind = Literal["numeric", "categorical"]


class DataError(ValueError):
    """Input the job cannot work with; the message says what is wrong and what to change."""


@dataclass(frozen=True)
class Feature:
    """One feature column as training saw it."""

    name: str
    kind: Kind
    # Categorical: the training categories (most frequent first, at most `max_categories`),
    # then OTHER and MISSING.
    categories: tuple[str, ...] = ()
    # Numeric: the training mean, the reference a firm's value is "low" or "high" against.
    reference: float | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "numeric":
            return {"name": self.name, "kind": self.kind, "reference": self.reference}
        return {"name": self.name, "kind": self.kind, "categories": list(self.categories)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Feature:
        kind = data["kind"]
        if kind not in ("numeric", "categorical"):
            raise ValueError(f"unknown feature kind {kind!r} for {data.get('name')!r}")
        reference = data.get("reference")
        return cls(
            name=str(data["name"]),
            kind=kind,
            categories=tuple(str(c) for c in data.get("categories", ())),
            reference=None if reference is None else float(reference),
        )


@dataclass(frozen=True)
class Schema:
    """The features of a model, in model order."""

    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric(self) -> list[Feature]:
        return [f for f in self.features if f.kind == "numeric"]

    @property
    def categorical(self) -> list[Feature]:
        return [f for f in self.features if f.kind == "categorical"]

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.features]

    @classmethod
    def from_json(cls, data: Iterable[dict[str, Any]]) -> Schema:
        return cls(tuple(Feature.from_json(item) for item in data))


@dataclass(frozen=True)
class YearSplit:
    """Labelled years: fit on `train`, choose and calibrate on `validation`, report on `test`."""

    train: tuple[int, ...]
    validation: tuple[int, ...]
    test: tuple[int, ...]

    def to_json(self) -> dict[str, list[int]]:
        return {
            "train": list(self.train),
            "validation": list(self.validation),
            "test": list(self.test),
        }


def read_features(location: str | Path, file_name: str = "features.parquet") -> pd.DataFrame:
    """The table in a channel: `<dir>/<file_name>`, a Parquet file, or a folder of Parquet files."""
    path = Path(location)
    if path.is_dir() and (path / file_name).exists():
        path = path / file_name
    elif path.is_dir() and not any(path.rglob("*.parquet")):
        raise DataError(f"no {file_name} (or any .parquet file) in {path}")
    elif not path.exists():
        raise DataError(f"input not found: {path}")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"empty file: {path} has no bytes")
    try:
        # Hive partition folders (`year_partition=2024/`) repeat a column; they are not features.
        frame = pd.read_parquet(path, partitioning=None)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise DataError(f"cannot read {path} as Parquet: {error}") from error
    if len(frame) == 0:
        raise DataError(f"empty file: {path} holds no rows")
    return frame


def check_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """`firm_id` and `year` present and usable; `year` as integers."""
    missing = [c for c in KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}: every row needs firm_id and year")
    if frame[YEAR].isna().any():
        raise DataError(f"{int(frame[YEAR].isna().sum())} row(s) have no year")
    try:
        years = frame[YEAR].astype("int64")
    except (TypeError, ValueError) as error:
        raise DataError(f"column year must hold integer years: {error}") from error
    return frame.assign(**{YEAR: years})


def check_labels(frame: pd.DataFrame) -> pd.Series:
    """The label column as floats (1.0, 0.0 or NaN), after checking it exists and is binary."""
    if LABEL not in frame.columns:
        raise DataError(
            f"missing column {LABEL!r}: training needs a label (1 continuing, 0 discontinued, "
            "null unknown)"
        )
    raw = frame[LABEL]
    try:
        label = (
            raw.astype("float64")
            if pd.api.types.is_bool_dtype(raw)
            else pd.to_numeric(raw, errors="raise").astype("float64")
        )
    except (TypeError, ValueError) as error:
        raise DataError(f"column {LABEL!r} must be 0, 1 or null: {error}") from error
    bad = label.notna() & ~label.isin([0.0, 1.0])
    if bad.any():
        examples = sorted({str(v) for v in raw[bad].head(5)})
        raise DataError(f"column {LABEL!r} must be 0, 1 or null; found {', '.join(examples)}")
    if label.notna().sum() == 0:
        raise DataError(f"column {LABEL!r} is null in every row: nothing to learn from")
    return label


def split_years(years: Iterable[int], *, test_years: int, validation_years: int) -> YearSplit:
    """The last `test_years` labelled years are held out; the `validation_years` before them
    validate; everything earlier trains. Later years never inform earlier ones."""
    if test_years < 1:
        raise DataError("--test-years must be at least 1: the metrics need held-out years")
    if validation_years < 1:
        raise DataError("--validation-years must be at least 1: selection needs them")
    labelled = sorted({int(y) for y in years})
    needed = test_years + validation_years + 1
    if len(labelled) < needed:
        raise DataError(
            f"no held-out years left: {len(labelled)} labelled year(s) {labelled} cannot give "
            f"{test_years} test year(s), {validation_years} validation year(s) and at least one "
            "training year; add years or lower --test-years / --validation-years"
        )
    test = labelled[-test_years:]
    validation = labelled[-needed + 1 : -test_years]
    train = labelled[: -needed + 1]
    return YearSplit(tuple(train), tuple(validation), tuple(test))


def infer_schema(
    frame: pd.DataFrame, *, exclude: Sequence[str], max_categories: int = 50
) -> tuple[Schema, list[str]]:
    """Features and their kinds from the training rows; also the columns dropped, with why."""
    features: list[Feature] = []
    dropped: list[str] = []
    for name in frame.columns:
        if name in exclude:
            continue
        column = frame[name]
        if column.isna().all():
            dropped.append(f"{name} (no value in the training years)")
            continue
        if pd.api.types.is_bool_dtype(column) or (
            pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column)
        ):
            values = column.astype("float64")
            features.append(Feature(str(name), "numeric", reference=float(values.mean())))
        elif (
            pd.api.types.is_object_dtype(column)
            or pd.api.types.is_string_dtype(column)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            counts = column.dropna().astype(str).value_counts()
            # Most frequent first, ties by name, so the encoding is the same run after run.
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            kept = [c for c, _ in ordered[:max_categories] if c not in (OTHER, MISSING)]
            features.append(Feature(str(name), "categorical", tuple([*kept, OTHER, MISSING])))
        else:
            raise DataError(
                f"column {name!r} has type {column.dtype}: features must be numeric, boolean "
                "or categorical (strings); convert it or drop it upstream"
            )
    if not features:
        raise DataError("no feature columns: the table holds only firm_id, year and label")
    return Schema(tuple(features)), dropped


def prepare(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature columns in model order: numeric as float64 (NaN kept), categorical as pandas
    categoricals over the training categories (unseen values -> OTHER, missing -> MISSING)."""
    absent = [name for name in schema.names if name not in frame.columns]
    if absent:
        raise DataError(f"feature column(s) missing from the input: {', '.join(absent)}")
    columns: dict[str, Any] = {}
    for feature in schema.features:
        column = frame[feature.name]
        if feature.kind == "numeric":
            try:
                columns[feature.name] = pd.to_numeric(column.astype("object"), errors="raise")
            except (TypeError, ValueError) as error:
                raise DataError(f"feature {feature.name!r} must be numeric: {error}") from error
            columns[feature.name] = columns[feature.name].astype("float64")
        else:
            missing = column.isna()
            text = column.astype(str).where(~missing, MISSING)
            known = text.isin(feature.categories[:-2]) | missing
            values = text.where(known, OTHER)
            columns[feature.name] = pd.Categorical(values, categories=list(feature.categories))
    return pd.DataFrame(columns, index=frame.index)
