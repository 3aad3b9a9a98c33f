"""Exporters and buyers: who they are, what they trade, and their hidden traits.

Ids are issued in the order firms joined the agency's database (EXP000001 joined first), so
the firms known by a given year are a prefix of the id range: samplers rely on that.
Hidden traits (capability, taste, popularity, activity) drive the ground-truth mechanisms and
are written to `ground_truth/`, never to the datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exportintel.contracts.datasets import KOREAN_REGIONS
from exportintel.generate.common import FIRST_YEAR, LAST_YEAR, sigmoid
from exportintel.generate.products import (
    CHAPTER_SIZE,
    CHAPTER_START,
    HS6_CODES,
    SECTOR_SIZE,
    SECTOR_START,
    SECTORS,
    UNIT_PRICES,
)
from exportintel.reference.countries import PARTNERS

TASTE_DIMENSIONS = 3
TASTE_SD = 0.7  # per dimension: the latent taste term u.v has a standard deviation near 0.85
MAX_EXPORTER_PRODUCTS, MAX_BUYER_PRODUCTS, MAX_DESTINATIONS = 5, 4, 6
NEVER = 9999  # first export year of a firm that has not exported yet
KRW_PER_USD_PLAN = 1200.0  # planning rate for firm sizes only; money flows use ECB rates

_REGION_WEIGHTS = {
    "Gyeonggi": 30, "Seoul": 20, "Incheon": 7, "Gyeongnam": 7, "Busan": 6, "Gyeongbuk": 5,
    "Chungnam": 5, "Daegu": 4, "Chungbuk": 4, "Ulsan": 2, "Gwangju": 2, "Daejeon": 2,
    "Jeonbuk": 2, "Jeonnam": 1.5, "Gangwon": 1.5, "Jeju": 0.7, "Sejong": 0.5,
}  # fmt: skip
_BRANDS = ("Hanil", "Daesung", "Samjin", "Dongyang", "Sejin", "Hanbit", "Jinwoo", "Mirae",
           "Saehan", "Kukje", "Taeyang", "Haneul", "Noeul", "Bitsaem", "Areum", "Dasan", "Gaon",
           "Hansol", "Woojin", "Sungwoo", "Daeil", "Shinhwa", "Cheonji", "Baekdu", "Namsan",
           "Hangang", "Jeil", "Saerom", "Purun", "Chorok", "Hyanggi", "Nuri", "Ondam", "Ium",
           "Dalbit", "Sol")  # fmt: skip
_BRANDS_KO = ("한일", "대성", "삼진", "동양", "세진", "한빛", "진우", "미래", "새한",
              "국제", "태양", "하늘", "노을", "빛샘", "아름", "다산", "가온", "한솔",
              "우진", "성우", "대일", "신화", "천지", "백두", "남산", "한강", "제일",
              "새롬", "푸른", "초록", "향기", "누리", "온담", "이음", "달빛", "솔")  # fmt: skip
_LEGAL_FORMS = ("Co., Ltd.", "Corp.", "Inc.", "Co., Ltd.")
_BUYER_WORDS = ("Trading", "Imports", "Distribution", "Supply", "Wholesale", "Global", "Retail",
                "Sourcing", "Merchants", "Group")  # fmt: skip
_BUYER_FORMS = {
    "USA": ("Inc.", "LLC", "Corp."), "CAN": ("Inc.", "Ltd."), "GBR": ("Ltd", "PLC"),
    "IRL": ("Ltd",), "AUS": ("Pty Ltd",), "NZL": ("Ltd",), "DEU": ("GmbH", "AG"),
    "AUT": ("GmbH",), "CHE": ("AG", "GmbH", "SA"), "FRA": ("SAS", "SARL"),
    "ITA": ("S.r.l.", "S.p.A."), "ESP": ("S.L.", "S.A."), "PRT": ("Lda.",),
    "MEX": ("S.A. de C.V.",), "CHL": ("SpA",),
    "COL": ("S.A.S.",), "PER": ("S.A.C.",), "ARG": ("S.A.",), "BRA": ("Ltda.",),
    "NLD": ("B.V.",), "BEL": ("NV", "BV"), "JPN": ("Co., Ltd.", "K.K."),
    "CHN": ("Co., Ltd.",), "HKG": ("Limited",), "TWN": ("Co., Ltd.",), "VNM": ("JSC", "Co., Ltd."),
    "SGP": ("Pte. Ltd.",), "MYS": ("Sdn. Bhd.",), "THA": ("Co., Ltd.",), "PHL": ("Inc.",),
    "IND": ("Pvt. Ltd.",), "PAK": ("Pvt. Ltd.",), "BGD": ("Ltd.",), "ARE": ("LLC", "FZE"),
    "SAU": ("LLC", "Trading Est."), "QAT": ("W.L.L.",), "KWT": ("W.L.L.",), "RUS": ("LLC", "JSC"),
    "KAZ": ("LLP",), "UZB": ("LLC",), "POL": ("Sp. z o.o.",), "CZE": ("s.r.o.",),
    "SVK": ("s.r.o.",), "HUN": ("Kft.",), "TUR": ("A.Ş.", "Ltd. Şti."), "SWE": ("AB",),
    "NOR": ("AS",), "DNK": ("ApS",), "FIN": ("Oy",), "ROU": ("S.R.L.",), "GRC": ("S.A.",),
}  # fmt: skip


@dataclass(frozen=True)
class Exporters:
    ids: list[str]
    founding: np.ndarray
    joined: np.ndarray  # year the firm joined the agency database (ids follow this order)
    region: np.ndarray  # index into KOREAN_REGIONS
    sector: np.ndarray
    products: np.ndarray  # (n, 5) catalogue indices, main product first, -1 padded
    hs6: np.ndarray  # (n, 5) HS6 codes as ints, -1 padded
    price_lo: np.ndarray
    price_hi: np.ndarray
    capacity: np.ndarray  # units per month
    destinations: np.ndarray  # (n, 6) partner indices by importance, -1 padded
    first_export: np.ndarray  # year of the first export ever, NEVER if none yet
    capability: np.ndarray  # latent export capability, standard normal
    firm_effect: np.ndarray  # persistent unexplained part of the continuation logit
    taste: np.ndarray  # (n, 3) latent taste
    popularity: np.ndarray  # how often the site shows the firm (exposure weight)
    activity: np.ndarray  # how often the firm's users visit the site
    log_employees: np.ndarray  # size at the firm's first observed year
    revenue_per_employee: np.ndarray  # KRW million
    margin: np.ndarray  # typical net margin
    growth: np.ndarray  # typical yearly growth of employees (log)
    export_share: np.ndarray  # share of revenue exported in an exporting year

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def main_chapter(self) -> np.ndarray:
        out: np.ndarray = self.hs6[:, 0] // 10_000
        return out

    def quality(self) -> np.ndarray:
        """Stability and capability as a buyer sees them: capability plus firm maturity."""
        age = np.maximum(LAST_YEAR - self.founding, 0)
        out: np.ndarray = self.capability + 0.5 * (np.log1p(age) - 2.5) / 0.8
        return out


@dataclass(frozen=True)
class Buyers:
    ids: list[str]
    country: np.ndarray  # partner index
    joined: np.ndarray
    founding: np.ndarray
    sector: np.ndarray
    products: np.ndarray  # (n, 4)
    hs6: np.ndarray  # (n, 4)
    price_lo: np.ndarray
    price_hi: np.ndarray
    volume: np.ndarray  # desired units per month
    revenue: np.ndarray  # USD per year
    employees: np.ndarray
    bad_credit: np.ndarray
    taste: np.ndarray
    visibility: np.ndarray  # exposure weight on the site
    activity: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def main_chapter(self) -> np.ndarray:
        out: np.ndarray = self.hs6[:, 0] // 10_000
        return out

    def size(self) -> np.ndarray:
        """Standardised log revenue."""
        out: np.ndarray = (np.log(self.revenue) - np.log(20e6)) / 1.5
        return out


def make_exporters(rng: np.random.Generator, n: int) -> Exporters:
    age = np.clip(np.round(rng.lognormal(np.log(14), 0.75, n)), 0, 70).astype(np.int64)
    founding = LAST_YEAR - age
    # About half the firms known before the history starts; newer ones join a year or two
    # after founding.
    registered = np.where(
        rng.random(n) < 0.5, FIRST_YEAR - 1, rng.integers(FIRST_YEAR, LAST_YEAR + 1, n)
    )
    joined = np.clip(np.maximum(founding + rng.geometric(0.5, n) - 1, registered), None, LAST_YEAR)
    order = np.lexsort((rng.random(n), joined))
    founding, joined, age = founding[order], joined[order], age[order]

    weights = np.array([s.exporter_weight for s in SECTORS], dtype=float)
    sector = rng.choice(len(SECTORS), size=n, p=weights / weights.sum())
    capability = rng.normal(0.0, 1.0, n)
    products = _draw_products(rng, sector, 1 + rng.binomial(4, 0.3, n), MAX_EXPORTER_PRODUCTS)
    hs6 = np.where(products >= 0, HS6_CODES[np.maximum(products, 0)], -1)
    price_lo, price_hi = _price_range(rng, products, 0.75, 1.6)
    log_employees = np.clip(
        rng.normal(np.log(6) + 0.45 * np.log1p(np.minimum(age, FIRST_YEAR - founding).clip(0))
                   + 0.3 * capability, 0.7),
        0.0, np.log(3000),
    )  # fmt: skip
    revenue_per_employee = rng.lognormal(np.log(280), 0.45, n)
    export_share = rng.beta(2.0, 3.0, n)
    revenue_usd = np.exp(log_employees) * revenue_per_employee * 1e6 / KRW_PER_USD_PLAN
    capacity = np.maximum(
        1, revenue_usd * export_share * rng.uniform(1.0, 3.0, n) / 12 / np.sqrt(price_lo * price_hi)
    ).astype(np.int64)
    n_destinations = 1 + rng.binomial(MAX_DESTINATIONS - 1, sigmoid(-1.0 + 0.7 * capability))
    destinations = _draw_destinations(rng, n, n_destinations)
    gap = rng.geometric(sigmoid(-1.2 + 0.5 * capability)) - 1
    first_export = founding + gap
    first_export = np.where(first_export > LAST_YEAR, NEVER, first_export)
    return Exporters(
        ids=[f"EXP{i:06d}" for i in range(1, n + 1)],
        founding=founding,
        joined=joined,
        region=rng.choice(
            len(KOREAN_REGIONS), size=n, p=_normalise([_REGION_WEIGHTS[r] for r in KOREAN_REGIONS])
        ),
        sector=sector,
        products=products,
        hs6=hs6,
        price_lo=price_lo,
        price_hi=price_hi,
        capacity=capacity,
        destinations=destinations,
        first_export=first_export,
        capability=capability,
        firm_effect=rng.normal(0.0, 1.0, n),  # scaled by the ground truth's firm-effect sd
        taste=rng.normal(0.0, TASTE_SD, (n, TASTE_DIMENSIONS)),
        popularity=np.exp(rng.normal(0.0, 1.1, n) + 0.4 * capability),
        activity=np.exp(rng.normal(0.0, 0.8, n) + 0.3 * capability),
        log_employees=log_employees,
        revenue_per_employee=revenue_per_employee,
        margin=0.03 + 0.025 * capability + rng.normal(0.0, 0.03, n),
        growth=rng.normal(0.02, 0.04, n),
        export_share=export_share,
    )


def make_buyers(rng: np.random.Generator, n: int) -> Buyers:
    joined = np.where(
        rng.random(n) < 0.45,
        FIRST_YEAR - 1,
        FIRST_YEAR + np.floor(10 * np.sqrt(rng.random(n))).astype(np.int64),  # more join lately
    )
    joined = np.sort(np.clip(joined, None, LAST_YEAR))
    age = np.clip(np.round(rng.lognormal(np.log(18), 0.7, n)), 1, 120).astype(np.int64)
    founding = np.maximum(joined - age, 1900)  # the contract starts at 1900
    shares = np.array([p.export_share_pct for p in PARTNERS])
    country = rng.choice(len(PARTNERS), size=n, p=shares / shares.sum())
    weights = np.array([s.buyer_weight for s in SECTORS], dtype=float)
    sector = rng.choice(len(SECTORS), size=n, p=weights / weights.sum())
    products = _draw_products(rng, sector, 1 + rng.binomial(3, 0.3, n), MAX_BUYER_PRODUCTS)
    hs6 = np.where(products >= 0, HS6_CODES[np.maximum(products, 0)], -1)
    price_lo, price_hi = _price_range(rng, products, 0.8, 1.4)
    revenue = np.round(rng.lognormal(np.log(20e6), 1.5, n), -3)
    volume = np.maximum(
        1, revenue * rng.uniform(0.002, 0.02, n) / 12 / np.sqrt(price_lo * price_hi)
    ).astype(np.int64)
    size = (np.log(revenue) - np.log(20e6)) / 1.5
    return Buyers(
        ids=[f"BUY{i:07d}" for i in range(1, n + 1)],
        country=country,
        joined=joined,
        founding=founding,
        sector=sector,
        products=products,
        hs6=hs6,
        price_lo=price_lo,
        price_hi=price_hi,
        volume=volume,
        revenue=revenue,
        employees=np.maximum(1, revenue / rng.uniform(150e3, 400e3, n)).astype(np.int64),
        bad_credit=rng.random(n) < 0.03,
        taste=rng.normal(0.0, TASTE_SD, (n, TASTE_DIMENSIONS)),
        visibility=np.exp(rng.normal(0.0, 0.8, n) + 0.3 * size),
        activity=np.exp(rng.normal(0.0, 1.0, n)),
    )


def _normalise(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    out: np.ndarray = w / w.sum()
    return out


def _draw_products(
    rng: np.random.Generator, sector: np.ndarray, count: np.ndarray, slots: int
) -> np.ndarray:
    """Catalogue indices: a main product, then others mostly of its chapter (two at most)."""
    n = len(sector)
    main = SECTOR_START[sector] + (rng.random(n) * SECTOR_SIZE[sector]).astype(np.int64)
    second = SECTOR_START[sector] + (rng.random(n) * SECTOR_SIZE[sector]).astype(np.int64)
    anchor = np.where(rng.random((n, slots - 1)) < 0.3, second[:, None], main[:, None])
    others = CHAPTER_START[anchor] + (rng.random((n, slots - 1)) * CHAPTER_SIZE[anchor]).astype(
        np.int64
    )
    products = np.concatenate([main[:, None], others], axis=1)
    products[np.arange(slots)[None, :] >= count[:, None]] = -1
    for k in range(1, slots):
        repeated = (products[:, k : k + 1] == products[:, :k]).any(axis=1)
        products[repeated, k] = -1
    # Keep the main product first and move the padding to the end.
    order = np.argsort(products < 0, axis=1, kind="stable")
    out: np.ndarray = np.take_along_axis(products, order, axis=1)
    return out


def _price_range(
    rng: np.random.Generator, products: np.ndarray, low: float, high: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unit price range over a firm's products, around each product's typical price."""
    valid = products >= 0
    typical = UNIT_PRICES[np.maximum(products, 0)] * np.exp(rng.normal(0.0, 0.35, products.shape))
    lo = np.where(valid, typical * low, np.inf).min(axis=1)
    hi = np.where(valid, typical * high, 0.0).max(axis=1)
    hi = np.maximum(hi, lo * 1.2)
    return np.round(lo, 2).clip(0.01), np.round(hi, 2).clip(0.02)


