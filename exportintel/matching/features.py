"""What the recommender knows at one moment (a snapshot), and the features of a pair from it.

A snapshot is built from the interactions before its as-of time only, each weight decayed to
that time (`decay_weights`, half-life `half_life_days`), and from the side tables. The ranker
learns on a snapshot taken at an inner cutoff with labels from after it, and scores with a
snapshot taken at the end of the data: the same features, measured the same way.

Features of a pair (exporter e, buyer b), in this order:

- collaborative: `cf_score`, the dot product of the ALS factors (a cold firm uses its
  content-imputed factor), and `embedding_similarity`, the dot product of both content-imputed
  factors (the low-dimensional generalisation: do these codes meet in taste space?);
- history of each firm: `*_activity` (ln 1 + decayed weight of all its interactions),
  `*_outgoing` (of those it acted on itself), `*_incoming` (of those the other side acted on),
  `*_partners` (ln 1 + distinct counterparts). New firms have zeros: the ranker learns the cold
  start from the firms that were new at the inner cutoff;
- content (`content.ContentModel`): code levels and overlaps, text similarity, same-category
  flags, price and volume fit, the currency move, `content_score`;
- crosses (the memorisation half): the smoothed log-lift of interactions between the
  exporter's HS chapter and each buyer category (country, currency), and between the buyer's
  wanted chapter and each exporter category (region, raw material): ln((n + a) / (expected +
  a)), expected = row total x column total / total, a = `cross_smoothing`, averaged over a
  firm's chapters;
- side columns of both firms as they are (numeric, categorical), prefixed `exporter:` and
  `buyer:` (stability, capability, size, credit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from exportintel.matching.collaborative import (
    CFParams,
    CollaborativeModel,
    impute_factors,
    pair_scores,
    preference_matrix,
    top_items,
)
from exportintel.matching.content import (
    ContentModel,
    ContentSpec,
    in_matrix,
    row_dots,
    top_per_row,
)
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
from exportintel.matching.interactions import decay_weights
from exportintel.models.tabular import MISSING, OTHER, Feature, Schema, prepare

Direction = Literal["exporter", "buyer"]  # the query side: "exporter" = buyers for an exporter
DIRECTIONS: tuple[Direction, ...] = ("exporter", "buyer")
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
SIDE_PREFIX = {"exporter": "exporter:", "buyer": "buyer:"}
STATS = ("activity", "outgoing", "incoming", "partners")


# Features whose rise can only make a pair more likely (+1) or less likely (-1): the ranker is
# held to it (xgboost monotone constraints). Domain knowledge that small data cannot overturn
# by noise, and reasons that never say "HS 8504 matches" against a pair.
_RISING = ("code_level:", "codes_shared:", "text_similarity:", "same:", "interest:", "cross:")
_RISING_NAMES = frozenset(
    {"cf_score", "embedding_similarity", "price_fit", "volume_fit", "content_score",
     "cf_score_gap", "embedding_similarity_gap", "content_score_gap"}
)  # fmt: skip
_FALLING_NAMES = frozenset({"price_gap"})


def monotone_direction(feature: str) -> int:
    """+1 (never lowers the score as it rises), -1 (never raises it) or 0 (free)."""
    if feature in _RISING_NAMES or feature.startswith(_RISING):
        return 1
    if feature in _FALLING_NAMES:
        return -1
    return 0


def other_side(direction: Direction) -> Direction:
    return "buyer" if direction == "exporter" else "exporter"


@dataclass(frozen=True)
class FeatureOptions:
    half_life_days: float = 365.0
    cf: CFParams = field(default_factory=CFParams)
    cross_smoothing: float = 10.0
    max_cross_categories: int = 100


@dataclass(frozen=True)
class PoolSizes:
    """Candidates per query from each generator; their union goes to the ranker."""

    cf: int = 100
    content: int = 100
    popular: int = 20
    bucket: int = 2_000  # content: items kept per code (see content.py)


# --------------------------------------------------------------------------- side schema


def side_schema(
    spec: ContentSpec, exporters: pd.DataFrame | None, buyers: pd.DataFrame | None
) -> Schema:
    """The side columns the ranker reads, their kinds and categories (prefixed names)."""
    features: list[Feature] = []
    for side, frame, numeric, categorical in (
        ("exporter", exporters, spec.exporter_numeric, spec.exporter_categorical),
        ("buyer", buyers, spec.buyer_numeric, spec.buyer_categorical),
    ):
        if frame is None:
            continue
        prefix = SIDE_PREFIX[side]
        for name in numeric:
            values = pd.to_numeric(frame[name].astype("object"), errors="coerce")
            features.append(Feature(prefix + name, "numeric", reference=float(values.mean())))
        for name in categorical:
            counts = frame[name].dropna().astype(str).value_counts()
            ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            kept = [c for c, _ in ordered[:50] if c not in (OTHER, MISSING)]
            features.append(Feature(prefix + name, "categorical", (*kept, OTHER, MISSING)))
    return Schema(tuple(features))


def _side_frame(
    frame: pd.DataFrame | None, key: str, ids: pd.Index, schema: Schema, side: str
) -> pd.DataFrame:
    """The side columns of `schema` for every firm of `ids` (missing rows all-missing)."""
    prefix = SIDE_PREFIX[side]
    own = Schema(tuple(f for f in schema.features if f.name.startswith(prefix)))
    if not own.features or frame is None:
        return pd.DataFrame(index=pd.RangeIndex(len(ids)))
    aligned = frame.set_index(key).reindex(ids)
    renamed = aligned[[f.name[len(prefix) :] for f in own.features]].set_axis(own.names, axis=1)
    prepared = prepare(renamed.reset_index(drop=True), own)
    for f in own.numeric:
        prepared[f.name] = prepared[f.name].astype(np.float32)
    return prepared


# --------------------------------------------------------------------------- crosses


@dataclass
class Cross:
    """Log-lift of interactions between a multi-code key of one side and a category of the
    other, stored per firm of the coded side (firms x categories of the other side)."""

    name: str
    coded_side: Direction
    lift: FloatArray  # coded-side firms x categories
    category: npt.NDArray[np.int32]  # per firm of the other side, -1 unknown

    def values(self, e: IntArray, b: IntArray) -> FloatArray:
        coded, other = (e, b) if self.coded_side == "exporter" else (b, e)
        category = self.category[other]
        out = np.full(len(e), np.nan, dtype=np.float32)
        known = category >= 0
        out[known] = self.lift[coded[known], category[known]]
        return out


def _categories(frame: pd.DataFrame | None, key: str, column: str, ids: pd.Index, top: int) -> Any:
    if frame is None:
        return np.full(len(ids), -1, dtype=np.int32)
    values = frame.set_index(key)[column].reindex(ids).astype("object")
    counts = values.dropna().astype(str).value_counts()
    kept = sorted(counts.index[:top])
    index = {c: i for i, c in enumerate(kept)}
    return np.asarray(
        [index.get(str(v), -1) if v is not None and v == v else -1 for v in values],
        dtype=np.int32,
    )


def build_crosses(
    content: ContentModel,
    preference: sp.csr_matrix,
    exporters: pd.DataFrame | None,
    buyers: pd.DataFrame | None,
    firms: Firms,
    options: FeatureOptions,
) -> list[Cross]:
    """The cross features the data supports (see the module docstring)."""
    spec = content.spec
    matches = list(spec.hierarchical) or list(spec.codes)
    if not matches:
        return []
    coarse = content.levels[matches[0].name][-1]  # the chapter level of the first code match
    crosses: list[Cross] = []
    plans: list[tuple[Direction, str, sp.csr_matrix, str]] = []
    for column in spec.buyer_categorical:
        if column not in spec.same:
            plans.append(("exporter", matches[0].exporter_column, coarse.exporters, column))
    for column in spec.exporter_categorical:
        if column not in spec.same:
            plans.append(("buyer", matches[0].buyer_column, coarse.buyers, column))
    total = float(preference.sum())
    if total <= 0:
        return []
    for coded_side, code_column, codes, column in plans:
        if coded_side == "exporter":
            category = _categories(
                buyers, BUYER_ID, column, firms.buyers, options.max_cross_categories
            )
            by_firm = preference  # exporters x buyers
        else:
            category = _categories(
                exporters, EXPORTER_ID, column, firms.exporters, options.max_cross_categories
            )
            by_firm = preference.T.tocsr()  # buyers x exporters
        n_categories = int(category.max(initial=-1)) + 1
        if n_categories == 0:
            continue
        known = category >= 0
        onehot = sp.csr_matrix(
            (np.ones(int(known.sum()), np.float32), (np.flatnonzero(known), category[known])),
            shape=(len(category), n_categories),
        )
        # Weight between each code and each category of the counterparts.
        counts = np.asarray((codes.T @ (by_firm @ onehot)).todense(), dtype=np.float64)
        expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True)
        expected /= max(counts.sum(), 1e-12)
        a = options.cross_smoothing
        code_lift = np.log((counts + a) / (expected + a))
        per_code = np.asarray(codes.sum(axis=1)).ravel()
        lift = np.asarray(codes @ code_lift, dtype=np.float64)
        lift[per_code > 0] /= per_code[per_code > 0, None]
        lift[per_code == 0] = np.nan
        crosses.append(
            Cross(f"cross:{code_column}*{column}", coded_side, lift.astype(np.float32), category)
        )
    return crosses


@dataclass
class Interest:
    """What a firm engaged with before: the share of its decayed weight that went to firms of
    each category (or code) of the other side, read at the candidate's categories."""

    name: str
    side: Direction  # whose interest
    table: sp.csr_matrix  # firms of `side` x categories, rows sum to 1 (or 0)
    codes: sp.csr_matrix  # firms of the other side x categories, 0/1

    def values(self, e: IntArray, b: IntArray) -> FloatArray:
        own, other = (e, b) if self.side == "exporter" else (b, e)
        shared = row_dots(self.table, self.codes, own, other)
        count = np.diff(self.codes.indptr)[other].astype(np.float32)
        out = np.full(len(e), np.nan, dtype=np.float32)
        known = count > 0
        out[known] = shared[known] / count[known]
        return out


