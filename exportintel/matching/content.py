"""Content: what each side offers or wants, compared pair by pair, and content candidates.

Side tables have any columns; what they are is read from the values (`analyse_side`):

- lists of short tokens are **codes**. An exporter list and a buyer list are compared when
  their vocabularies overlap (overlap coefficient of the value sets at least
  `MIN_VOCABULARY_OVERLAP`); codes of digits of one even length (HS codes: 2, 4, 6 digits) are
  **hierarchical** and are compared at every prefix level (the HS chapter, HS4, HS6), the
  finest shared level being the pair's `code_level` (0 none, 1 chapter, 2 HS4, 3 HS6);
- longer strings (or lists of them) are **text**, compared by TF-IDF cosine (one vocabulary
  over both sides);
- short strings are **categorical**; a categorical column of the same name on both sides
  (the main HS chapter) gives a `same` flag;
- known names add the fits the matching exists for: the price range (`price_min_usd`,
  `price_max_usd` against `desired_price_min_usd`, `desired_price_max_usd`: the share of the
  buyer's log price range the exporter covers, and the log gap when they do not meet), the
  volume (`monthly_capacity_units` against `desired_volume_units`: 1 + clip(ln(capacity /
  volume), -3, 0) / 3) and the exchange-rate move of the buyer's currency (`fx_change` or
  `currency_change`: ln change of KRW per unit of it; positive: Korean goods got cheaper).

`content_score` sums the code levels, the shared flat codes (capped at one per list), the
`same` flags, the price fit and the volume fit: the content-only recommender and the ranking
of content candidates. Content candidates of a query firm are the firms sharing one of its
codes at the finest level that holds enough of them (at least `LEVEL_SLACK` x N by code
frequency), at most `bucket` firms per code (the most active first, then a stable hash, so
new firms get their share), scored exactly and cut to the best N.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from exportintel.matching.data import BAD_CREDIT, BUYER_ID, EXPORTER_ID, Firms

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MIN_VOCABULARY_OVERLAP = 0.2
MAX_CODE_LENGTH = 20  # longer tokens are words of a text, not codes
TEXT_MIN_WORDS = 2.5  # mean words per value from which a string column is text
MAX_CATEGORIES = 50
LEVEL_SLACK = 2.0
DETECTION_SAMPLE = 5_000
CODE_TOLERANCE = 0.05
CHUNK_PAIRS = 5_000_000

PRICE_COLUMNS = ("price_min_usd", "price_max_usd", "desired_price_min_usd", "desired_price_max_usd")
VOLUME_COLUMNS = ("monthly_capacity_units", "desired_volume_units")
FX_COLUMNS = ("fx_change", "currency_change")
FX_CURRENCY_COLUMNS = ("fx_currency", "currency")
_DIGITS = re.compile(r"^\d+$")


# --------------------------------------------------------------------------- column kinds


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _as_list(value: Any) -> list[str]:
    if _is_list(value):
        return [str(v) for v in value if v is not None and not (isinstance(v, float) and v != v)]
    return []


def _all_dates(values: pd.Series) -> bool:
    """Dates held as Python objects (how pandas reads a Parquet DATE column)."""
    sample = values.iloc[:DETECTION_SAMPLE]
    return bool(sample.map(lambda v: isinstance(v, dt.date)).all())


def analyse_side(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """Each column's kind: numeric, categorical, text, codes, or `dropped (<why>)`."""
    kinds: dict[str, str] = {}
    for name in frame.columns:
        if name in (key, BAD_CREDIT):
            continue
        column = frame[name]
        values = column.dropna()
        if values.empty:
            kinds[str(name)] = "dropped (no value)"
        elif pd.api.types.is_bool_dtype(column) or (
            pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column)
        ):
            kinds[str(name)] = "numeric"
        elif pd.api.types.is_datetime64_any_dtype(column) or _all_dates(values):
            kinds[str(name)] = "dropped (a date or time; give an age or a change instead)"
        else:
            sample = values.iloc[:DETECTION_SAMPLE]
            if sample.map(_is_list).all():
                tokens = [t for v in sample for t in _as_list(v)]
                if not tokens:
                    kinds[str(name)] = "dropped (only empty lists)"
                elif all(len(t) <= MAX_CODE_LENGTH and " " not in t.strip() for t in tokens):
                    kinds[str(name)] = "codes"
                else:
                    kinds[str(name)] = "text"
            elif sample.map(_is_list).any():
                kinds[str(name)] = "dropped (lists mixed with single values)"
            else:
                text = sample.astype(str)
                words = text.str.split().map(len).mean()
                kinds[str(name)] = "text" if words >= TEXT_MIN_WORDS else "categorical"
    return kinds


