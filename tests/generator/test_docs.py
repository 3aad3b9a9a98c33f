"""docs/ground-truth.md states the frozen truth: it must say what the code does."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from exportintel.generate import truth

DOC = Path(__file__).resolve().parents[2] / "docs" / "ground-truth.md"


def test_the_document_names_the_current_version() -> None:
    assert f"version **{truth.GROUND_TRUTH_VERSION}**" in DOC.read_text()


def test_the_continuation_table_matches_the_code() -> None:
    rows = {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^\| `(\w+)` \| (-?[\d.]+) \| (-?[\d.]+) \|", DOC.read_text(), re.M)
    }
    assert rows == {t.feature: (t.coefficient, t.centre) for t in truth.CONTINUATION_TERMS}
    assert f"`b0 = {truth.CONTINUATION_INTERCEPT}`" in DOC.read_text()


def test_the_affinity_formula_matches_the_code() -> None:
    m = truth.MATCHING
    text = DOC.read_text()
    formula = (
        f"hs[level] + {m.price_overlap} price_overlap + {m.volume_fit} volume_fit + "
        f"{m.buyer_currency_change} fx_j,t"
    )
    assert formula in " ".join(text.split())
    assert f"- {m.centre}" in text
    assert ", ".join(f"{v}" for v in m.hs_overlap[1:]) in text
    for outcome in (
        f"sigmoid(a - {-m.save_offset})",
        f"sigmoid(a - {-m.inquiry_offset})",
        f"sigmoid(a - {-m.fair_request_offset})",
        f"sigmoid({m.meeting_offset} + {m.meeting_slope} a)",
        f"sigmoid({m.deal_offset} + {m.deal_slope} a - {-m.bad_credit_deal} bad_credit)",
    ):
        assert outcome in text, outcome


def test_the_market_entry_table_matches_the_code() -> None:
    section = DOC.read_text().split("## Mechanism 3: market entry")[1].split("\n## ")[0]
    rows = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^\| `(\w+)` \| (-?[\d.]+) \|", section, re.M)
    }
    assert rows == asdict(truth.MARKET_ENTRY)
    e = truth.MARKET_ENTRY
    formula = (
        f"u(f, p) = {e.demand} demand + {e.growth} growth + {e.fx} fx - {-e.crisis} crisis + "
        f"{e.buyers} buyers + alpha[chapter_f, p] + gumbel"
    )
    assert formula in " ".join(section.split())