def _draw_destinations(rng: np.random.Generator, n: int, count: np.ndarray) -> np.ndarray:
    """Destination countries by importance, drawn without replacement by Korea's export shares.

    A placeholder: a generation run keeps only how many there are and lets the market-entry
    mechanism (`truth.market_entry`) choose which.
    """
    shares = np.log(np.array([p.export_share_pct for p in PARTNERS]))
    keys = shares[None, :] + rng.gumbel(size=(n, len(PARTNERS)))
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :MAX_DESTINATIONS]
    ranked[np.arange(MAX_DESTINATIONS)[None, :] >= count[:, None]] = -1
    out: np.ndarray = ranked
    return out


def exporter_names(rng: np.random.Generator, sector: np.ndarray) -> tuple[list[str], list[str]]:
    """Registered firm names (romanised or Hangul) and the firms' e-mail domains."""
    n = len(sector)
    brand = rng.integers(0, len(_BRANDS), n).tolist()
    word = rng.integers(0, 100, n).tolist()
    form = rng.integers(0, len(_LEGAL_FORMS), n).tolist()
    hangul = (rng.random(n) < 0.25).tolist()
    tld = (rng.random(n) < 0.6).tolist()
    names, domains = [], []
    for i, s in enumerate(sector.tolist()):
        words, words_ko = SECTORS[s].firm_words, SECTORS[s].firm_words_ko
        english = words[word[i] % len(words)]
        if hangul[i]:
            names.append(f"(주){_BRANDS_KO[brand[i]]}{words_ko[word[i] % len(words_ko)]}")
        else:
            names.append(f"{_BRANDS[brand[i]]} {english} {_LEGAL_FORMS[form[i]]}")
        slug = "".join(ch for ch in f"{_BRANDS[brand[i]]}{english}".lower() if ch.isalnum())
        domains.append(f"{slug}.co.kr" if tld[i] else f"{slug}.com")
    return names, domains