def _code_levels(tokens: Iterable[str]) -> tuple[int, ...]:
    """(2, 4, ..., L) when the codes are digits of one even length L (HS-like), else ().

    A few malformed codes (at most `CODE_TOLERANCE` of them) do not change the verdict."""
    lengths: dict[int, int] = {}
    total = 0
    for token in tokens:
        total += 1
        if _DIGITS.match(token):
            lengths[len(token)] = lengths.get(len(token), 0) + 1
    if not lengths:
        return ()
    length, count = max(lengths.items(), key=lambda item: (item[1], item[0]))
    if count < (1.0 - CODE_TOLERANCE) * total or length % 2 or length < 2:
        return ()
    return tuple(range(2, length + 1, 2))


@dataclass(frozen=True)
class CodeMatch:
    """An exporter list and a buyer list of the same code vocabulary."""

    exporter_column: str
    buyer_column: str
    levels: tuple[int, ...]  # prefix lengths for hierarchical codes; () for flat codes

    @property
    def name(self) -> str:
        return self.exporter_column

    def to_json(self) -> dict[str, Any]:
        return {
            "exporter": self.exporter_column,
            "buyer": self.buyer_column,
            "levels": list(self.levels),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CodeMatch:
        return cls(str(data["exporter"]), str(data["buyer"]), tuple(data["levels"]))


@dataclass(frozen=True)
class ContentSpec:
    """What the side tables hold and how the pair comparison uses it."""

    codes: tuple[CodeMatch, ...] = ()
    texts: tuple[tuple[str, str], ...] = ()
    same: tuple[str, ...] = ()
    price: bool = False
    volume: bool = False
    fx: str | None = None  # buyer column of the currency move
    fx_currency: str | None = None  # buyer column naming the currency of that move
    exporter_numeric: tuple[str, ...] = ()
    exporter_categorical: tuple[str, ...] = ()
    buyer_numeric: tuple[str, ...] = ()
    buyer_categorical: tuple[str, ...] = ()
    dropped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hierarchical(self) -> tuple[CodeMatch, ...]:
        return tuple(m for m in self.codes if m.levels)

    def to_json(self) -> dict[str, Any]:
        return {
            "codes": [m.to_json() for m in self.codes],
            "texts": [list(pair) for pair in self.texts],
            "same": list(self.same),
            "price": self.price,
            "volume": self.volume,
            "fx": self.fx,
            "fx_currency": self.fx_currency,
            "exporter_numeric": list(self.exporter_numeric),
            "exporter_categorical": list(self.exporter_categorical),
            "buyer_numeric": list(self.buyer_numeric),
            "buyer_categorical": list(self.buyer_categorical),
            "dropped": list(self.dropped),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContentSpec:
        return cls(
            codes=tuple(CodeMatch.from_json(m) for m in data["codes"]),
            texts=tuple((str(a), str(b)) for a, b in data["texts"]),
            same=tuple(data["same"]),
            price=bool(data["price"]),
            volume=bool(data["volume"]),
            fx=data.get("fx"),
            fx_currency=data.get("fx_currency"),
            exporter_numeric=tuple(data["exporter_numeric"]),
            exporter_categorical=tuple(data["exporter_categorical"]),
            buyer_numeric=tuple(data["buyer_numeric"]),
            buyer_categorical=tuple(data["buyer_categorical"]),
            dropped=tuple(data.get("dropped", ())),
        )


def _vocabulary(frame: pd.DataFrame, column: str) -> set[str]:
    return {t for v in frame[column].dropna() for t in _as_list(v)}


def _words(frame: pd.DataFrame, column: str) -> set[str]:
    sample = frame[column].dropna().iloc[:DETECTION_SAMPLE]
    return {w.lower() for v in sample for w in _text_of(v).split()}


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _pair_up(
    left: Sequence[str], right: Sequence[str], similarity: Any
) -> list[tuple[str, str, float]]:
    """Greedy one-to-one pairs of columns, most similar first, similarity at least the floor;
    columns of the same name pair first."""
    scored = sorted(
        ((float(l_ == r_) + similarity(l_, r_), l_, r_) for l_ in left for r_ in right),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    used_left: set[str] = set()
    used_right: set[str] = set()
    pairs = []
    for score, l_, r_ in scored:
        if score < MIN_VOCABULARY_OVERLAP or l_ in used_left or r_ in used_right:
            continue
        used_left.add(l_)
        used_right.add(r_)
        pairs.append((l_, r_, score))
    return pairs


def _numeric_ok(frame: pd.DataFrame | None, kinds: Mapping[str, str], names: Iterable[str]) -> bool:
    return frame is not None and all(kinds.get(n) == "numeric" for n in names)


def detect(exporters: pd.DataFrame | None, buyers: pd.DataFrame | None) -> ContentSpec:
    """The content spec the side tables support (an empty spec without them)."""
    e_kinds = analyse_side(exporters, EXPORTER_ID) if exporters is not None else {}
    b_kinds = analyse_side(buyers, BUYER_ID) if buyers is not None else {}
    # A column of the same name that is text on one side is text on both (short wishes such
    # as "cream" against product descriptions).
    for name in set(e_kinds) & set(b_kinds):
        if {e_kinds[name], b_kinds[name]} == {"text", "categorical"}:
            e_kinds[name] = b_kinds[name] = "text"
    dropped = tuple(
        f"{side}.{name}: {kind}"
        for side, kinds in (("exporters", e_kinds), ("buyers", b_kinds))
        for name, kind in kinds.items()
        if kind.startswith("dropped")
    )

    def of(kinds: Mapping[str, str], kind: str) -> list[str]:
        return [n for n, k in kinds.items() if k == kind]

    codes: list[CodeMatch] = []
    texts: list[tuple[str, str]] = []
    same: list[str] = []
    if exporters is not None and buyers is not None:
        e_vocab = {c: _vocabulary(exporters, c) for c in of(e_kinds, "codes")}
        b_vocab = {c: _vocabulary(buyers, c) for c in of(b_kinds, "codes")}
        for e_col, b_col, _ in _pair_up(
            list(e_vocab), list(b_vocab), lambda a, b: _overlap(e_vocab[a], b_vocab[b])
        ):
            levels = _code_levels(e_vocab[e_col] | b_vocab[b_col])
            codes.append(CodeMatch(e_col, b_col, levels))
        e_words = {c: _words(exporters, c) for c in of(e_kinds, "text")}
        b_words = {c: _words(buyers, c) for c in of(b_kinds, "text")}
        texts = [
            (a, b)
            for a, b, _ in _pair_up(
                list(e_words), list(b_words), lambda a, b: _overlap(e_words[a], b_words[b])
            )
        ]
        same = sorted(set(of(e_kinds, "categorical")) & set(of(b_kinds, "categorical")))
    fx = next((c for c in FX_COLUMNS if b_kinds.get(c) == "numeric"), None)
    fx_currency = next((c for c in FX_CURRENCY_COLUMNS if b_kinds.get(c) == "categorical"), None)
    pair = exporters is not None and buyers is not None
    return ContentSpec(
        codes=tuple(codes),
        texts=tuple(texts),
        same=tuple(same),
        price=pair
        and _numeric_ok(exporters, e_kinds, PRICE_COLUMNS[:2])
        and _numeric_ok(buyers, b_kinds, PRICE_COLUMNS[2:]),
        volume=pair
        and _numeric_ok(exporters, e_kinds, VOLUME_COLUMNS[:1])
        and _numeric_ok(buyers, b_kinds, VOLUME_COLUMNS[1:]),
        fx=fx,
        fx_currency=fx_currency if fx is not None else None,
        exporter_numeric=tuple(of(e_kinds, "numeric")),
        exporter_categorical=tuple(of(e_kinds, "categorical")),
        buyer_numeric=tuple(c for c in of(b_kinds, "numeric") if c != fx),
        buyer_categorical=tuple(of(b_kinds, "categorical")),
        dropped=dropped,
    )


# --------------------------------------------------------------------------- encoding


def _text_of(value: Any) -> str:
    if _is_list(value):
        return " ".join(_as_list(value))
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _aligned(frame: pd.DataFrame | None, key: str, ids: pd.Index) -> pd.DataFrame | None:
    """The side rows in the order of `ids` (an all-missing row for firms without one)."""
    if frame is None:
        return None
    return frame.set_index(key).reindex(ids)


def _incidence(lists: Sequence[list[str]], vocabulary: Mapping[str, int]) -> sp.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for i, codes in enumerate(lists):
        for code in set(codes):
            j = vocabulary.get(code)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(lists), len(vocabulary)))


def _numbers(frame: pd.DataFrame | None, column: str, n: int) -> FloatArray:
    if frame is None or column not in frame.columns:
        return np.full(n, np.nan, dtype=np.float32)
    values = pd.to_numeric(frame[column].astype("object"), errors="coerce").astype("float64")
    return values.to_numpy(dtype=np.float32)


def _positive_log(values: FloatArray) -> FloatArray:
    out = np.full(values.shape, np.nan, dtype=np.float32)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log(values[ok])
    return out


@dataclass
class LevelCodes:
    """One code list pair at one prefix length: incidence matrices of both sides."""

    exporters: sp.csr_matrix  # exporters x codes
    buyers: sp.csr_matrix  # buyers x codes
    vocabulary: list[str]


@dataclass
class ContentModel:
    """The side tables encoded for pair comparisons, aligned with `Firms` positions."""

    spec: ContentSpec
    levels: dict[str, list[LevelCodes]]  # per code match, finest level first
    texts: list[tuple[sp.csr_matrix, sp.csr_matrix]]
    same: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]]
    numbers: dict[str, FloatArray]
    fx_currency: npt.NDArray[np.object_] | None

    @classmethod
    def build(
        cls,
        spec: ContentSpec,
        exporters: pd.DataFrame | None,
        buyers: pd.DataFrame | None,
        firms: Firms,
    ) -> ContentModel:
        e = _aligned(exporters, EXPORTER_ID, firms.exporters)
        b = _aligned(buyers, BUYER_ID, firms.buyers)
        n_e, n_b = len(firms.exporters), len(firms.buyers)
        levels: dict[str, list[LevelCodes]] = {}
        for match in spec.codes:
            assert e is not None and b is not None
            e_lists = [_as_list(v) for v in e[match.exporter_column]]
            b_lists = [_as_list(v) for v in b[match.buyer_column]]
            cuts: tuple[int | None, ...] = tuple(reversed(match.levels)) or (None,)
            levels[match.name] = []
            for cut in cuts:
                e_cut = [[c[:cut] for c in codes] for codes in e_lists]
                b_cut = [[c[:cut] for c in codes] for codes in b_lists]
                vocabulary = sorted({c for codes in e_cut + b_cut for c in codes})
                index = {c: i for i, c in enumerate(vocabulary)}
                levels[match.name].append(
                    LevelCodes(_incidence(e_cut, index), _incidence(b_cut, index), vocabulary)
                )
        texts = []
        for e_col, b_col in spec.texts:
            from sklearn.feature_extraction.text import TfidfVectorizer

            assert e is not None and b is not None
            e_text = [_text_of(v) for v in e[e_col]]
            b_text = [_text_of(v) for v in b[b_col]]
            vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
            try:
                vectorizer.fit(e_text + b_text)
            except ValueError:  # no word at all
                continue
            texts.append(
                (
                    vectorizer.transform(e_text).astype(np.float32).tocsr(),
                    vectorizer.transform(b_text).astype(np.float32).tocsr(),
                )
            )
        same = []
        for column in spec.same:
            assert e is not None and b is not None
            e_values = e[column].astype("object")
            b_values = b[column].astype("object")
            categories = sorted(
                {str(v) for v in e_values.dropna()} | {str(v) for v in b_values.dropna()}
            )
            index = {c: i for i, c in enumerate(categories)}

            def codes(values: pd.Series, index: dict[str, int] = index) -> Any:
                return np.asarray(
                    [index.get(str(v), -1) if v is not None and v == v else -1 for v in values],
                    dtype=np.int32,
                )

            same.append((codes(e_values), codes(b_values)))
        numbers: dict[str, FloatArray] = {}
        if spec.price:
            numbers["e_price_lo"] = _positive_log(_numbers(e, PRICE_COLUMNS[0], n_e))
            numbers["e_price_hi"] = _positive_log(_numbers(e, PRICE_COLUMNS[1], n_e))
            numbers["b_price_lo"] = _positive_log(_numbers(b, PRICE_COLUMNS[2], n_b))
            numbers["b_price_hi"] = _positive_log(_numbers(b, PRICE_COLUMNS[3], n_b))
        if spec.volume:
            numbers["e_capacity"] = _positive_log(_numbers(e, VOLUME_COLUMNS[0], n_e))
            numbers["b_volume"] = _positive_log(_numbers(b, VOLUME_COLUMNS[1], n_b))
        if spec.fx is not None:
            numbers["b_fx"] = _numbers(b, spec.fx, n_b)
        currency = None
        if spec.fx_currency is not None and b is not None:
            currency = b[spec.fx_currency].astype("object").to_numpy()
        return cls(spec, levels, texts, same, numbers, currency)

    # ----------------------------------------------------------------------- features

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for match in self.spec.codes:
            if match.levels:
                names.append(f"code_level:{match.name}")
            names.append(f"codes_shared:{match.name}")
        names += [f"text_similarity:{e_col}" for e_col, _ in self.spec.texts[: len(self.texts)]]
        names += [f"same:{column}" for column in self.spec.same]
        if self.spec.price:
            names += ["price_fit", "price_gap"]
        if self.spec.volume:
            names += ["volume_fit", "volume_ratio"]
        if self.spec.fx is not None:
            names.append("fx_change")
        if self.has_content:
            names.append("content_score")
        return names

    @property
    def has_content(self) -> bool:
        return bool(
            self.spec.codes or self.texts or self.spec.same or self.spec.price or self.spec.volume
        )

    def pair_features(
        self, e: IntArray, b: IntArray, *, score_only: bool = False
    ) -> dict[str, FloatArray]:
        """Every content feature of the pairs (e[i], b[i]), float32, NaN where unknown;
        `score_only`: just `content_score` (text similarity is the costly part it skips)."""
        out: dict[str, FloatArray] = {}
        score = np.zeros(len(e), dtype=np.float32)
        for match in self.spec.codes:
            level, shared = self._code_match(match, e, b)
            if match.levels:
                out[f"code_level:{match.name}"] = level
                score += np.nan_to_num(level)
            else:
                score += np.minimum(np.nan_to_num(shared), 1.0)
            out[f"codes_shared:{match.name}"] = shared
        for (e_col, _), (e_text, b_text) in zip(self.spec.texts, self.texts, strict=False):
            if not score_only:
                out[f"text_similarity:{e_col}"] = row_dots(e_text, b_text, e, b)
        for column, (e_codes, b_codes) in zip(self.spec.same, self.same, strict=True):
            left, right = e_codes[e], b_codes[b]
            flag = (left == right).astype(np.float32)
            flag[(left < 0) | (right < 0)] = np.nan
            out[f"same:{column}"] = flag
            score += np.nan_to_num(flag)
        if self.spec.price:
            fit, gap = price_fit(
                self.numbers["e_price_lo"][e],
                self.numbers["e_price_hi"][e],
                self.numbers["b_price_lo"][b],
                self.numbers["b_price_hi"][b],
            )
            out["price_fit"], out["price_gap"] = fit, gap
            score += np.nan_to_num(fit)
        if self.spec.volume:
            ratio = self.numbers["e_capacity"][e] - self.numbers["b_volume"][b]
            fit = (1.0 + np.clip(ratio, -3.0, 0.0) / 3.0).astype(np.float32)
            out["volume_fit"], out["volume_ratio"] = fit, ratio.astype(np.float32)
            score += np.nan_to_num(fit)
        if self.spec.fx is not None:
            out["fx_change"] = self.numbers["b_fx"][b]
        if self.has_content:
            out["content_score"] = score
        return out

    def _code_match(self, match: CodeMatch, e: IntArray, b: IntArray) -> tuple[Any, Any]:
        """Finest shared level (0 none .. number of levels) and the codes shared at it."""
        per_level = self.levels[match.name]
        level = np.zeros(len(e), dtype=np.float32)
        shared_finest = row_dots(per_level[0].exporters, per_level[0].buyers, e, b)
        known = (np.diff(per_level[0].exporters.indptr)[e] > 0) & (
            np.diff(per_level[0].buyers.indptr)[b] > 0
        )
        depth = len(per_level)
        for rank, codes in enumerate(per_level):  # finest first
            shared = shared_finest if rank == 0 else row_dots(codes.exporters, codes.buyers, e, b)
            hit = (shared > 0) & (level == 0)
            level[hit] = depth - rank
        level[~known] = np.nan
        shared_finest = shared_finest.astype(np.float32)
        shared_finest[~known] = np.nan
        return level, shared_finest

    def shared_codes(self, match_name: str, e: IntArray, b: IntArray) -> npt.NDArray[np.object_]:
        """Per pair, a code both share at the finest level they share one (None if none)."""
        out = np.full(len(e), None, dtype=object)
        todo = np.ones(len(e), dtype=bool)
        for codes in self.levels.get(match_name, []):
            rows = np.flatnonzero(todo)
            if not len(rows):
                break
            both = codes.exporters[e[rows]].multiply(codes.buyers[b[rows]]).tocsr()
            both.eliminate_zeros()
            both.sort_indices()
            found = np.diff(both.indptr) > 0
            first = both.indices[both.indptr[:-1][found]]
            vocabulary = np.asarray(codes.vocabulary, dtype=object)
            out[rows[found]] = vocabulary[first]
            todo[rows[found]] = False
        return out

    def currencies(self, b: IntArray) -> npt.NDArray[np.object_]:
        if self.fx_currency is None:
            return np.full(len(b), None, dtype=object)
        values = self.fx_currency[b]
        return np.asarray([v if isinstance(v, str) else None for v in values], dtype=object)

    def shared_code(self, match_name: str, e: int, b: int) -> str | None:
        """The shared code at the finest level the pair shares one (for a reason's value)."""
        for codes in self.levels.get(match_name, []):
            common = np.intersect1d(_row(codes.exporters, e), _row(codes.buyers, b))
            if len(common):
                return codes.vocabulary[int(common[0])]
        return None

    def currency(self, b: int) -> str | None:
        if self.fx_currency is None:
            return None
        value = self.fx_currency[b]
        return None if value is None or value != value else str(value)

    # ----------------------------------------------------------------------- profiles

    def profile(self, side: str) -> sp.csr_matrix | None:
        """Every code of every level and match, one column each: what a firm is about (the
        content fill of collaborative factors)."""
        blocks = [
            getattr(codes, "exporters" if side == "exporter" else "buyers")
            for per_level in self.levels.values()
            for codes in per_level
        ]
        if not blocks:
            return None
        return sp.hstack(blocks, format="csr").astype(np.float32)

    # ----------------------------------------------------------------------- candidates

    def retriever(self, query_side: str, prior: FloatArray, bucket: int) -> ContentRetriever:
        """Content candidates for queries of `query_side` ("exporter" or "buyer"); `prior`
        orders the items of a crowded code (see the module docstring)."""
        matches = list(self.spec.hierarchical) or [m for m in self.spec.codes if not m.levels]
        exporter_query = query_side == "exporter"
        plans = []
        for match in matches:
            per_level = self.levels[match.name]
            query_codes = [c.exporters if exporter_query else c.buyers for c in per_level]
            capped = [
                _cap_per_code(c.buyers if exporter_query else c.exporters, prior, bucket)
                for c in per_level
            ]
            frequency = [np.asarray(c.sum(axis=0)).ravel() for c in capped]
            plans.append((query_codes, [c.T.tocsr() for c in capped], frequency))
        return ContentRetriever(self, exporter_query, plans)


