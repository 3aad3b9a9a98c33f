"""Plain-word reasons for a suggested market, in Korean and English.

A suggestion's reasons are the evidence terms that raise its utility the most (positive
contributions, strongest first, at most `REASON_COUNT`), each said with the figure behind it.
When no term stands out (a country suggested for being the least bad), one general reason says
so rather than inventing one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from exportintel.contracts.markets import EVIDENCE_TERMS

REASON_COUNT = 3
SIZE_KO = {"small": "소규모", "medium": "중규모", "large": "대규모"}


def _money(usd: float) -> tuple[str, str]:
    if usd >= 1e9:
        return f"USD {usd / 1e9:.1f} bn", f"{usd / 1e8:,.0f}억 달러"
    return f"USD {usd / 1e6:.0f} m", f"{usd / 1e6:,.0f}백만 달러"


def _demand(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    en, ko = _money(math.exp(row["demand"]))
    chapter, country = row["hs_chapter"], row["country_code"]
    return (
        f"Korea exported {en} of HS {chapter} goods to {country} in {year}",
        f"{year}년 한국의 {country} 대상 HS {chapter} 수출 {ko}",
    )


def _growth(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    pct = 100 * (math.exp(row["growth"]) - 1)
    return (
        f"that trade grew {pct:.0f}% a year over {year - 2}-{year}",
        f"{year - 2}~{year}년 해당 교역 연평균 {pct:.0f}% 증가",
    )


def _fx(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    pct = 100 * (math.exp(row["fx"]) - 1)
    return (
        f"the won weakened {pct:.1f}% against the buyers' currency in {year}, "
        "so your prices fell for them",
        f"{year}년 원화가 현지 결제통화 대비 {pct:.1f}% 약세로 가격 경쟁력 상승",
    )


def _price_fit(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    pct = 100 * row["price_fit"]
    return (
        f"{pct:.0f}% of the buyers there want prices in your range",
        f"현지 바이어의 {pct:.0f}%가 귀사 가격대를 희망",
    )


def _crisis(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    level = row["crisis"]
    if level < 0.05:
        return (f"no travel advisory in {year}", f"{year}년 여행경보 없음")
    return (
        f"a low travel-advisory level in {year} ({level:.1f} of 4)",
        f"{year}년 여행경보 수준 낮음 (4단계 중 {level:.1f})",
    )


def _buyers(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    count = int(row["buyer_count"])
    return (
        f"{count} buyers in the agency's database ask for your HS chapters there",
        f"기관 데이터베이스에 귀사 HS 품목을 찾는 현지 바이어 {count}곳",
    )


def _peers(row: Mapping[str, Any], year: int) -> tuple[str, str]:
    count, chapter, band = int(row["peer_count"]), row["hs_chapter"], row["size_band"]
    return (
        f"{count} similar firms (HS {chapter}, {band}) kept exporting there in {year}",
        f"유사 기업(HS {chapter}, {SIZE_KO.get(band, band)}) {count}곳이 {year}년 수출 지속",
    )


SAYINGS: dict[str, Callable[[Mapping[str, Any], int], tuple[str, str]]] = {
    "demand": _demand,
    "growth": _growth,
    "fx": _fx,
    "price_fit": _price_fit,
    "crisis": _crisis,
    "buyers": _buyers,
    "peers": _peers,
}
GENERAL = (
    "no single piece of evidence stands out; ranked on the balance of all",
    "뚜렷한 단일 근거 없이 전체 근거를 종합해 선정",
)


def reasons(row: Mapping[str, Any], year: int) -> tuple[list[str], list[str]]:
    """English and Korean reasons of one suggestion (`row`: its evidence and `<term>_term`
    contributions); `year` is the as-of year."""
    ranked = sorted(
        (t for t in EVIDENCE_TERMS if row[f"{t}_term"] > 0.1),
        key=lambda t: -row[f"{t}_term"],
    )[:REASON_COUNT]
    if not ranked:
        return [GENERAL[0]], [GENERAL[1]]
    pairs = [SAYINGS[t](row, year) for t in ranked]
    return [en for en, _ in pairs], [ko for _, ko in pairs]
