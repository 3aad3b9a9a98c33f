"""Fit the matching model: features as of inner cutoffs, labels after them, rankers, refit.

The protocol, in time order, so that no later event informs an earlier decision:

1. the data ends at `as_of` (the end of the training window); label window w (1 to
   `label_windows`) runs from `as_of` - w x `label_days` (its inner cutoff) for `label_days`;
2. for each window, an inner snapshot (`features.Snapshot`) is built from the interactions
   before its inner cutoff only: decayed preferences, ALS, content, crosses, interests, firm
   histories;
3. for every query firm that engaged in the window (at most `max_groups`, a stable sample),
   per direction (buyers for an exporter, exporters for a buyer), its candidates come from the
   inner snapshot and each is labelled by the events of the window: who acted (`reciprocal`),
   graded (`ranker.grade`). Pairs seen before the inner cutoff are never candidates, exactly
   as at serving;
4. query firms are split by a stable hash into training and held-back groups (a firm's
   windows stay together); the rankers are fitted on the first (early stopping on the second),
   and their Platt maps on the second;
5. the snapshot is rebuilt on every interaction up to `as_of`: the shipped model scores with
   the freshest preferences and the rankers learned on the windows before.

Two windows rather than one: twice the groups to learn from, at the cost of one more snapshot.
On generated small data (seed 7, an earlier feature set) recall@10 moved 0.072 -> 0.067 for
exporters' lists and 0.284 -> 0.289 for buyers': within noise either way; the larger training
set is kept for the scarcer groups of larger, sparser data.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from exportintel.matching.collaborative import CFParams
from exportintel.matching.content import ContentSpec, detect, stable_unit
from exportintel.matching.data import (
    ACTOR,
    BUYER_ACTOR,
    BUYER_ID,
    EXPORTER_ACTOR,
    EXPORTER_ID,
    TS,
    WEIGHT,
    Firms,
    MatchingData,
)
from exportintel.matching.features import (
    DIRECTIONS,
    Direction,
    FeatureOptions,
    PoolSizes,
    Snapshot,
    load_snapshot,
    save_snapshot,
    side_schema,
)
from exportintel.matching.ranker import PairRanker, RankerParams, RankingSet, grade
from exportintel.matching.reciprocal import ANY, OTHER, OWN, DirectionModel
from exportintel.models.estimators import Calibrator
from exportintel.models.tabular import DataError
from exportintel.settings import LOCAL

MODEL_FORMAT = 1
MODEL_FILE = "model.json"
METRICS_FILE = "metrics.json"
# Label sides: events of the exporter, of the buyer (either includes actors of both sides).
LABEL_SIDES = ("exporter", "buyer", ANY)


@dataclass(frozen=True)
class MatchingOptions:
    features: FeatureOptions = field(default_factory=FeatureOptions)
    pool: PoolSizes = field(default_factory=PoolSizes)
    ranker: RankerParams = field(default_factory=RankerParams)
    label_days: float = 365.0
    label_windows: int = 2  # successive label windows the rankers learn from, latest first
    max_groups: int = 5_000  # query firms per direction and window the rankers learn from
    validation_share: float = 0.2
    min_side_groups: int = 20  # below this, one ranker for both sides
    candidates: int = LOCAL.matching_candidates  # stored per query firm
    shown: int = LOCAL.matching_shown
    seed: int = 7

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatchingOptions:
        features = dict(data["features"])
        features["cf"] = CFParams(**features["cf"])
        top = {k: v for k, v in data.items() if k not in ("features", "pool", "ranker")}
        return cls(
            features=FeatureOptions(**features),
            pool=PoolSizes(**data["pool"]),
            ranker=RankerParams(**data["ranker"]),
            **top,
        )


@dataclass
class MatchingModel:
    """What scoring needs: the snapshot at the end of the window and the rankers."""

    snapshot: Snapshot
    directions: dict[Direction, DirectionModel]
    options: MatchingOptions
    report: dict[str, Any]
    version: str = ""

    @property
    def feature_names(self) -> list[str]:
        return self.snapshot.feature_names()


def label_matrices(events: pd.DataFrame, firms: Firms) -> dict[str, sp.csr_matrix]:
    """Summed weights per pair in the label window: by the exporter, by the buyer, by anyone.

    An event of another actor (agency, unknown) counts for both sides; without an actor
    column every event does."""
    e = firms.exporter_positions(events[EXPORTER_ID])
    b = firms.buyer_positions(events[BUYER_ID])
    weight = events[WEIGHT].to_numpy(dtype=np.float64)
    shape = (len(firms.exporters), len(firms.buyers))
    actor = events[ACTOR].to_numpy() if ACTOR in events.columns else None
    out = {}
    for side in LABEL_SIDES:
        if side == ANY or actor is None:
            kept = weight
        else:
            other = BUYER_ACTOR if side == EXPORTER_ACTOR else EXPORTER_ACTOR
            kept = np.where(actor != other, weight, 0.0)
        matrix = sp.csr_matrix((kept, (e, b)), shape=shape)
        matrix.sum_duplicates()
        out[side] = matrix
    return out


def matrix_values(
    matrix: sp.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """matrix[rows[i], cols[i]] for every i (0 where nothing is stored)."""
    coo = matrix.tocoo()
    width = np.int64(matrix.shape[1])
    keys = coo.row.astype(np.int64) * width + coo.col
    order = np.argsort(keys)
    keys, data = keys[order], coo.data[order]
    wanted = rows.astype(np.int64) * width + cols
    found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    hit = (keys[found] == wanted) if len(keys) else np.zeros(len(wanted), bool)
    return np.where(hit, data[found] if len(keys) else 0.0, 0.0)


def _side_labels(direction: Direction) -> dict[str, str]:
    """Which label matrix each ranker of a direction learns from."""
    own = EXPORTER_ACTOR if direction == "exporter" else BUYER_ACTOR
    other = BUYER_ACTOR if direction == "exporter" else EXPORTER_ACTOR
    return {OWN: own, OTHER: other, ANY: ANY}


def training_set(
    snapshot: Snapshot,
    direction: Direction,
    labels: dict[str, sp.csr_matrix],
    options: MatchingOptions,
) -> tuple[RankingSet, dict[str, npt.NDArray[np.int32]], dict[str, Any]]:
    """Candidates of the query firms that engaged in the label window, with their labels."""
    any_labels = labels[ANY] if direction == "exporter" else labels[ANY].T.tocsr()
    positive = any_labels.copy()
    positive.data = (positive.data > 0).astype(np.float32)
    engaged = np.flatnonzero(np.asarray(positive.sum(axis=1)).ravel() > 0)
    if direction == "buyer":
        engaged = engaged[~snapshot.firms.blocked[engaged]]
    if len(engaged) > options.max_groups:
        order = np.argsort(stable_unit(engaged, options.seed), kind="stable")
        engaged = np.sort(engaged[order[: options.max_groups]])
    candidates = snapshot.candidates(direction, engaged, options.pool)
    rows, items = candidates.union()
    queries = engaged[rows]
    e, b = (queries, items) if direction == "exporter" else (items, queries)
    features = snapshot.pair_frame(e, b, rows)
    grades = {
        side: grade(matrix_values(labels[source], e, b))
        for side, source in _side_labels(direction).items()
    }
    found = int((grades[ANY] > 0).sum())
    in_window = int(positive[engaged].sum())
    report = {
        "query_firms": len(engaged),
        "candidate_pairs": len(rows),
        "positive_pairs": found,
        "label_pairs": in_window,
        "candidate_recall": found / in_window if in_window else None,
    }
    return RankingSet(features, grades[ANY], queries), grades, report


def combine(
    parts: list[tuple[RankingSet, dict[str, npt.NDArray[np.int32]]]], firms: int
) -> tuple[RankingSet, dict[str, npt.NDArray[np.int32]], npt.NDArray[np.int64]]:
    """Training sets of several label windows as one: a query firm of window w is the group
    w x firms + position (groups stay apart and ascending); also each row's firm position."""
    features = pd.concat([data.features for data, _ in parts], ignore_index=True)
    queries = np.concatenate(
        [data.queries + w * np.int64(firms) for w, (data, _) in enumerate(parts)]
    )
    grades = {side: np.concatenate([g[side] for _, g in parts]) for side in parts[0][1]}
    firm = np.concatenate([data.queries for data, _ in parts])
    return RankingSet(features, grades[ANY], queries), grades, firm


