"""The two model families, their calibration and their per-feature contributions.

Both explain a prediction in the same currency: log-odds contributions per input feature that
add up, with a bias term, to the model's raw score (margin). For the logistic regression a
contribution is coefficient x standardised value, summed over a categorical feature's one-hot
columns; for xgboost it is the tree SHAP value (`pred_contribs=True`). Calibration is a
monotone map applied after the margin, so it never changes which features push a firm down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from exportintel.models.tabular import Schema

FloatArray = npt.NDArray[np.float64]
ModelName = Literal["lr", "xgboost"]
MODEL_NAMES: tuple[ModelName, ...] = ("lr", "xgboost")
LR_ARTIFACT = "model.joblib"
XGBOOST_ARTIFACT = "xgboost-model.json"
ARTIFACTS: dict[ModelName, str] = {"lr": LR_ARTIFACT, "xgboost": XGBOOST_ARTIFACT}


def sigmoid(z: npt.ArrayLike) -> FloatArray:
    z = np.asarray(z, dtype=np.float64)
    out: FloatArray = np.exp(-np.logaddexp(0.0, -z))
    return out


class Explainer(Protocol):
    """What scoring needs from a fitted model."""

    def margin(self, features: pd.DataFrame) -> FloatArray:
        """Raw log-odds of label 1 for each row (before calibration)."""
        ...

    def contributions(self, features: pd.DataFrame) -> FloatArray:
        """Log-odds contribution of each schema feature for each row, shape (rows, features)."""
        ...


# --- logistic regression -------------------------------------------------------------------


@dataclass
class LogisticModel:
    """Standardised inputs, one-hot categoricals, L2-regularised logistic regression."""

    pipeline: Any  # sklearn.pipeline.Pipeline
    schema: Schema

    @classmethod
    def fit(
        cls, features: pd.DataFrame, label: npt.ArrayLike, schema: Schema, *, c: float
    ) -> LogisticModel:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = [f.name for f in schema.numeric]
        categorical = [f.name for f in schema.categorical]
        transformers: list[tuple[str, Any, list[str]]] = []
        if numeric:
            transformers.append(
                (
                    "numeric",
                    Pipeline(
                        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                    ),
                    numeric,
                )
            )
        if categorical:
            # Dummies are standardised too, so every coefficient is "per standard deviation"
            # and a contribution is measured against the average training firm.
            encoder = OneHotEncoder(
                categories=[list(f.categories) for f in schema.categorical],
                handle_unknown="ignore",
                sparse_output=False,
            )
            transformers.append(
                (
                    "categorical",
                    Pipeline([("onehot", encoder), ("scale", StandardScaler())]),
                    categorical,
                )
            )
        pipeline = Pipeline(
            [
                ("prepare", ColumnTransformer(transformers, remainder="drop")),
                ("model", LogisticRegression(C=c, max_iter=5000)),  # L2 is the default penalty
            ]
        )
        pipeline.fit(features, np.asarray(label, dtype=np.int64))
        return cls(pipeline, schema)

    def _design(self, features: pd.DataFrame) -> FloatArray:
        return np.asarray(self.pipeline[:-1].transform(features), dtype=np.float64)

    def _groups(self) -> npt.NDArray[np.int64]:
        """Which schema feature each design column belongs to: numeric first, then dummies."""
        owners: list[int] = []
        position = {f.name: i for i, f in enumerate(self.schema.features)}
        for f in self.schema.numeric:
            owners.append(position[f.name])
        for f in self.schema.categorical:
            owners.extend([position[f.name]] * len(f.categories))
        return np.asarray(owners, dtype=np.int64)

    @property
    def coef(self) -> FloatArray:
        return np.asarray(self.pipeline[-1].coef_[0], dtype=np.float64)

    @property
    def intercept(self) -> float:
        return float(self.pipeline[-1].intercept_[0])

    def margin(self, features: pd.DataFrame) -> FloatArray:
        return np.asarray(self.pipeline.decision_function(features), dtype=np.float64)

    def contributions(self, features: pd.DataFrame) -> FloatArray:
        design = self._design(features) * self.coef
        owners = self._groups()
        out = np.zeros((len(features), len(self.schema.features)))
        np.add.at(out.T, owners, design.T)
        return out

    def coefficients(self) -> list[dict[str, Any]]:
        """The fitted coefficients by design column, readable without the pipeline."""
        prepare = self.pipeline.named_steps["prepare"]
        rows: list[dict[str, Any]] = []
        coef = iter(self.coef.tolist())
        if self.schema.numeric:
            scaler = prepare.named_transformers_["numeric"].named_steps["scale"]
            imputer = prepare.named_transformers_["numeric"].named_steps["impute"]
            for i, f in enumerate(self.schema.numeric):
                b = next(coef)
                rows.append(
                    {
                        "feature": f.name,
                        "column": f.name,
                        "coefficient": b,  # per standard deviation
                        "per_unit": b / float(scaler.scale_[i]),
                        "mean": float(scaler.mean_[i]),
                        "std": float(scaler.scale_[i]),
                        "imputed_with": float(imputer.statistics_[i]),
                    }
                )
        if self.schema.categorical:
            scaler = prepare.named_transformers_["categorical"].named_steps["scale"]
            j = 0
            for f in self.schema.categorical:
                for category in f.categories:
                    b = next(coef)
                    rows.append(
                        {
                            "feature": f.name,
                            "column": f"{f.name}={category}",
                            "coefficient": b,
                            "per_unit": b / float(scaler.scale_[j]),
                            "mean": float(scaler.mean_[j]),
                            "std": float(scaler.scale_[j]),
                        }
                    )
                    j += 1
        return rows

    def save(self, directory: Path) -> Path:
        import joblib

        path = directory / LR_ARTIFACT
        joblib.dump(self.pipeline, path)
        return path

    @classmethod
    def load(cls, directory: Path, schema: Schema) -> LogisticModel:
        import joblib

        return cls(joblib.load(directory / LR_ARTIFACT), schema)


# --- gradient-boosted trees ----------------------------------------------------------------


SMALL_TABLE = 50_000


@dataclass(frozen=True)
class XGBoostParams:
    max_depth: int = 3
    eta: float = 0.05
    num_round: int = 400
    early_stopping_rounds: int = 30
    min_child_weight: float = 1.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 7
    # 0: one thread below SMALL_TABLE training rows, all cores above. On small tables OpenMP
    # coordination costs more than it saves, badly so on a busy machine.
    nthread: int = 0

    def booster_params(self, rows: int | None = None) -> dict[str, Any]:
        nthread = self.nthread
        if nthread == 0 and rows is not None and rows < SMALL_TABLE:
            nthread = 1
        params: dict[str, Any] = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.eta,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "seed": self.seed,
            "max_cat_to_onehot": 8,
        }
        if nthread > 0:
            params["nthread"] = nthread
        return params


def _matrix(features: pd.DataFrame, label: npt.ArrayLike | None = None) -> Any:
    import xgboost as xgb

    # Positional names: feature names from upstream may hold characters xgboost rejects
    # ("[", "]", "<"); model.json keeps the real names in the same order.
    renamed = features.set_axis([f"f{i}" for i in range(features.shape[1])], axis=1)
    return xgb.DMatrix(renamed, label=label, enable_categorical=True, missing=np.nan)


@dataclass
class XGBoostModel:
    """Shallow boosted trees, stopped early on the validation years; categoricals native."""

    booster: Any  # xgboost.Booster, cut at the best iteration
    schema: Schema
    best_iteration: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        train: pd.DataFrame,
        train_label: npt.ArrayLike,
        valid: pd.DataFrame,
        valid_label: npt.ArrayLike,
        schema: Schema,
        params: XGBoostParams,
    ) -> XGBoostModel:
        import xgboost as xgb

        booster = xgb.train(
            params.booster_params(rows=len(train)),
            _matrix(train, train_label),
            num_boost_round=params.num_round,
            evals=[(_matrix(valid, valid_label), "validation")],
            early_stopping_rounds=params.early_stopping_rounds,
            verbose_eval=False,
        )
        best = int(booster.best_iteration)
        # Keep only the trees up to the best round: the saved model then predicts exactly what
        # was validated, with no iteration range to remember at scoring time.
        return cls(booster[: best + 1], schema, best, params.booster_params(rows=len(train)))

    def margin(self, features: pd.DataFrame) -> FloatArray:
        out = self.booster.predict(_matrix(features), output_margin=True)
        return np.asarray(out, dtype=np.float64)

    def contributions(self, features: pd.DataFrame) -> FloatArray:
        out = self.booster.predict(_matrix(features), pred_contribs=True)
        return np.asarray(out, dtype=np.float64)[:, :-1]  # the last column is the bias

    def save(self, directory: Path) -> Path:
        path = directory / XGBOOST_ARTIFACT
        self.booster.save_model(path)
        return path

    @classmethod
    def load(cls, directory: Path, schema: Schema) -> XGBoostModel:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(directory / XGBOOST_ARTIFACT)
        return cls(booster, schema)


# --- calibration ---------------------------------------------------------------------------

CalibrationMethod = Literal["platt", "isotonic", "none"]


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from a model's margin to a probability, fitted on the validation years.

    Platt: p = sigmoid(a * margin + b). Isotonic: a step function of sigmoid(margin), stored as
    its breakpoints and applied by linear interpolation. Both are plain numbers in model.json.
    """

    method: CalibrationMethod
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    @classmethod
    def fit(
        cls, margin: npt.ArrayLike, label: npt.ArrayLike, method: CalibrationMethod
    ) -> Calibrator:
        m = np.asarray(margin, dtype=np.float64)
        t = np.asarray(label, dtype=np.int64)
        if method == "none":
            return cls("none")
        if method == "platt":
            from sklearn.linear_model import LogisticRegression

            # Nearly unregularised: two parameters against hundreds of validation rows.
            fitted = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), t)
            return cls("platt", a=float(fitted.coef_[0, 0]), b=float(fitted.intercept_[0]))
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(sigmoid(m), t)
            return cls(
                "isotonic",
                x=tuple(float(v) for v in iso.X_thresholds_),
                y=tuple(float(v) for v in iso.y_thresholds_),
            )
        raise ValueError(f"unknown calibration method {method!r}")

    def apply(self, margin: npt.ArrayLike) -> FloatArray:
        m = np.asarray(margin, dtype=np.float64)
        if self.method == "platt":
            return sigmoid(self.a * m + self.b)
        if self.method == "isotonic":
            out: FloatArray = np.interp(sigmoid(m), self.x, self.y)
            return out
        return sigmoid(m)

    def to_json(self) -> dict[str, Any]:
        if self.method == "platt":
            return {"method": "platt", "a": self.a, "b": self.b}
        if self.method == "isotonic":
            return {"method": "isotonic", "x": list(self.x), "y": list(self.y)}
        return {"method": "none"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibrator:
        method = data["method"]
        if method == "platt":
            return cls("platt", a=float(data["a"]), b=float(data["b"]))
        if method == "isotonic":
            return cls("isotonic", x=tuple(data["x"]), y=tuple(data["y"]))
        if method == "none":
            return cls("none")
        raise ValueError(f"unknown calibration method {method!r}")


def load_explainer(name: ModelName, directory: Path, schema: Schema) -> Explainer:
    if name == "lr":
        return LogisticModel.load(directory, schema)
    if name == "xgboost":
        return XGBoostModel.load(directory, schema)
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
