"""The ranker: xgboost LambdaMART (`rank:ndcg`) over candidate pairs grouped by query firm.

Labels are graded engagements in the label window (`grade`): 0 nothing (or a net bad
rating), 1 looked or saved (total weight below 1), 2 an inquiry or a meeting request (below
2), 3 more (a meeting held, a deal, repeated inquiries). Only the order within a query's
candidates is learned, which is what a recommendation list is; the reciprocal model turns
the margins into probabilities with a Platt map fitted on held-back groups.

Per-pair explanations are tree SHAP values (`pred_contribs=True`): exact, additive, in the
margin's units. They cost more than the prediction; they are computed for the stored top K
only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.matching.collaborative import cores

FloatArray = npt.NDArray[np.float64]
# Below this many rows one thread trains faster: measured at 250k rows on two busy cores,
# 0.12 s a round with one thread against 0.42 s with two (OpenMP waits on the other jobs).
SMALL_TABLE = 1_000_000
GRADE_EDGES = (1.0, 2.0)  # weight totals from which a pair is grade 2, 3


def grade(total: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """Graded relevance of a pair from its summed event weight in the label window."""
    values = np.asarray(total, dtype=np.float64)
    out = np.where(values > 0, 1, 0)
    for edge in GRADE_EDGES:
        out = out + (values >= edge)
    return out.astype(np.int32)


@dataclass(frozen=True)
class RankerParams:
    objective: str = "rank:ndcg"
    # Chosen on generated small data (seeds 7 and 8, NDCG@10 held out): depth 4 at eta 0.05
    # ties depth 6 at eta 0.1 for exporters' lists and beats it for buyers' (0.180 against
    # 0.174), and its tree SHAP costs a fifth.
    max_depth: int = 4
    eta: float = 0.05
    num_round: int = 600
    early_stopping_rounds: int = 50
    min_child_weight: float = 10.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    pairs_per_sample: int = 8
    # Trees per round, each on its own row and column sample, averaged: bagging inside the
    # boosting. On the tuning world (generated small data, seed 10), two ranker seeds gave
    # MAP@10 0.036 and 0.028 for exporters' lists with one tree a round, 0.033 and 0.034 with
    # four (NDCG@10 0.069/0.057 against 0.064/0.065): the same mean, a sixth of the spread,
    # for about twice the training time.
    parallel_trees: int = 4
    monotone: bool = True  # hold the features of `features.monotone_direction` to their sign
    seed: int = 7
    nthread: int = 0  # 0: one thread below SMALL_TABLE rows, every core of the job above

    def booster_params(self, rows: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": self.objective,
            "eval_metric": "ndcg@10",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.eta,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "seed": self.seed,
            "max_cat_to_onehot": 8,
            "num_parallel_tree": self.parallel_trees,
        }
        if self.objective.startswith("rank:"):
            params["lambdarank_pair_method"] = "topk"
            params["lambdarank_num_pair_per_sample"] = self.pairs_per_sample
        # Explicit: xgboost's own default can count the host's cores, not the job's.
        params["nthread"] = self.nthread or (1 if rows < SMALL_TABLE else cores())
        return params


@dataclass
class RankingSet:
    """Candidate pairs of some query firms: features, graded labels, query of each row
    (rows of one query together, queries ascending)."""

    features: pd.DataFrame
    labels: npt.NDArray[np.int32]
    queries: npt.NDArray[np.int64]

    def subset(self, mask: npt.NDArray[np.bool_]) -> RankingSet:
        return RankingSet(
            self.features.loc[mask].reset_index(drop=True), self.labels[mask], self.queries[mask]
        )

    @property
    def positive_queries(self) -> int:
        return len(np.unique(self.queries[self.labels > 0]))


def matrix(features: pd.DataFrame, label: Any = None, qid: Any = None) -> Any:
    import xgboost as xgb

    # Positional names: side columns may hold characters xgboost rejects; model.json keeps
    # the real names in the same order.
    renamed = features.set_axis([f"f{i}" for i in range(features.shape[1])], axis=1)
    return xgb.DMatrix(renamed, label=label, qid=qid, enable_categorical=True, missing=np.nan)


@dataclass
class PairRanker:
    booster: Any  # xgboost.Booster, cut at the best iteration
    best_iteration: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    validation_ndcg: float | None = None  # NDCG@10 of the held-back groups at the best round

    @classmethod
    def fit(cls, train: RankingSet, valid: RankingSet, params: RankerParams) -> PairRanker:
        import xgboost as xgb

        from exportintel.matching.features import monotone_direction

        booster_params = params.booster_params(len(train.labels))
        if params.monotone:
            signs = [monotone_direction(str(name)) for name in train.features.columns]
            booster_params["monotone_constraints"] = "(" + ",".join(map(str, signs)) + ")"
        evals = []
        if valid.positive_queries:
            evals = [(matrix(valid.features, valid.labels, valid.queries), "validation")]
        booster = xgb.train(
            booster_params,
            matrix(train.features, train.labels, train.queries),
            num_boost_round=params.num_round,
            evals=evals,
            early_stopping_rounds=params.early_stopping_rounds if evals else None,
            verbose_eval=False,
        )
        best = int(booster.best_iteration) if evals else params.num_round - 1
        score = float(booster.best_score) if evals else None
        # Only the trees up to the best round: the saved model predicts what was validated.
        return cls(booster[: best + 1], best, booster_params, score)

    def margin(self, features: pd.DataFrame) -> FloatArray:
        return np.asarray(self.booster.predict(matrix(features), output_margin=True), np.float64)

    def contributions(self, features: pd.DataFrame, *, approximate: bool = False) -> FloatArray:
        """Tree SHAP per feature (the bias column dropped), rows x features; `approximate`:
        Saabas path attributions instead, some 20 times faster and less faithful."""
        out = self.booster.predict(
            matrix(features), pred_contribs=True, approx_contribs=approximate
        )
        return np.asarray(out, dtype=np.float64)[:, :-1]

    def save(self, path: Path) -> Path:
        self.booster.save_model(path)
        return path

    @classmethod
    def load(cls, path: Path) -> PairRanker:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(path)
        booster.set_param({"nthread": cores()})
        return cls(booster)