def _onehot(category: npt.NDArray[np.int32]) -> sp.csr_matrix:
    known = category >= 0
    return sp.csr_matrix(
        (np.ones(int(known.sum()), np.float32), (np.flatnonzero(known), category[known])),
        shape=(len(category), int(category.max(initial=-1)) + 1),
    )


def build_interests(
    content: ContentModel,
    preference: sp.csr_matrix,
    exporters: pd.DataFrame | None,
    buyers: pd.DataFrame | None,
    firms: Firms,
    options: FeatureOptions,
) -> list[Interest]:
    """Each side's interest in every category column and in the chapters of the other side
    (the per-user interest table of the behaviour scoring, learned from the decayed weights)."""
    spec = content.spec
    keys: dict[Direction, list[tuple[str, sp.csr_matrix]]] = {"exporter": [], "buyer": []}
    matches = list(spec.hierarchical) or list(spec.codes)
    if matches:
        coarse = content.levels[matches[0].name][-1]
        keys["exporter"].append((matches[0].exporter_column, coarse.exporters))
        keys["buyer"].append((matches[0].buyer_column, coarse.buyers))
    for column in spec.exporter_categorical:
        category = _categories(
            exporters, EXPORTER_ID, column, firms.exporters, options.max_cross_categories
        )
        keys["exporter"].append((column, _onehot(category)))
    for column in spec.buyer_categorical:
        category = _categories(buyers, BUYER_ID, column, firms.buyers, options.max_cross_categories)
        keys["buyer"].append((column, _onehot(category)))
    interests = []
    by_side: dict[Direction, sp.csr_matrix] = {
        "exporter": preference,
        "buyer": preference.T.tocsr(),
    }
    for side, weights in by_side.items():
        totals = np.asarray(weights.sum(axis=1)).ravel()
        scale = sp.diags(np.where(totals > 0, 1.0 / np.maximum(totals, 1e-12), 0.0))
        for column, codes in keys[other_side(side)]:
            table = (scale @ (weights @ codes)).astype(np.float32).tocsr()
            interests.append(Interest(f"interest:{side}:{column}", side, table, codes.tocsr()))
    return interests


