"""Score firm-years with a trained model: the index, the risk group and the reason codes.

Output, one row per input row (`index.parquet`):

    firm_id, year      as in the input
    index              float64, calibrated probability of continuing (0..1)
    risk_group         bool, index < threshold
    model_version      string, from model.json
    reasons            list<struct<rank: int32, feature: string, contribution: double,
                       value: string, direction: string, reason_ko: string, reason_en: string>>

The reasons are a typed list of structs rather than JSON text: Athena reads them with
`CROSS JOIN UNNEST(reasons)`, pandas as lists of dicts, and their schema is checked on write.
`contribution` is in log-odds of the uncalibrated model and is always negative (a reason
lowers the index); the list holds at most `top` entries, fewer when fewer features pull down.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyarrow as pa

from exportintel.models.estimators import (
    MODEL_NAMES,
    Calibrator,
    Explainer,
    ModelName,
    load_explainer,
)
from exportintel.models.reasons import ReasonText, top_reasons
from exportintel.models.tabular import FIRM_ID, YEAR, DataError, Schema, check_keys, prepare

REASON_TYPE = pa.struct(
    [
        pa.field("rank", pa.int32()),
        pa.field("feature", pa.string()),
        pa.field("contribution", pa.float64()),
        pa.field("value", pa.string()),
        pa.field("direction", pa.string()),
        pa.field("reason_ko", pa.string()),
        pa.field("reason_en", pa.string()),
    ]
)


@dataclass(frozen=True)
class LoadedModel:
    name: ModelName
    version: str
    schema: Schema
    explainer: Explainer
    calibrator: Calibrator
    threshold: float
    description: dict[str, Any]


def model_directory(location: str | Path, workdir: Path) -> Path:
    """A directory holding model.json: `location` itself, or a model.tar.gz unpacked into
    `workdir` (what a SageMaker training job leaves in S3)."""
    path = Path(location)
    if path.is_dir() and (path / "model.json").exists():
        return path
    archive = path if path.is_file() else path / "model.tar.gz"
    if archive.is_file() and archive.name.endswith(".tar.gz"):
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(workdir, filter="data")
        if (workdir / "model.json").exists():
            return workdir
    raise DataError(f"no model.json (or model.tar.gz holding one) at {path}")


def load_model(model_dir: Path, which: str = "chosen") -> LoadedModel:
    description = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    name = description["chosen_model"] if which == "chosen" else which
    if name not in MODEL_NAMES:
        raise DataError(f"unknown model {which!r}: use chosen, {', '.join(MODEL_NAMES)}")
    name = cast(ModelName, name)
    schema = Schema.from_json(description["features"])
    version = str(description["model_version"])
    if name != description["chosen_model"]:
        version = f"{version}:{name}"  # the other family of the same training run
    return LoadedModel(
        name=name,
        version=version,
        schema=schema,
        explainer=load_explainer(name, model_dir, schema),
        calibrator=Calibrator.from_json(description["calibration"][name]),
        threshold=float(description["threshold"]),
        description=description,
    )


def score_frame(
    frame: pd.DataFrame,
    model: LoadedModel,
    catalogue: dict[str, ReasonText],
    *,
    threshold: float | None = None,
    top: int = 3,
) -> pd.DataFrame:
    """Index, risk group and reason codes for every row of `frame` (a label is ignored)."""
    frame = check_keys(frame)
    features = prepare(frame, model.schema)
    index = model.calibrator.apply(model.explainer.margin(features))
    contributions = model.explainer.contributions(features)
    cut = model.threshold if threshold is None else threshold
    return pd.DataFrame(
        {
            FIRM_ID: frame[FIRM_ID].to_numpy(),
            YEAR: frame[YEAR].to_numpy(),
            "index": index,
            "risk_group": index < cut,
            "model_version": model.version,
            "reasons": top_reasons(contributions, features, model.schema, catalogue, top=top),
        }
    )


def to_table(scored: pd.DataFrame) -> pa.Table:
    """The scored rows as Arrow with the reasons' struct type fixed (even when all are empty)."""
    return pa.table(
        {
            FIRM_ID: pa.array(scored[FIRM_ID].tolist()),
            YEAR: pa.array(scored[YEAR].to_numpy(), type=pa.int32()),
            "index": pa.array(scored["index"].to_numpy(), type=pa.float64()),
            "risk_group": pa.array(scored["risk_group"].to_numpy(), type=pa.bool_()),
            "model_version": pa.array(scored["model_version"].tolist(), type=pa.string()),
            "reasons": pa.array(scored["reasons"].tolist(), type=pa.list_(REASON_TYPE)),
        }
    )
