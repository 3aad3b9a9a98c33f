"""Fair exploration: which of the stored top K a firm is shown, and how exposure spreads.

Serving shows at most `shown` (10) recommendations, drawn without replacement from the K
(100) stored candidates with probability rising with the score: Gumbel top-k, i.e. sorting
ln(score) / T + G by key, G standard Gumbel noise, which draws a Plackett-Luce ranking with
weights score^(1/T). The temperature is `explore`:

- `explore = 0`: no noise, exactly the plain top `shown` by score;
- `explore = 1`: each pick is proportional to the score among the candidates left;
- in between: proportional to score^(1/explore), sharper as explore falls.

The noise is a fixed function of (seed, firm id, slot) (SplitMix64 of a CRC32 of the id), so a
draw is reproducible with its seed and does not depend on how the firms were chunked.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from exportintel.matching.content import stable_unit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SCORE_FLOOR = 1e-12


def firm_keys(ids: Sequence[str]) -> IntArray:
    """A stable integer per firm id (CRC32), the same in every run and on every machine."""
    return np.asarray([zlib.crc32(str(i).encode("utf-8")) for i in ids], dtype=np.int64)


def gumbel_noise(keys: IntArray, slots: int, seed: int) -> FloatArray:
    """Standard Gumbel noise per (firm key, slot), a fixed function of the seed."""
    cells = keys[:, None] * np.int64(1 << 20) + np.arange(slots, dtype=np.int64)[None, :]
    u = stable_unit(cells.ravel(), salt=seed & 0xFFFFFFFF).reshape(cells.shape)
    u = np.clip(u, 1e-16, 1.0 - 1e-16)
    return np.asarray(-np.log(-np.log(u)))


def draw(scores: FloatArray, shown: int, explore: float, *, keys: IntArray, seed: int) -> IntArray:
    """Per row, the positions (into the row's stored candidates) of the `shown` drawn, in the
    order drawn; -1 pads rows with fewer candidates. NaN scores are empty slots."""
    if not 0.0 <= explore <= 1.0:
        raise ValueError(f"explore must be within 0..1, got {explore!r}")
    scores = np.asarray(scores, dtype=np.float64)
    present = np.isfinite(scores)
    log_score = np.log(np.maximum(np.where(present, scores, SCORE_FLOOR), SCORE_FLOOR))
    if explore == 0.0:
        key = log_score
    else:
        key = log_score / explore + gumbel_noise(keys, scores.shape[1], seed)
    key = np.where(present, key, -np.inf)
    # Stable sort on -key: ties keep the stored order (rank by score, then position).
    order = np.argsort(-key, axis=1, kind="stable")[:, :shown]
    taken = np.take_along_axis(present, order, axis=1)
    return np.where(taken, order, -1)


# --------------------------------------------------------------------------- exposure


def exposure_counts(lists: IntArray, items: int, weights: FloatArray | None = None) -> FloatArray:
    """How often each item appears in the lists (rows of item positions, -1 pads)."""
    rows = np.repeat(np.arange(lists.shape[0]), lists.shape[1])
    flat = lists.ravel()
    keep = flat >= 0
    w = np.ones(len(flat)) if weights is None else np.asarray(weights)[rows]
    return np.bincount(flat[keep], weights=w[keep], minlength=items).astype(np.float64)


def coverage(counts: FloatArray) -> float:
    """Share of the items shown at least once."""
    return float((counts > 0).mean()) if len(counts) else float("nan")


def gini(counts: FloatArray) -> float:
    """Gini coefficient of exposure over all items (0: everyone equally, 1: one item gets
    everything); items never shown count as zeros."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(values)
    total = values.sum()
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * values).sum()) / (n * total) - (n + 1.0) / n)
