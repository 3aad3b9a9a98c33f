"""Reference data: the HS chapters, the partner countries and the ECB cross rates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from exportintel.contracts.formats import FORMATS, country_codes, currency_codes
from exportintel.reference import fx
from exportintel.reference.countries import PARTNERS, country_name
from exportintel.reference.hs import HS_CHAPTERS, RESERVED_CHAPTERS, chapter_name


def test_all_97_chapters_in_order_with_both_languages() -> None:
    assert list(HS_CHAPTERS) == [f"{i:02d}" for i in range(1, 98)]
    for code, chapter in HS_CHAPTERS.items():
        assert FORMATS["hs2"].check(code)
        assert chapter.name_en and chapter.name_ko
    assert sorted(RESERVED_CHAPTERS) == ["77"]
    assert (
        chapter_name("33")
        == "Essential oils and resinoids; perfumery, cosmetic or toilet preparations"
    )
    assert chapter_name("8517", "ko").startswith("전기기기와 그 부분품")


def test_partners_are_real_countries_and_currencies() -> None:
    codes = [p.code for p in PARTNERS]
    assert len(codes) == len(set(codes))
    assert set(codes) <= country_codes()
    assert {p.currency for p in PARTNERS} <= currency_codes()
    assert codes[:4] == ["CHN", "USA", "VNM", "JPN"]  # Korea's largest export markets
    assert country_name("VNM") == "Vietnam"


def test_krw_cross_rates_follow_the_ecb_table() -> None:
    rates = fx.krw_per_unit(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    dates, table = fx._euro_table()
    day = np.datetime64("2024-03-15")
    row = int(np.flatnonzero(dates == day)[0])
    usd_days, usd = rates["USD"]
    eur_days, eur = rates["EUR"]
    expected = table["KRW"][row] / table["USD"][row]
    assert usd[usd_days == day][0] == pytest.approx(expected)
    assert eur[eur_days == day][0] == pytest.approx(table["KRW"][row])
    assert 1200 < usd.mean() < 1500  # the won traded near 1,360 per dollar in 2024
    assert "KRW" not in rates