def _as_text(value: Any) -> str | None:
    if isinstance(value, list | tuple | np.ndarray):
        return ",".join(str(v) for v in value) if len(value) else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def group_gap(values: FloatArray, groups: IntArray) -> FloatArray:
    """Each value minus the largest of its group (NaN stays NaN; groups are contiguous)."""
    out = np.full(len(values), np.nan, dtype=np.float32)
    if len(values) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    filled = np.where(np.isnan(values), -np.inf, values)
    best = np.maximum.reduceat(filled, starts)
    sizes = np.diff(np.r_[starts, len(values)])
    gap = values - np.repeat(best, sizes)
    known = np.isfinite(gap)
    out[known] = gap[known]
    return out


# --------------------------------------------------------------------------- snapshot


@dataclass
class CandidateLists:
    """Each generator's ranked list per query (positions, -1 padded) and their union."""

    queries: IntArray
    cf: tuple[IntArray, FloatArray]
    content: tuple[IntArray, FloatArray]
    popular: tuple[IntArray, FloatArray]

    def union(self) -> tuple[IntArray, IntArray]:
        """(row into `queries`, item) pairs, each pair once, sorted by row then item."""
        blocks = [self.cf[0], self.content[0], self.popular[0]]
        rows = np.concatenate([np.repeat(np.arange(len(self.queries)), b.shape[1]) for b in blocks])
        items = np.concatenate([b.ravel() for b in blocks])
        keep = items >= 0
        width = np.int64(max(int(items.max(initial=0)) + 1, 1))
        keys = np.unique(rows[keep].astype(np.int64) * width + items[keep])
        return keys // width, keys % width


