"""The serving world of the API benchmark: firm profiles, stored match lists and pair actions at
the platform's scale, written into moto's DynamoDB in the items the loader itself makes.

Why synthetic: the large scored lake is hours of Spark and training away (`bench.matching`),
and the API reads items, not how they were scored. What matters to a request is the shape and
size of what it reads: one stored list of explained candidates (each with three reasons in
English and Korean of the scorer's length), the profiles of the candidates, the pair actions of
the firm. So frames with the curated and scored tables' columns are made here, turned into items
by `exportintel.serving.load` (`firm_items`, `match_items`) and written with its `write_items`,
in chunks to keep the frames small.

The large scale has the firms the large scoring run scored (99,996 exporters and 968,265 buyers,
bench/results/matching-latest.md), about 2% of buyers with bad credit, and one stored list per
exporter (the direction the measured endpoint reads; the buyers' lists, ten times as many,
are not loaded). Cold-start lists and the continuity table are not loaded either: the measured
requests do not read them.

moto keeps every attribute value as a Python object: a stored list of 20 explained candidates
takes about 90 KB of memory there, so the large world holds about 11 GB. The lists of the
exporters the benchmark queries are loaded first; the others follow while the machine keeps
`memory_floor_bytes` available, and the figures say how many were loaded.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from bench.sampling import Usage, usage_figures
from exportintel.serving.load import firm_items, match_items, write_items

MODEL_VERSION = "20260630T000000Z-bench"
DIRECTION = "buyers_for_exporter"
BAD_CREDIT_SHARE = 0.02
EXPORTER_CHUNK = 5_000  # exporters per frame of stored lists (100,000 candidate rows)
BUYER_CHUNK = 100_000  # buyers per frame of profiles

# HS chapters Korean exporters ship most, roughly by weight of the trade.
CHAPTERS = ("85", "84", "87", "39", "72", "90", "29", "33", "30", "40",
            "73", "89", "27", "61", "19", "21", "94", "95", "48", "03")  # fmt: skip
CHAPTER_WEIGHTS = (18, 14, 12, 8, 6, 6, 5, 5, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1)
REGIONS = {
    "Seoul": "서울",
    "Gyeonggi": "경기",
    "Incheon": "인천",
    "Busan": "부산",
    "Daegu": "대구",
    "Gwangju": "광주",
    "Daejeon": "대전",
    "Ulsan": "울산",
    "Gyeongnam": "경남",
    "Gyeongbuk": "경북",
    "Chungnam": "충남",
    "Chungbuk": "충북",
    "Jeonnam": "전남",
    "Jeonbuk": "전북",
    "Gangwon": "강원",
    "Jeju": "제주",
    "Sejong": "세종",
}
REGION_WEIGHTS = (20, 26, 7, 7, 5, 3, 3, 4, 7, 5, 4, 3, 2, 2, 1, 0.5, 0.5)
# Country code: English name, Korean name, currency, legal-form suffix of buyer names.
COUNTRIES = {
    "US": ("the United States", "미국", "USD", "Inc."),
    "CN": ("China", "중국", "CNY", "Co., Ltd."),
    "VN": ("Vietnam", "베트남", "VND", "Co., Ltd."),
    "JP": ("Japan", "일본", "JPY", "K.K."),
    "DE": ("Germany", "독일", "EUR", "GmbH"),
    "IN": ("India", "인도", "INR", "Pvt. Ltd."),
    "ID": ("Indonesia", "인도네시아", "IDR", "PT"),
    "MX": ("Mexico", "멕시코", "MXN", "S.A. de C.V."),
    "TH": ("Thailand", "태국", "THB", "Co., Ltd."),
    "AU": ("Australia", "호주", "AUD", "Pty Ltd"),
    "GB": ("the United Kingdom", "영국", "GBP", "Ltd"),
    "FR": ("France", "프랑스", "EUR", "SARL"),
    "PL": ("Poland", "폴란드", "PLN", "Sp. z o.o."),
    "AE": ("the United Arab Emirates", "아랍에미리트", "AED", "LLC"),
    "CA": ("Canada", "캐나다", "CAD", "Inc."),
    "BR": ("Brazil", "브라질", "BRL", "Ltda."),
    "TR": ("Turkey", "튀르키예", "TRY", "A.S."),
    "MY": ("Malaysia", "말레이시아", "MYR", "Sdn. Bhd."),
    "SG": ("Singapore", "싱가포르", "SGD", "Pte. Ltd."),
    "NL": ("the Netherlands", "네덜란드", "EUR", "B.V."),
}
COUNTRY_WEIGHTS = (16, 15, 10, 8, 6, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 3, 2, 2)
EXPORTER_WORDS = ("Hanbit", "Seorak", "Daehan", "Mirae", "Hanul", "Saebit", "Donga",
                  "Jinsung", "Samil", "Taeyang", "Cheonji", "Pureun", "Haedong")  # fmt: skip
SECTORS = ("Electronics", "Precision", "Foods", "Cosmetics", "Machinery", "Textiles",
           "Chemical", "Auto Parts", "Steel", "Medical", "Marine", "Industries")  # fmt: skip
BUYER_WORDS = ("Acme", "Lumen", "Delta", "Nordic", "Pacific", "Atlas", "Orion", "Vertex",
               "Harbor", "Summit", "Meridian", "Crescent", "Zenith", "Sterling")  # fmt: skip
# The columns of the scored `recommendations` table made here (besides the constant ones).
LIST_COLUMNS = ("exporter_id", "buyer_id", "rank", "score", "p_exporter", "p_buyer",
                "reason_codes", "reason_values", "reasons_en", "reasons_ko")  # fmt: skip
TRADES = ("Trading", "Imports", "Distribution", "Supply", "Retail", "Wholesale", "Sourcing")


@dataclass(frozen=True)
class Scale:
    """The firms, stored list length and pair actions of one world."""

    exporters: int
    buyers: int
    pair_actions: int
    candidates: int = 20  # explained candidates per stored list
    reasons: int = 3  # per candidate and language


SCALES = {
    "large": Scale(exporters=99_996, buyers=968_265, pair_actions=5_000),
    "small": Scale(exporters=2_000, buyers=20_000, pair_actions=500),
}


def exporter_id(number: int) -> str:
    return f"EXP{number:06d}"


def buyer_id(number: int) -> str:
    return f"BUY{number:07d}"


def _hs_code(rng: random.Random, chapter: str) -> str:
    return f"{chapter}{rng.randrange(1, 100):02d}{rng.randrange(10, 100):02d}"


def _chapters(rng: random.Random) -> tuple[str, ...]:
    count = rng.choices((1, 2, 3), weights=(55, 35, 10))[0]
    return tuple(dict.fromkeys(rng.choices(CHAPTERS, weights=CHAPTER_WEIGHTS, k=count)))


class Firms:
    """What the lists are drawn from: exporters' products and regions, buyers' wanted chapters
    and countries (numbers from 1, as in the ids), and the buyers wanting each chapter."""

    def __init__(self, scale: Scale, rng: random.Random) -> None:
        self.scale = scale
        self.exporter_codes: list[tuple[str, ...]] = [()]
        self.exporter_region: list[str] = [""]
        for _ in range(scale.exporters):
            self.exporter_codes.append(tuple(_hs_code(rng, c) for c in _chapters(rng)))
            self.exporter_region.append(rng.choices(list(REGIONS), weights=REGION_WEIGHTS)[0])
        self.buyer_chapters: list[tuple[str, ...]] = [()]
        self.buyer_country: list[str] = [""]
        self.bad_credit: list[bool] = [False]
        self.wanting: dict[str, list[int]] = {chapter: [] for chapter in CHAPTERS}
        for number in range(1, scale.buyers + 1):
            chapters = _chapters(rng)
            self.buyer_chapters.append(chapters)
            self.buyer_country.append(rng.choices(list(COUNTRIES), weights=COUNTRY_WEIGHTS)[0])
            self.bad_credit.append(rng.random() < BAD_CREDIT_SHARE)
            for chapter in chapters:
                self.wanting[chapter].append(number)


def exporters_frame(firms: Firms, numbers: Sequence[int], rng: random.Random) -> pd.DataFrame:
    """Rows of the curated `exporters` table, the columns `firm_items` reads."""
    return pd.DataFrame(
        {
            "firm_id": [exporter_id(n) for n in numbers],
            "firm_name": [
                f"{rng.choice(EXPORTER_WORDS)} {rng.choice(SECTORS)} Co., Ltd." for _ in numbers
            ],
            "region": [firms.exporter_region[n] for n in numbers],
            "hs_codes": [list(firms.exporter_codes[n]) for n in numbers],
        }
    )


def buyers_frame(firms: Firms, numbers: Sequence[int], rng: random.Random) -> pd.DataFrame:
    """Rows of the curated `buyers` table, the columns `firm_items` reads."""
    countries = [firms.buyer_country[n] for n in numbers]
    return pd.DataFrame(
        {
            "buyer_id": [buyer_id(n) for n in numbers],
            "buyer_name": [
                f"{rng.choice(BUYER_WORDS)} {rng.choice(TRADES)} {COUNTRIES[c][3]}"
                for c in countries
            ],
            "country_code": countries,
            "hs_codes_wanted": [
                [_hs_code(rng, c) for c in firms.buyer_chapters[n]] for n in numbers
            ],
            "bad_credit": [firms.bad_credit[n] for n in numbers],
        }
    )


def _reason(
    kind: int, rng: random.Random, code: str, region: str, country: str
) -> tuple[str, str, str, str]:
    """(code, value, English, Korean) of one reason, about as long as the scorer's texts."""
    name_en, name_ko, currency, _ = COUNTRIES[country]
    if kind == 0:
        return (
            "code_match:hs_codes",
            code,
            f"Buyer wants HS {code}, the product this exporter ships most",
            f"바이어가 찾는 HS {code} 품목을 이 수출기업이 주력으로 수출함",
        )
    if kind == 1:
        return (
            "pair_pattern:country_code",
            country,
            f"Buyers in {name_en} often deal with exporters in {region}",
            f"{name_ko} 바이어는 {REGIONS[region]} 지역 수출기업과 자주 거래함",
        )
    if kind == 2:
        return (
            "similar_partners",
            "",
            "Firms with similar partners engaged with this buyer lately",
            "유사한 거래 이력을 가진 기업들이 최근 이 바이어에 관심을 보임",
        )
    if kind == 3:
        units = rng.randrange(2, 60) * 500
        return (
            "volume_fit",
            str(units),
            f"Volume wanted fits the exporter's monthly capacity ({units:,} units)",
            f"희망 물량이 수출기업의 월 공급 능력({units:,}개)에 잘 맞음",
        )
    if kind == 4:
        return (
            "price_fit",
            "",
            "Price range wanted matches the exporter's recent export prices",
            "희망 가격대가 수출기업의 최근 수출 단가와 잘 맞음",
        )
    change = rng.uniform(2.0, 12.0)
    return (
        "currency_move",
        currency,
        f"KRW down {change:.1f}% against {currency} over the past year: prices compete",
        f"지난 1년간 원화가 {currency} 대비 {change:.1f}% 하락해 가격 경쟁력이 있음",
    )


