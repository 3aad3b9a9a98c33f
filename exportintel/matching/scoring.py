"""Rank the candidates of query firms with a fitted model: the stored top K per firm.

For each chunk of query firms: candidates from the snapshot (collaborative, content and
popular, leaving out pairs already seen and bad-credit buyers), features, the reciprocal score
of every candidate, the top K by score. Chunks keep the memory bounded at any scale: a chunk
holds `chunk` query firms x a few hundred candidates, float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from exportintel.contracts.matching import RECOMMENDATION_DIRECTIONS, RECOMMENDATIONS
from exportintel.contracts.schemas import arrow_schema
from exportintel.matching.content import top_per_row
from exportintel.matching.exploration import draw, firm_keys
from exportintel.matching.features import DIRECTIONS, CandidateLists, Direction
from exportintel.matching.reasons import TOP_REASONS, explain
from exportintel.matching.reciprocal import Scored
from exportintel.matching.training import MatchingModel

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DEFAULT_CHUNK = 2_000


@dataclass
class RankedLists:
    """The top K of each query firm: positions of the candidates (-1 pads), their scores and
    each side's probability, best first."""

    direction: Direction
    queries: IntArray
    items: IntArray  # queries x K
    score: FloatArray
    p_own: FloatArray
    p_other: FloatArray
    features: pd.DataFrame  # the features of every stored pair, row-major over (query, rank)
    stored: npt.NDArray[np.bool_]  # queries x K: which slots hold a candidate


def rank_chunk(
    model: MatchingModel, direction: Direction, queries: IntArray, k: int
) -> tuple[CandidateLists, RankedLists]:
    """Candidates and the ranked top `k` of one chunk of query firms."""
    snapshot = model.snapshot
    candidates = snapshot.candidates(direction, queries, model.options.pool)
    rows, items = candidates.union()
    e, b = (queries[rows], items) if direction == "exporter" else (items, queries[rows])
    features = snapshot.pair_frame(e, b, rows)
    scored = model.directions[direction].score(features)
    # Ties (rare with continuous scores) go to the lower position: the same order every run.
    order_ids, _ = top_per_row(
        rows,
        np.arange(len(rows), dtype=np.int64),
        scored.score.astype(np.float32),
        len(queries),
        k,
    )
    stored = order_ids >= 0
    picked = order_ids[stored]

    def spread(values: npt.NDArray[np.generic], fill: float) -> FloatArray:
        out = np.full(order_ids.shape, fill, dtype=np.float64)
        out[stored] = values[picked]
        return out

    ranked_items = np.full(order_ids.shape, -1, dtype=np.int64)
    ranked_items[stored] = items[picked]
    ranked = RankedLists(
        direction=direction,
        queries=queries,
        items=ranked_items,
        score=spread(scored.score, np.nan),
        p_own=spread(scored.p_own, np.nan),
        p_other=spread(scored.p_other, np.nan),
        features=features.iloc[picked].reset_index(drop=True),
        stored=stored,
    )
    return candidates, ranked


def rank_all(
    model: MatchingModel,
    direction: Direction,
    queries: IntArray,
    k: int,
    *,
    chunk: int = DEFAULT_CHUNK,
) -> Iterator[tuple[CandidateLists, RankedLists]]:
    """`rank_chunk` over `queries` in chunks of `chunk` firms."""
    for start in range(0, len(queries), chunk):
        yield rank_chunk(model, direction, queries[start : start + chunk], k)


def scored_of(ranked: RankedLists) -> Scored:
    """The stored pairs' scores, row-major, as the reciprocal model returned them."""
    return Scored(
        ranked.score[ranked.stored], ranked.p_own[ranked.stored], ranked.p_other[ranked.stored]
    )


# --------------------------------------------------------------------------- output

DIRECTION_NAMES: dict[Direction, str] = dict(
    zip(DIRECTIONS, RECOMMENDATION_DIRECTIONS, strict=True)
)
OUTPUT_FILES: dict[Direction, str] = {
    "exporter": "recommendations.parquet",
    "buyer": "recommendations_for_buyers.parquet",
}
# The files are the `recommendations` contract's curated columns, typed on write.
RECOMMENDATION_SCHEMA = arrow_schema(RECOMMENDATIONS)


@dataclass(frozen=True)
class ServingOptions:
    k: int = 100  # stored candidates per query firm
    shown: int = 10  # drawn from them for one serving
    explore: float = 0.0
    seed: int = 7
    top_reasons: int = TOP_REASONS
    chunk: int = DEFAULT_CHUNK
    approximate_reasons: bool = False  # Saabas attributions instead of tree SHAP
    # Reasons for the first `explain_top` ranks of each list and every pair drawn (tree SHAP
    # is the costly part of scoring; the stored tail is rarely shown).
    explain_top: int = 100


