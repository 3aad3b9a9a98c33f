"""The market model: a conditional logit over the evidence terms.

A firm entering a new country chooses among the countries it does not export to yet; the model
gives each a utility u = sum of weight x standardised term, and the probability of a country is
the softmax of the utilities over that choice set (McFadden's conditional logit). The weights
are fitted by maximum likelihood, with a small L2 penalty, on the entries observed in the lake:
a firm's new destinations in year Y, chosen among its candidates with the evidence of Y-1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.markets.evidence import MarketWorld
from exportintel.models.tabular import DataError


class NoEntries(DataError):
    """The lake holds no observed entries into new countries to learn from."""


@dataclass(frozen=True)
class MarketModel:
    terms: tuple[str, ...]
    mean: dict[str, float]
    scale: dict[str, float]
    weights: dict[str, float]

    def standardised(self, rows: pd.DataFrame) -> np.ndarray:
        columns = [(rows[t].to_numpy(float) - self.mean[t]) / self.scale[t] for t in self.terms]
        return np.stack(columns, axis=1)

    def contributions(self, rows: pd.DataFrame) -> pd.DataFrame:
        """weight x standardised term, per row and term (`<term>_term` columns)."""
        z = self.standardised(rows) * np.array([self.weights[t] for t in self.terms])
        return pd.DataFrame(z, columns=[f"{t}_term" for t in self.terms], index=rows.index)

    def utilities(self, rows: pd.DataFrame) -> np.ndarray:
        out: np.ndarray = self.standardised(rows) @ np.array([self.weights[t] for t in self.terms])
        return out

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MarketModel:
        data = json.loads(text)
        return cls(
            terms=tuple(data["terms"]),
            mean=data["mean"],
            scale=data["scale"],
            weights=data["weights"],
        )

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> MarketModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def choice_sets(world: MarketWorld, years: Iterable[int]) -> pd.DataFrame:
    """The observed entries of `years`: for each firm with a new destination in Y, its
    candidate countries (not exported to by Y-1) with the evidence of Y-1, `chosen` marking
    the countries it entered in Y. `set_id` names the (firm, Y) choice."""
    parts = []
    for year in years:
        candidates = world.evidence(year - 1).candidates()
        entered = world.presence[world.presence["year"] == year][["firm_id", "country_code"]]
        rows = candidates.merge(entered.assign(chosen=True), on=["firm_id", "country_code"],
                                how="left")  # fmt: skip
        rows["chosen"] = rows["chosen"].notna()
        with_entry = rows.groupby("firm_id")["chosen"].transform("any")
        rows = rows[with_entry].assign(year=year)
        rows["set_id"] = rows["firm_id"] + "#" + str(year)
        parts.append(rows)
    if not parts:
        raise NoEntries("no years to learn from")
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["set_id", "country_code"], kind="stable").reset_index(drop=True)


def fit(
    rows: pd.DataFrame, *, l2: float = 1.0, terms: tuple[str, ...] = EVIDENCE_TERMS
) -> MarketModel:
    """Maximum likelihood of the conditional logit on `choice_sets` rows."""
    from scipy.optimize import minimize

    if rows.empty or not rows["chosen"].any():
        raise NoEntries("no firm entered a new country in the training years")
    rows = rows.sort_values("set_id", kind="stable")
    mean = {t: float(rows[t].mean()) for t in terms}
    scale = {t: float(rows[t].std()) or 1.0 for t in terms}
    x = MarketModel(terms, mean, scale, dict.fromkeys(terms, 0.0)).standardised(rows)
    chosen = rows["chosen"].to_numpy(bool)
    _, starts = np.unique(rows["set_id"].to_numpy(), return_index=True)
    bounds = np.append(starts, len(rows))
    group = np.repeat(np.arange(len(starts)), np.diff(bounds))
    n_sets = len(starts)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        u = x @ w
        top = np.maximum.reduceat(u, bounds[:-1])
        e = np.exp(u - top[group])
        total = np.add.reduceat(e, bounds[:-1])
        log_norm = top + np.log(total)
        p = e / total[group]
        expected = np.add.reduceat(p[:, None] * x, bounds[:-1], axis=0)  # per set E[x]
        picks = np.add.reduceat(chosen.astype(float), bounds[:-1])
        value = -(u[chosen].sum() - (picks * log_norm).sum()) / n_sets + l2 * (w @ w) / n_sets
        grad = -(x[chosen].sum(axis=0) - (picks[:, None] * expected).sum(axis=0)) / n_sets
        return float(value), grad + 2 * l2 * w / n_sets

    result = minimize(loss, np.zeros(len(terms)), jac=True, method="L-BFGS-B")
    if not result.success:
        raise RuntimeError(f"the market model did not converge: {result.message}")
    return MarketModel(terms, mean, scale, dict(zip(terms, map(float, result.x), strict=True)))


def softmax_by(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Softmax of `values` within each group (rows of a group need not be adjacent)."""
    frame = pd.DataFrame({"v": values, "g": groups})
    top = frame.groupby("g")["v"].transform("max")
    e = np.exp(frame["v"] - top)
    out: np.ndarray = (e / e.groupby(frame["g"]).transform("sum")).to_numpy()
    return out