def recommendations_frame(
    firms: Firms, exporters: Sequence[int], rng: random.Random
) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Rows of the scored `recommendations` table for these exporters' stored lists (every
    candidate explained), and the (exporter, buyer) pairs acted on since (one candidate of
    about `pair_actions / exporters` of the lists)."""
    scale = firms.scale
    action_share = scale.pair_actions / scale.exporters
    rows: dict[str, list[Any]] = {name: [] for name in LIST_COLUMNS}
    acted: list[tuple[int, int]] = []
    for exporter in exporters:
        codes = firms.exporter_codes[exporter]
        chapters = [code[:2] for code in codes]
        wanted = min(scale.candidates, scale.buyers)
        picked: dict[int, None] = {}  # buyers in rank order
        while len(picked) < wanted:
            # Mostly buyers wanting one of the exporter's chapters; any buyer when few do.
            pool = firms.wanting[rng.choice(chapters)]
            if len(pool) > 2 * wanted:
                picked[pool[rng.randrange(len(pool))]] = None
            else:
                picked[rng.randrange(1, scale.buyers + 1)] = None
        score = rng.uniform(0.35, 0.95)
        for rank, buyer in enumerate(picked, start=1):
            reasons = [
                _reason(
                    kind, rng, codes[0], firms.exporter_region[exporter], firms.buyer_country[buyer]
                )
                for kind in rng.sample(range(6), scale.reasons)
            ]
            rows["exporter_id"].append(exporter_id(exporter))
            rows["buyer_id"].append(buyer_id(buyer))
            rows["rank"].append(rank)
            rows["score"].append(score)
            rows["p_exporter"].append(min(1.0, score * rng.uniform(1.0, 1.3)))
            rows["p_buyer"].append(min(1.0, score * rng.uniform(0.7, 1.1)))
            rows["reason_codes"].append([r[0] for r in reasons])
            rows["reason_values"].append([r[1] for r in reasons])
            rows["reasons_en"].append([r[2] for r in reasons])
            rows["reasons_ko"].append([r[3] for r in reasons])
            score *= rng.uniform(0.93, 0.995)
        if rng.random() < action_share:
            acted.append((exporter, list(picked)[rng.randrange(len(picked))]))
    frame = pd.DataFrame(rows)
    frame["direction"] = DIRECTION
    frame["model_version"] = MODEL_VERSION
    frame["shown_rank"] = None
    return frame, acted


def pair_action_items(acted: Sequence[tuple[int, int]], rng: random.Random) -> list[dict[str, Any]]:
    """Saves and dismissals as `exportintel.serving.matches.record_action` writes them."""
    start = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    items = []
    for exporter, buyer in acted:
        at = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 90))
        items.append(
            {
                "exporter_id": exporter_id(exporter),
                "buyer_id": buyer_id(buyer),
                "action": "save" if rng.random() < 0.6 else "dismiss",
                "at": at.isoformat(timespec="seconds"),
                "by": f"staff-{rng.randrange(1, 400):03d}",
            }
        )
    return items


def memory_available() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _settle() -> None:
    """What was just loaded stays until the end: out of the garbage collector's sight, so later
    collections do not walk millions of moto's attribute objects again (latency, load time)."""
    gc.collect()
    gc.freeze()