def fit_direction(
    direction: Direction,
    data: RankingSet,
    grades: dict[str, npt.NDArray[np.int32]],
    firm: npt.NDArray[np.int64],
    options: MatchingOptions,
) -> tuple[DirectionModel, dict[str, Any]]:
    """The rankers of one direction (own and other, or any) and their calibration.

    Query firms (all their windows together) are held back by a stable hash of the firm."""
    if data.positive_queries < 2:
        raise DataError(
            f"too few firms engaged in the label window to learn {direction} rankings "
            f"({data.positive_queries}); give more interactions or a longer --label-days"
        )
    held_back = stable_unit(firm, options.seed + 1) < options.validation_share
    if held_back.all() or not held_back.any():
        held_back = firm == firm.max()
    side_groups = {
        side: len(np.unique(data.queries[(values > 0) & ~held_back]))
        for side, values in grades.items()
    }
    sides = (
        (OWN, OTHER)
        if min(side_groups[OWN], side_groups[OTHER]) >= (options.min_side_groups)
        else (ANY,)
    )
    rankers: dict[str, PairRanker] = {}
    calibrators: dict[str, Calibrator] = {}
    for side in sides:
        labelled = RankingSet(data.features, grades[side], data.queries)
        # Groups without a positive teach a ranker nothing; they still calibrate it.
        has_positive = np.isin(data.queries, np.unique(data.queries[grades[side] > 0]))
        train = labelled.subset(~held_back & has_positive)
        valid = labelled.subset(held_back & has_positive)
        ranker = PairRanker.fit(train, valid, options.ranker)
        margin = ranker.margin(data.features.loc[held_back])
        binary = (grades[side][held_back] > 0).astype(np.float64)
        if binary.min() == binary.max():
            raise DataError(f"the held-back {direction} groups hold a single class for {side}")
        rankers[side] = ranker
        calibrators[side] = Calibrator.fit(margin, binary, "platt")
    report = {
        "sides": list(sides),
        "groups": len(np.unique(data.queries)),
        "rows": len(data.labels),
        "groups_with_positive": side_groups,
        "held_back_query_firms": len(np.unique(firm[held_back])),
    }
    return DirectionModel(direction, rankers, calibrators), report