@dataclass
class Snapshot:
    """The recommender's knowledge as of `as_of` (see the module docstring)."""

    firms: Firms
    as_of: pd.Timestamp
    seen: sp.csr_matrix  # exporters x buyers: pairs with any interaction before as_of
    stats: dict[str, FloatArray]  # "<side>_<stat>" per firm of the side
    cf_exporters: FloatArray  # ALS factor, or the content-imputed one for cold firms
    cf_buyers: FloatArray
    embedding_exporters: FloatArray  # content-imputed factors of every firm
    embedding_buyers: FloatArray
    content: ContentModel
    crosses: list[Cross]
    interests: list[Interest]
    schema: Schema
    exporter_sides: pd.DataFrame  # the ranker's side columns, one row per firm position
    buyer_sides: pd.DataFrame
    exporters: pd.DataFrame | None  # the side tables as given (saved with the model)
    buyers: pd.DataFrame | None

    @classmethod
    def build(
        cls,
        data: MatchingData,
        firms: Firms,
        as_of: pd.Timestamp,
        spec: ContentSpec,
        schema: Schema,
        options: FeatureOptions,
    ) -> Snapshot:
        events = data.interactions[data.interactions[TS] < as_of]
        e = firms.exporter_positions(events[EXPORTER_ID])
        b = firms.buyer_positions(events[BUYER_ID])
        shape = (len(firms.exporters), len(firms.buyers))
        weights = decay_weights(
            events[WEIGHT].to_numpy(), events[TS].to_numpy(), as_of, options.half_life_days
        )
        preference = preference_matrix(e, b, weights, shape)
        seen = sp.csr_matrix((np.ones(len(e), np.float32), (e, b)), shape=shape)
        seen.sum_duplicates()
        seen.data[:] = 1.0
        actor = events[ACTOR].to_numpy() if ACTOR in events.columns else None
        stats = _firm_stats(preference, seen, e, b, weights, actor, shape)
        cf = CollaborativeModel.fit(preference, options.cf)
        content = ContentModel.build(spec, data.exporters, data.buyers, firms)
        warm_e, warm_b = cf.warm_exporters, cf.warm_buyers
        embedding_e = impute_factors(cf.exporter_factors, warm_e, content.profile("exporter"))
        embedding_b = impute_factors(cf.buyer_factors, warm_b, content.profile("buyer"))
        cf_e = np.where(warm_e[:, None], cf.exporter_factors, embedding_e).astype(np.float32)
        cf_b = np.where(warm_b[:, None], cf.buyer_factors, embedding_b).astype(np.float32)
        crosses = build_crosses(content, preference, data.exporters, data.buyers, firms, options)
        interests = build_interests(
            content, preference, data.exporters, data.buyers, firms, options
        )
        return cls(
            firms=firms,
            as_of=as_of,
            seen=seen,
            stats=stats,
            cf_exporters=cf_e,
            cf_buyers=cf_b,
            embedding_exporters=embedding_e,
            embedding_buyers=embedding_b,
            content=content,
            crosses=crosses,
            interests=interests,
            schema=schema,
            exporter_sides=_side_frame(
                data.exporters, EXPORTER_ID, firms.exporters, schema, "exporter"
            ),
            buyer_sides=_side_frame(data.buyers, BUYER_ID, firms.buyers, schema, "buyer"),
            exporters=data.exporters,
            buyers=data.buyers,
        )

    # ----------------------------------------------------------------------- features

    def feature_names(self) -> list[str]:
        return [
            "cf_score",
            "embedding_similarity",
            *(f"{side}_{stat}" for side in ("exporter", "buyer") for stat in STATS),
            *self.content.feature_names(),
            *(c.name for c in self.crosses),
            *(i.name for i in self.interests),
            *(f"{name}_gap" for name in self.relative_names()),
            *self.schema.names,
        ]

    def relative_names(self) -> list[str]:
        """Scores also given against the best candidate of the same query firm: a scale every
        query firm shares (imputed factors of new firms, for one, are shorter)."""
        names = ["cf_score", "embedding_similarity"]
        if self.content.has_content:
            names.append("content_score")
        return names

    def pair_frame(self, e: IntArray, b: IntArray, groups: IntArray) -> pd.DataFrame:
        """The features of the pairs (e[i], b[i]) in `feature_names` order; `groups` (one per
        pair, rows of a group together) are the query firms the relative scores refer to."""
        columns: dict[str, Any] = {
            "cf_score": pair_scores(self.cf_exporters, self.cf_buyers, e, b),
            "embedding_similarity": pair_scores(
                self.embedding_exporters, self.embedding_buyers, e, b
            ),
        }
        for side, rows in (("exporter", e), ("buyer", b)):
            for stat in STATS:
                columns[f"{side}_{stat}"] = self.stats[f"{side}_{stat}"][rows]
        columns.update(self.content.pair_features(e, b))
        for cross in self.crosses:
            columns[cross.name] = cross.values(e, b)
        for interest in self.interests:
            columns[interest.name] = interest.values(e, b)
        for name in self.relative_names():
            columns[f"{name}_gap"] = group_gap(columns[name], groups)
        for frame, rows in ((self.exporter_sides, e), (self.buyer_sides, b)):
            for name in frame.columns:
                column = frame[name]
                if isinstance(column.dtype, pd.CategoricalDtype):
                    codes = column.cat.codes.to_numpy()[rows]
                    columns[name] = pd.Categorical.from_codes(codes, column.cat.categories)
                else:
                    columns[name] = column.to_numpy()[rows]
        return pd.DataFrame(columns)[self.feature_names()]

    # ----------------------------------------------------------------------- candidates

    def popularity(self, side: Direction) -> FloatArray:
        return self.stats[f"{side}_activity"]

    def exclusions(self, direction: Direction, queries: IntArray) -> sp.csr_matrix:
        """Rows of the pairs already seen, one per query."""
        matrix = self.seen if direction == "exporter" else self.seen.T.tocsr()
        return matrix[queries]

    def candidates(
        self, direction: Direction, queries: IntArray, pool: PoolSizes, *, threads: int = 0
    ) -> CandidateLists:
        """Per query: collaborative, content and popular candidates, leaving out the pairs
        already seen and the blocked (bad-credit) buyers."""
        exclude = self.exclusions(direction, queries)
        blocked = self.firms.blocked
        if direction == "exporter":
            q_factors, i_factors, item_blocked = self.cf_exporters, self.cf_buyers, blocked
        else:
            q_factors, i_factors, item_blocked = self.cf_buyers, self.cf_exporters, None
        cf = top_items(
            q_factors[queries],
            i_factors,
            pool.cf,
            exclude=exclude,
            blocked=item_blocked,
            threads=threads,
        )
        retriever = self.retriever(direction, pool.bucket)
        content = retriever.candidates(queries, pool.content, exclude=exclude, blocked=blocked)
        popular = self._popular(direction, queries, pool.popular, exclude, item_blocked)
        if direction == "buyer":  # blocked buyers are never queries
            for ids, _ in (cf, content, popular):
                ids[blocked[queries]] = -1
        return CandidateLists(queries, cf, content, popular)

    def retriever(self, direction: Direction, bucket: int) -> Any:
        key = (direction, bucket)
        cache: dict[tuple[str, int], Any] = self.__dict__.setdefault("_retrievers", {})
        if key not in cache:
            prior = self.popularity(other_side(direction))
            cache[key] = self.content.retriever(direction, prior, bucket)
        return cache[key]

    def side_strings(self, side: Direction, column: str) -> npt.NDArray[np.object_]:
        """A side column as text per firm position (lists joined by ","; None when missing),
        built once: what reasons show as values."""
        cache: dict[tuple[str, str], Any] = self.__dict__.setdefault("_side_strings", {})
        key = (side, column)
        if key not in cache:
            frame = self.exporters if side == "exporter" else self.buyers
            ids = self.firms.exporters if side == "exporter" else self.firms.buyers
            out = np.full(len(ids), None, dtype=object)
            if frame is not None and column in frame.columns:
                id_column = EXPORTER_ID if side == "exporter" else BUYER_ID
                values = frame.set_index(id_column)[column].reindex(ids).to_numpy(dtype=object)
                out[:] = [_as_text(v) for v in values]
            cache[key] = out
        result: npt.NDArray[np.object_] = cache[key]
        return result

    def _popular(
        self,
        direction: Direction,
        queries: IntArray,
        n: int,
        exclude: sp.csr_matrix,
        blocked: npt.NDArray[np.bool_] | None,
    ) -> tuple[IntArray, FloatArray]:
        popularity = self.popularity(other_side(direction))
        eligible = popularity > 0
        if blocked is not None:
            eligible &= ~blocked
        order = np.flatnonzero(eligible)
        order = order[np.lexsort((order, -popularity[order]))]
        width = min(len(order), n + int(np.diff(exclude.indptr).max(initial=0)))
        top = order[:width]
        rows = np.repeat(np.arange(len(queries), dtype=np.int64), width)
        items = np.tile(top.astype(np.int64), len(queries))
        keep = ~in_matrix(exclude, rows, items) if exclude.nnz else np.ones(len(rows), bool)
        return top_per_row(rows[keep], items[keep], popularity[items[keep]], len(queries), n)