class _Part:
    """Items, seconds building them (frames and the loader's item functions) and writing them."""

    def __init__(self) -> None:
        self.items = 0
        self.build_seconds = 0.0
        self.write_seconds = 0.0

    def add(self, table: Any, build: Callable[[], list[dict[str, Any]]]) -> None:
        started = time.perf_counter()
        items = build()
        built = time.perf_counter()
        self.items += write_items(table, items)
        self.write_seconds += time.perf_counter() - built
        self.build_seconds += built - started
        _settle()

    def figures(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "build_seconds": self.build_seconds,
            "write_seconds": self.write_seconds,
            "items_per_second": self.items / self.write_seconds if self.write_seconds else None,
        }


# The other kind of firm, absent from a chunk.
_NO_EXPORTERS = pd.DataFrame(columns=["firm_id", "firm_name", "region", "hs_codes"])
_NO_BUYERS = pd.DataFrame(
    columns=["buyer_id", "buyer_name", "country_code", "hs_codes_wanted", "bad_credit"]
)


def _exporter_items(firms: Firms, numbers: Sequence[int], rng: random.Random) -> list[dict]:
    return firm_items(exporters_frame(firms, numbers, rng), _NO_BUYERS)


def _buyer_items(firms: Firms, numbers: Sequence[int], rng: random.Random) -> list[dict]:
    return firm_items(_NO_EXPORTERS, buyers_frame(firms, numbers, rng))