def fit_model(
    data: MatchingData, options: MatchingOptions, *, as_of: pd.Timestamp | None = None
) -> MatchingModel:
    """The whole protocol of the module docstring on the interactions before `as_of` (default:
    just after the last one)."""
    end = pd.Timestamp(as_of) if as_of is not None else data.last_moment + pd.Timedelta(1, "s")
    window = data.before(end)
    span = pd.Timedelta(days=options.label_days)
    cutoffs = [end - w * span for w in range(1, options.label_windows + 1)]
    cutoffs = [c for c in cutoffs if (window.interactions[TS] < c).any()]
    if not cutoffs:
        raise DataError(
            f"no interaction before the inner cutoff {end - span:%Y-%m-%d} "
            f"({options.label_days:g} days before the end {end:%Y-%m-%d}): the rankers need "
            "history before the label window; lower --label-days"
        )
    firms = Firms.of(window)
    spec: ContentSpec = detect(window.exporters, window.buyers)
    schema = side_schema(spec, window.exporters, window.buyers)
    parts: dict[Direction, list[tuple[RankingSet, dict[str, npt.NDArray[np.int32]]]]] = {
        d: [] for d in DIRECTIONS
    }
    windows = []
    for cutoff in cutoffs:
        inner = Snapshot.build(window.before(cutoff), firms, cutoff, spec, schema, options.features)
        times = window.interactions[TS]
        label_events = window.interactions[(times >= cutoff) & (times < cutoff + span)]
        labels = label_matrices(label_events, firms)
        sets = {}
        for direction in DIRECTIONS:
            data_set, grades, sets[direction] = training_set(inner, direction, labels, options)
            parts[direction].append((data_set, grades))
        windows.append(
            {
                "inner_cutoff": cutoff.isoformat(),
                "label_interactions": len(label_events),
                "candidates": sets,
            }
        )
        del inner
    directions: dict[Direction, DirectionModel] = {}
    reports: dict[str, Any] = {}
    for direction in DIRECTIONS:
        n_queries = len(firms.exporters) if direction == "exporter" else len(firms.buyers)
        combined, grades, firm = combine(parts[direction], n_queries)
        directions[direction], reports[direction] = fit_direction(
            direction, combined, grades, firm, options
        )
    snapshot = Snapshot.build(window, firms, end, spec, schema, options.features)
    report = {
        "as_of": end.isoformat(),
        "label_windows": windows,
        "interactions": len(window.interactions),
        "exporters": len(firms.exporters),
        "buyers": len(firms.buyers),
        "blocked_buyers": int(firms.blocked.sum()),
        "content": spec.to_json(),
        "rankers": reports,
    }
    return MatchingModel(snapshot, directions, options, report)