@dataclass
class ContentRetriever:
    """Content candidates of one direction, with the per-code item lists prepared once."""

    model: ContentModel
    exporter_query: bool
    # Per code match: query incidence per level, capped item incidence (codes x items) per
    # level, items per code per level; finest level first.
    plans: list[tuple[list[sp.csr_matrix], list[sp.csr_matrix], list[Any]]]

    def candidates(
        self,
        queries: IntArray,
        n: int,
        *,
        exclude: sp.csr_matrix | None,
        blocked: npt.NDArray[np.bool_] | None,
    ) -> tuple[IntArray, FloatArray]:
        """The best `n` items by `content_score` per query, -1 padded; `exclude` rows follow
        `queries` (the pairs already seen)."""
        if not self.plans or n == 0 or len(queries) == 0:
            return (
                np.full((len(queries), n), -1, dtype=np.int64),
                np.full((len(queries), n), -np.inf, dtype=np.float32),
            )
        pattern: sp.csr_matrix | None = None
        for query_codes, item_codes, frequency in self.plans:
            q = [codes[queries] for codes in query_codes]
            # The finest level whose codes hold enough items for the query, by frequency.
            chosen = np.full(len(queries), len(q) - 1)
            for rank in reversed(range(len(q))):
                chosen[(q[rank] @ frequency[rank]) >= LEVEL_SLACK * n] = rank
            for rank in range(len(q)):
                rows = np.flatnonzero(chosen == rank)
                if not len(rows):
                    continue
                product = (q[rank][rows] @ item_codes[rank]).tocoo()
                part = sp.csr_matrix(
                    (product.data, (rows[product.row], product.col)),
                    shape=(len(queries), item_codes[rank].shape[1]),
                )
                pattern = part if pattern is None else pattern + part
        assert pattern is not None
        coo = pattern.tocoo()
        rows, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        keep = np.ones(len(rows), dtype=bool)
        if blocked is not None and not self.exporter_query:
            keep &= ~blocked[queries[rows]]
        if blocked is not None and self.exporter_query:
            keep &= ~blocked[items]
        if exclude is not None and exclude.nnz:
            keep &= ~in_matrix(exclude, rows, items)
        rows, items = rows[keep], items[keep]
        values = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), CHUNK_PAIRS):
            stop = start + CHUNK_PAIRS
            q_ids, i_ids = queries[rows[start:stop]], items[start:stop]
            e, b = (q_ids, i_ids) if self.exporter_query else (i_ids, q_ids)
            values[start:stop] = self.model.pair_features(e, b, score_only=True)["content_score"]
        return top_per_row(rows, items, values, len(queries), n)