def _firm_stats(
    preference: sp.csr_matrix,
    seen: sp.csr_matrix,
    e: IntArray,
    b: IntArray,
    weights: npt.NDArray[np.float64],
    actor: npt.NDArray[Any] | None,
    shape: tuple[int, int],
) -> dict[str, FloatArray]:
    positive = np.maximum(weights, 0.0)
    if actor is None:
        by_exporter = by_buyer = positive
    else:
        by_exporter = np.where(actor != BUYER_ACTOR, positive, 0.0)  # the exporter (or both)
        by_buyer = np.where(actor != EXPORTER_ACTOR, positive, 0.0)

    def total(side_index: IntArray, values: npt.NDArray[np.float64], size: int) -> FloatArray:
        return np.log1p(np.bincount(side_index, weights=values, minlength=size)).astype(np.float32)

    return {
        "exporter_activity": np.log1p(np.asarray(preference.sum(axis=1)).ravel()).astype(
            np.float32
        ),
        "exporter_outgoing": total(e, by_exporter, shape[0]),
        "exporter_incoming": total(e, by_buyer, shape[0]),
        "exporter_partners": np.log1p(np.diff(seen.indptr)).astype(np.float32),
        "buyer_activity": np.log1p(np.asarray(preference.sum(axis=0)).ravel()).astype(np.float32),
        "buyer_outgoing": total(b, by_buyer, shape[1]),
        "buyer_incoming": total(b, by_exporter, shape[1]),
        "buyer_partners": np.log1p(np.bincount(seen.indices, minlength=shape[1])).astype(
            np.float32
        ),
    }