def buyer_names(
    rng: np.random.Generator, country_codes: list[str], cities: list[str]
) -> tuple[list[str], list[str]]:
    """Company names in the buyer country's style, and their e-mail domains."""
    n = len(country_codes)
    picks = rng.integers(0, 1_000_000, size=(n, 3)).tolist()
    names, domains = [], []
    for i, code in enumerate(country_codes):
        word = _BUYER_WORDS[picks[i][0] % len(_BUYER_WORDS)]
        forms = _BUYER_FORMS.get(code, ("Ltd.",))
        form = forms[picks[i][1] % len(forms)]
        stem = (
            cities[i]
            if picks[i][2] % 3 == 0
            else _BRANDS_FOREIGN[picks[i][2] % len(_BRANDS_FOREIGN)]
        )
        name = f"PT {stem} {word}" if code == "IDN" else f"{stem} {word} {form}"
        names.append(name)
        slug = "".join(ch for ch in f"{stem}{word}".lower() if ch.isascii() and ch.isalnum())
        domains.append(f"{slug or 'trade'}.com")
    return names, domains


_BRANDS_FOREIGN = ("Pacific", "Atlas", "Orient", "Evergreen", "Summit", "Horizon", "Golden Gate",
                   "Silverline", "Bluewave", "Northstar", "Crescent", "Meridian", "Sunrise",
                   "Harbor", "Lotus", "Phoenix", "Zenith", "Cedar", "Coral", "Delta")  # fmt: skip
