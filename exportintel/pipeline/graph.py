"""The pipeline's steps and their order, declared once.

The CDK app turns this graph into the Step Functions state machine (`infra/pipeline.py`), and
`exportintel pipeline run` walks it on the local emulation (`exportintel.pipeline.local`): a
test compares the two orders. The graph is a `Chain` of steps and `Parallel` blocks:

    Curate (one branch per dataset landing in raw, in parallel)
    Models (in parallel):
      continuity: export_status -> continuity_features -> train -> gate -> score -> load -> alert
      matching:   matching_inputs -> train -> gate -> score -> load
      markets:    train -> gate -> score -> load

The market model has no derive step: its jobs compute the evidence from the curated tables
themselves (`exportintel.markets.data.INPUT_TABLES`).

Each run says, per model, what to do (`Mode`): `train` runs its whole branch (retrain, judge
the new version at the quality gate, score with it if it passed), `score` re-scores with the
version already serving (fresh features, same model), `skip` leaves the model alone. Curation
always runs. A step runs when its model's mode is in `runs_when`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from exportintel.contracts import all_contracts
from exportintel.glue_jobs import CONTINUITY_FEATURES, EXPORT_STATUS, MATCHING_INPUTS

Mode = Literal["train", "score", "skip"]
MODES: tuple[Mode, ...] = get_args(Mode)
Kind = Literal["curate", "derive", "train", "gate", "score", "load", "alert"]
MODELS = ("continuity", "matching", "markets")

WHEN_TRAINING: frozenset[Mode] = frozenset({"train"})
WHEN_SCORING: frozenset[Mode] = frozenset({"train", "score"})
ALWAYS: frozenset[Mode] = frozenset(MODES)


@dataclass(frozen=True)
class Step:
    """One task: `kind` says what runs (a Glue job, a SageMaker job, a function), `target`
    on what (a dataset, a derived-table job, a model)."""

    kind: Kind
    target: str
    model: str | None = None  # the model whose mode decides whether it runs; None: always
    runs_when: frozenset[Mode] = ALWAYS

    @property
    def name(self) -> str:
        """Unique in the graph; the Step Functions state name is derived from it."""
        return f"{self.kind}-{self.target}"

    def runs(self, modes: Mapping[str, Mode]) -> bool:
        return self.model is None or modes[self.model] in self.runs_when


@dataclass(frozen=True)
class Chain:
    """Items one after the other."""

    items: tuple[Step | Parallel, ...]


@dataclass(frozen=True)
class Parallel:
    """Branches that run side by side (one after the other locally); all must succeed."""

    name: str
    branches: tuple[Chain, ...]


def _model_branch(model: str, derive: tuple[str, ...], *, alert: bool) -> Chain:
    scoring = (
        *(Step("derive", job, model, WHEN_SCORING) for job in derive),
        Step("train", model, model, WHEN_TRAINING),
        Step("gate", model, model, WHEN_TRAINING),
        Step("score", model, model, WHEN_SCORING),
        Step("load", model, model, WHEN_SCORING),
    )
    tail = (Step("alert", model, model, WHEN_SCORING),) if alert else ()
    return Chain((*scoring, *tail))


def curated_sources() -> tuple[str, ...]:
    """Every dataset that lands in raw: one curation job each."""
    return tuple(c.name for c in all_contracts() if c.lands_in_raw)


def pipeline() -> Chain:
    """The whole graph (built from the contracts and the derived-table jobs)."""
    return Chain(
        (
            Parallel("Curate", tuple(Chain((Step("curate", d),)) for d in curated_sources())),
            Parallel(
                "Models",
                (
                    _model_branch(
                        "continuity", (EXPORT_STATUS.name, CONTINUITY_FEATURES.name), alert=True
                    ),
                    _model_branch("matching", (MATCHING_INPUTS.name,), alert=False),
                    _model_branch("markets", (), alert=False),
                ),
            ),
        )
    )


def steps(node: Chain | Parallel | Step | None = None) -> Iterator[Step]:
    """Every step, depth first in declaration order: the order the local runner follows."""
    node = pipeline() if node is None else node
    if isinstance(node, Step):
        yield node
    elif isinstance(node, Chain):
        for item in node.items:
            yield from steps(item)
    else:
        for branch in node.branches:
            yield from steps(branch)


class BadModes(ValueError):
    """A run asked for an unknown model or mode."""


def parse_modes(requested: Mapping[str, str] | None = None) -> dict[str, Mode]:
    """Every model's mode: the requested ones, `skip` for the rest; unknown names refused."""
    requested = dict(requested or {})
    unknown = sorted(set(requested) - set(MODELS))
    if unknown:
        raise BadModes(f"unknown model(s) {unknown}; the models are {list(MODELS)}")
    modes: dict[str, Mode] = {}
    for model in MODELS:
        mode = requested.get(model, "skip")
        if mode not in MODES:
            raise BadModes(f"{model}: unknown mode {mode!r}; expected one of {list(MODES)}")
        modes[model] = mode
    return modes