def default_queries(model: MatchingModel, direction: Direction) -> IntArray:
    """Every exporter, or every buyer not blocked: the firms of the training data."""
    firms = model.snapshot.firms
    if direction == "exporter":
        return np.arange(len(firms.exporters), dtype=np.int64)
    return np.flatnonzero(~firms.blocked).astype(np.int64)


def shown_ranks(picks: IntArray, width: int) -> npt.NDArray[np.int32]:
    """Per stored slot, its position in the drawn list (1..shown), 0 when not drawn."""
    out = np.zeros((picks.shape[0], width), dtype=np.int32)
    rows, order = np.nonzero(picks >= 0)
    out[rows, picks[rows, order]] = order + 1
    return out


def recommendation_tables(
    model: MatchingModel,
    direction: Direction,
    options: ServingOptions,
    queries: IntArray | None = None,
) -> Iterator[pa.Table]:
    """The stored top K of every query firm with scores, reasons and the drawn `shown`, one
    Arrow table per chunk (see `RECOMMENDATION_SCHEMA`)."""
    firms = model.snapshot.firms
    queries = default_queries(model, direction) if queries is None else queries
    query_ids = firms.exporters if direction == "exporter" else firms.buyers
    fitted = model.directions[direction]
    for _, ranked in rank_all(model, direction, queries, options.k, chunk=options.chunk):
        stored = ranked.stored
        rows, slots = np.nonzero(stored)
        query = ranked.queries[rows]
        item = ranked.items[stored]
        e, b = (query, item) if direction == "exporter" else (item, query)
        scored = scored_of(ranked)
        picks = draw(
            ranked.score,
            options.shown,
            options.explore,
            keys=firm_keys(query_ids[ranked.queries]),
            seed=options.seed,
        )
        shown = shown_ranks(picks, ranked.score.shape[1])[stored]
        # Reasons for the top `explain_top` of each list and for every pair drawn.
        explained = np.flatnonzero((slots < options.explain_top) | (shown > 0))
        counts = np.zeros(len(e), dtype=np.int32)
        codes: list[Any] = []
        values: list[Any] = []
        texts_en: list[Any] = []
        texts_ko: list[Any] = []
        if options.top_reasons > 0 and len(explained):
            features = ranked.features.iloc[explained].reset_index(drop=True)
            part = Scored(scored.score[explained], scored.p_own[explained],
                          scored.p_other[explained])  # fmt: skip
            contributions = fitted.contributions(
                features, part, approximate=options.approximate_reasons
            )
            reasons = explain(model.snapshot, e[explained], b[explained], features,
                              contributions, top=options.top_reasons)  # fmt: skip
            counts[explained] = np.diff(reasons.offsets)
            # A reason without a single value (taste fit, similar partners) stores "".
            codes = reasons.codes
            values = ["" if value is None else value for value in reasons.values]
            texts_en, texts_ko = reasons.en, reasons.ko
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32), pa.int32())

        def listed(items: list[Any], offsets: pa.Array = offsets) -> pa.Array:
            return pa.ListArray.from_arrays(offsets, pa.array(items, pa.string()))

        p_own, p_other = scored.p_own, scored.p_other
        p_exporter, p_buyer = (p_own, p_other) if direction == "exporter" else (p_other, p_own)
        yield pa.table(
            {
                "exporter_id": pa.array(firms.exporters[e].astype(str), pa.string()),
                "buyer_id": pa.array(firms.buyers[b].astype(str), pa.string()),
                "direction": pa.array([DIRECTION_NAMES[direction]] * len(e), pa.string()),
                "rank": pa.array(slots + 1, pa.int32()),
                "score": pa.array(scored.score, pa.float64()),
                "p_exporter": pa.array(p_exporter, pa.float64()),
                "p_buyer": pa.array(p_buyer, pa.float64()),
                "shown_rank": pa.array(np.where(shown > 0, shown, 0), pa.int32(), mask=shown == 0),
                "reason_codes": listed(codes),
                "reason_values": listed(values),
                "reasons_en": listed(texts_en),
                "reasons_ko": listed(texts_ko),
                "model_version": pa.array([model.version] * len(e), pa.string()),
            },
            schema=RECOMMENDATION_SCHEMA,
        )


def write_recommendations(
    model: MatchingModel, output_dir: Path, options: ServingOptions
) -> dict[str, Any]:
    """Both directions' files into `output_dir`, chunk by chunk; returns row counts."""
    import pyarrow.parquet as pq

    output_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    for direction in DIRECTIONS:
        path = output_dir / OUTPUT_FILES[direction]
        rows = shown = 0
        queries = 0
        with pq.ParquetWriter(path, RECOMMENDATION_SCHEMA) as writer:
            for table in recommendation_tables(model, direction, options):
                writer.write_table(table)
                rows += table.num_rows
                shown += table.num_rows - table.column("shown_rank").null_count
            queries = len(default_queries(model, direction))
        summary[DIRECTION_NAMES[direction]] = {
            "file": path.name,
            "query_firms": queries,
            "rows": rows,
            "shown_rows": shown,
        }
    return summary