# --------------------------------------------------------------------------- persistence


def ranker_file(direction: str, side: str) -> str:
    return f"ranker-{direction}-{side}.json"


def write_model(
    model: MatchingModel,
    model_dir: Path,
    *,
    version: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> str:
    """Everything scoring needs into `model_dir`, `model.json` describing it and, when given,
    `metrics.json`; returns the model version (default: the as-of date and a digest of the
    rankers and factors, so the same data and options give the same version)."""
    import sklearn
    import xgboost

    model_dir.mkdir(parents=True, exist_ok=True)
    snapshot = save_snapshot(model.snapshot, model_dir)
    paths = []
    for direction, fitted in model.directions.items():
        for side, ranker in fitted.rankers.items():
            paths.append(ranker.save(model_dir / ranker_file(direction, side)))
    if not version:
        digest = hashlib.sha256()
        for path in sorted(paths):
            digest.update(path.read_bytes())
        digest.update(model.snapshot.cf_exporters.tobytes())
        version = f"matching-{model.snapshot.as_of:%Y%m%d}-{digest.hexdigest()[:12]}"
    model.version = version
    description = {
        "format": MODEL_FORMAT,
        "model_version": version,
        "snapshot": snapshot,
        "features": model.feature_names,
        "directions": {d: m.to_json() for d, m in model.directions.items()},
        "options": model.options.to_json(),
        "training": model.report,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "xgboost": xgboost.__version__,
        },
    }
    write_json(model_dir / MODEL_FILE, description)
    if metrics is not None:
        write_json(model_dir / METRICS_FILE, {"model_version": version, **metrics})
    return version


def read_model(model_dir: Path) -> MatchingModel:
    """The model `write_model` wrote."""
    path = model_dir / MODEL_FILE
    if not path.exists():
        raise DataError(f"no {MODEL_FILE} in {model_dir}")
    description = json.loads(path.read_text(encoding="utf-8"))
    if description.get("format") != MODEL_FORMAT:
        raise DataError(f"{path}: model format {description.get('format')} is not {MODEL_FORMAT}")
    snapshot = load_snapshot(model_dir, description["snapshot"])
    if snapshot.feature_names() != description["features"]:
        raise DataError(f"{path}: the saved features do not match the model's")
    directions: dict[Direction, DirectionModel] = {}
    for direction in DIRECTIONS:
        fitted = description["directions"][direction]
        rankers = {
            side: PairRanker.load(model_dir / ranker_file(direction, side))
            for side in fitted["sides"]
        }
        calibrators = {side: Calibrator.from_json(c) for side, c in fitted["calibration"].items()}
        directions[direction] = DirectionModel(direction, rankers, calibrators)
    options = MatchingOptions.from_json(description["options"])
    return MatchingModel(
        snapshot, directions, options, description["training"], str(description["model_version"])
    )


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