def _list_items(
    firms: Firms, exporters: Sequence[int], rng: random.Random, acted: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """The stored-list items of these exporters; the pairs acted on are added to `acted`."""
    frame, pairs = recommendations_frame(firms, exporters, rng)
    acted.extend(pairs)
    return match_items(frame)


def load_world(
    tables: dict[str, Any],
    scale: Scale,
    *,
    queried: Sequence[int],
    seed: int,
    memory_floor_bytes: int,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Write the firms table, the stored lists (`queried` exporters' first) and the pair
    actions; their figures, with the memory and CPU of the whole load."""
    rng = random.Random(seed)
    started = time.perf_counter()
    with Usage(tree=False) as usage:
        firms = Firms(scale, rng)
        generated = time.perf_counter() - started
        profiles = _Part()
        for at in range(1, scale.exporters + 1, BUYER_CHUNK):
            numbers = range(at, min(at + BUYER_CHUNK, scale.exporters + 1))
            profiles.add(tables["firms"], partial(_exporter_items, firms, numbers, rng))
        for at in range(1, scale.buyers + 1, BUYER_CHUNK):
            numbers = range(at, min(at + BUYER_CHUNK, scale.buyers + 1))
            profiles.add(tables["firms"], partial(_buyer_items, firms, numbers, rng))
            log(f"firms: {profiles.items:,} profiles written")
        first = list(dict.fromkeys(queried))
        chosen = set(first)
        order = first + [n for n in range(1, scale.exporters + 1) if n not in chosen]
        lists = _Part()
        acted: list[tuple[int, int]] = []
        stopped_at_available: int | None = None
        for at in range(0, len(order), EXPORTER_CHUNK):
            available = memory_available()
            if at >= len(first) and available is not None and available < memory_floor_bytes:
                stopped_at_available = available
                log(f"lists: stopped at {lists.items:,}, {available / 2**30:.1f} GiB available")
                break
            part = order[at : at + EXPORTER_CHUNK]
            lists.add(tables["matches"], partial(_list_items, firms, part, rng, acted))
            log(f"lists: {lists.items:,} of {scale.exporters:,} written")
        actions = _Part()
        actions.add(tables["pair_actions"], partial(pair_action_items, acted, rng))
    return {
        "generate_firms_seconds": generated,
        "tables": {
            "firms": profiles.figures(),
            "matches": lists.figures(),
            "pair_actions": actions.figures(),
        },
        "lists_loaded": lists.items,
        "all_lists_loaded": lists.items == scale.exporters,
        "stopped_at_available_bytes": stopped_at_available,
        "memory_floor_bytes": memory_floor_bytes,
        "memory_available_after_bytes": memory_available(),
        "bad_credit_buyers": sum(firms.bad_credit),
        "load": usage_figures(usage, time.perf_counter() - started),
    }