def _row(matrix: sp.csr_matrix, row: int) -> Any:
    return matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]


def price_fit(
    e_lo: FloatArray, e_hi: FloatArray, b_lo: FloatArray, b_hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Share of the buyer's log price range inside the exporter's (1 when a point range falls
    inside it), and the log gap between the ranges when they do not meet (0 when they do)."""
    covered = np.minimum(e_hi, b_hi) - np.maximum(e_lo, b_lo)
    width = b_hi - b_lo
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(width > 0, np.clip(covered / width, 0.0, 1.0), (covered >= 0) * 1.0)
    gap = np.maximum(0.0, -covered)
    return fit.astype(np.float32), gap.astype(np.float32)


def row_dots(left: sp.csr_matrix, right: sp.csr_matrix, rows: IntArray, cols: IntArray) -> Any:
    """left[rows[i]] . right[cols[i]] for every i, in blocks."""
    out = np.zeros(len(rows), dtype=np.float32)
    step = 1_000_000
    for start in range(0, len(rows), step):
        a = left[rows[start : start + step]]
        b = right[cols[start : start + step]]
        out[start : start + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def _cap_per_code(items: sp.csr_matrix, prior: FloatArray, bucket: int) -> sp.csr_matrix:
    """Each code column keeps its `bucket` items of highest prior (ties by a stable hash)."""
    by_code = items.T.tocsr()
    counts = np.diff(by_code.indptr)
    if bucket <= 0 or counts.max(initial=0) <= bucket:
        return items
    tie = stable_unit(np.arange(items.shape[0], dtype=np.int64))
    rank_key = prior.astype(np.float64)[by_code.indices] + 1e-9 * tie[by_code.indices]
    code_of = np.repeat(np.arange(by_code.shape[0]), counts)
    order = np.lexsort((-rank_key, code_of))
    position = np.arange(len(order)) - np.repeat(by_code.indptr[:-1], counts)
    keep = order[position < bucket]
    kept = sp.csr_matrix(
        (by_code.data[keep], (code_of[keep], by_code.indices[keep])), shape=by_code.shape
    )
    return kept.T.tocsr()


def stable_unit(values: npt.NDArray[np.int64], salt: int = 0) -> npt.NDArray[np.float64]:
    """A fixed pseudo-random number in [0, 1) per integer (SplitMix64): stable tie-breaks."""
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64(salt) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.asarray((x >> np.uint64(11)).astype(np.float64) / float(2**53))


def in_matrix(matrix: sp.csr_matrix, rows: IntArray, cols: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each (rows[i], cols[i]) is a stored entry of `matrix`."""
    coo = matrix.tocoo()
    width = np.int64(matrix.shape[1])
    stored = np.sort(coo.row.astype(np.int64) * width + coo.col.astype(np.int64))
    keys = rows.astype(np.int64) * width + cols.astype(np.int64)
    found = np.searchsorted(stored, keys)
    found = np.minimum(found, len(stored) - 1)
    return np.asarray(stored[found] == keys) if len(stored) else np.zeros(len(keys), bool)


def top_per_row(
    rows: IntArray, items: IntArray, scores: FloatArray, n_rows: int, n: int
) -> tuple[IntArray, FloatArray]:
    """The `n` best (item, score) per row from flat triples; ties by item position."""
    ids = np.full((n_rows, n), -1, dtype=np.int64)
    best = np.full((n_rows, n), -np.inf, dtype=np.float32)
    if len(rows) == 0 or n == 0:
        return ids, best
    # One stable sort of (row, score descending) packed into 64 bits: about three times the
    # speed of a three-key lexsort on the row-grouped triples every caller passes (5M pairs).
    # Ties keep the input order, so the triples are put in (row, item) order first when they
    # are not.
    ordered = (rows[1:] > rows[:-1]) | ((rows[1:] == rows[:-1]) & (items[1:] >= items[:-1]))
    if not ordered.all():
        first = np.lexsort((items, rows))
        rows, items, scores = rows[first], items[first], scores[first]
    key = (rows.astype(np.uint64) << np.uint64(32)) | _descending_bits(scores)
    order = np.argsort(key, kind="stable")
    rows, items, scores = rows[order], items[order], scores[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    position = np.arange(len(rows)) - starts[rows]
    keep = position < n
    ids[rows[keep], position[keep]] = items[keep]
    best[rows[keep], position[keep]] = scores[keep]
    return ids, best


def _descending_bits(scores: FloatArray) -> npt.NDArray[np.uint64]:
    """float32 scores as 32-bit keys whose ascending order is the scores' descending order
    (-0.0 equal to 0.0, NaN after everything, as a sort on the floats would have them)."""
    values = np.ascontiguousarray(scores, dtype=np.float32) + np.float32(0.0)
    bits = values.view(np.uint32).astype(np.uint64)
    ascending = np.where(bits & np.uint64(0x80000000), ~bits & np.uint64(0xFFFFFFFF),
                         bits | np.uint64(0x80000000))  # fmt: skip
    ascending[np.isnan(values)] = 0
    return np.uint64(0xFFFFFFFF) - ascending