# --------------------------------------------------------------------------- persistence

SNAPSHOT_ARRAYS = "snapshot.npz"
EXPORTER_IDS = "exporter_ids.parquet"
BUYER_IDS = "buyer_ids.parquet"
SIDE_FILES = {"exporter": "exporters.parquet", "buyer": "buyers.parquet"}


def save_snapshot(snapshot: Snapshot, directory: Path) -> dict[str, Any]:
    """Arrays, ids and side tables into `directory`; returns what model.json records."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {
        "seen_indptr": snapshot.seen.indptr,
        "seen_indices": snapshot.seen.indices,
        "cf_exporters": snapshot.cf_exporters,
        "cf_buyers": snapshot.cf_buyers,
        "embedding_exporters": snapshot.embedding_exporters,
        "embedding_buyers": snapshot.embedding_buyers,
        **{f"stat_{name}": values for name, values in snapshot.stats.items()},
    }
    for i, cross in enumerate(snapshot.crosses):
        arrays[f"cross_{i}_lift"] = cross.lift
        arrays[f"cross_{i}_category"] = cross.category
    for i, interest in enumerate(snapshot.interests):
        for part, matrix in (("table", interest.table), ("codes", interest.codes)):
            arrays[f"interest_{i}_{part}_data"] = matrix.data
            arrays[f"interest_{i}_{part}_indices"] = matrix.indices
            arrays[f"interest_{i}_{part}_indptr"] = matrix.indptr
    np.savez(directory / SNAPSHOT_ARRAYS, **arrays)
    exporters, buyers = snapshot.firms.to_frames()
    exporters.to_parquet(directory / EXPORTER_IDS, index=False)
    buyers.to_parquet(directory / BUYER_IDS, index=False)
    for side, frame in (("exporter", snapshot.exporters), ("buyer", snapshot.buyers)):
        if frame is not None:
            frame.to_parquet(directory / SIDE_FILES[side], index=False)
    return {
        "as_of": snapshot.as_of.isoformat(),
        "exporters": len(snapshot.firms.exporters),
        "buyers": len(snapshot.firms.buyers),
        "seen_pairs": int(snapshot.seen.nnz),
        "crosses": [{"name": c.name, "coded_side": c.coded_side} for c in snapshot.crosses],
        "interests": [
            {"name": i.name, "side": i.side, "categories": i.table.shape[1]}
            for i in snapshot.interests
        ],
        "content": snapshot.content.spec.to_json(),
        "side_features": snapshot.schema.to_json(),
    }


def load_snapshot(directory: Path, description: dict[str, Any]) -> Snapshot:
    """The snapshot `save_snapshot` wrote (the content model is rebuilt from the side tables,
    which gives the same encoding: it depends on nothing else)."""
    firms = Firms.from_frames(
        pd.read_parquet(directory / EXPORTER_IDS), pd.read_parquet(directory / BUYER_IDS)
    )
    sides = {
        side: pd.read_parquet(directory / name) if (directory / name).exists() else None
        for side, name in SIDE_FILES.items()
    }
    spec = ContentSpec.from_json(description["content"])
    schema = Schema.from_json(description["side_features"])
    with np.load(directory / SNAPSHOT_ARRAYS) as arrays:
        shape = (len(firms.exporters), len(firms.buyers))
        indices = arrays["seen_indices"]
        seen = sp.csr_matrix(
            (np.ones(len(indices), np.float32), indices, arrays["seen_indptr"]), shape=shape
        )
        stats = {
            name[len("stat_") :]: arrays[name] for name in arrays.files if name.startswith("stat_")
        }
        crosses = [
            Cross(
                item["name"],
                item["coded_side"],
                arrays[f"cross_{i}_lift"],
                arrays[f"cross_{i}_category"],
            )
            for i, item in enumerate(description["crosses"])
        ]
        interests = []
        for i, item in enumerate(description["interests"]):
            side = item["side"]
            sizes = {"exporter": shape[0], "buyer": shape[1]}
            parts = {}
            for part, rows in (("table", sizes[side]), ("codes", sizes[other_side(side)])):
                parts[part] = sp.csr_matrix(
                    (
                        arrays[f"interest_{i}_{part}_data"],
                        arrays[f"interest_{i}_{part}_indices"],
                        arrays[f"interest_{i}_{part}_indptr"],
                    ),
                    shape=(rows, int(item["categories"])),
                )
            interests.append(Interest(item["name"], side, parts["table"], parts["codes"]))
        content = ContentModel.build(spec, sides["exporter"], sides["buyer"], firms)
        return Snapshot(
            firms=firms,
            as_of=pd.Timestamp(description["as_of"]),
            seen=seen,
            stats=stats,
            cf_exporters=arrays["cf_exporters"],
            cf_buyers=arrays["cf_buyers"],
            embedding_exporters=arrays["embedding_exporters"],
            embedding_buyers=arrays["embedding_buyers"],
            content=content,
            crosses=crosses,
            interests=interests,
            schema=schema,
            exporter_sides=_side_frame(
                sides["exporter"], EXPORTER_ID, firms.exporters, schema, "exporter"
            ),
            buyer_sides=_side_frame(sides["buyer"], BUYER_ID, firms.buyers, schema, "buyer"),
            exporters=sides["exporter"],
            buyers=sides["buyer"],
        )
