"""The data behaves like the world it stands for: references resolve, personal data is there
to be protected, and the ground-truth mechanisms leave a signal that models can find."""

from __future__ import annotations

import collections
import json
import re

import numpy as np
import pytest

from exportintel.generate import truth
from tests.generator.conftest import Generated

_PHONE = re.compile(r"\+?\d[\d -]{6,}\d")
_CAPABILITY = ("target_language_staff", "overseas_marketing_staff", "exhibitions", "certifications")


def test_every_firm_reference_resolves(small: Generated) -> None:
    exporters, buyers = small.ids("exporters", "firm_id"), small.ids("buyers", "buyer_id")
    firms = exporters | buyers
    for name, fields, known in (
        ("firm_financials", ("firm_id",), exporters),
        ("credit_evaluations", ("firm_id",), exporters),
        ("export_history", ("firm_id",), exporters),
        ("match_history", ("exporter_id",), exporters),
        ("match_history", ("buyer_id",), buyers),
        ("fair_participation", ("firm_id",), firms),
        ("web_events", ("actor_firm_id", "target_id"), firms),
    ):
        for record in small.good(name):
            for f in fields:
                assert record[f] is None or record[f] in known, (name, f, record[f])


def test_personal_data_is_present_to_be_protected(small: Generated) -> None:
    events = small.good("web_events")
    searches = [e["search_keyword"] for e in events if e["event_type"] == "search"]
    with_contact = [s for s in searches if _PHONE.search(s) or "@" in s]
    assert 0.001 < len(with_contact) / len(searches) < 0.015
    assert {e["cookie_consent"] for e in events} == {True, False}
    assert all(e["cookie_id"] for e in events)
    assert any(e["user_id"] is None and e["actor_type"] == "anonymous" for e in events)
    exporters = small.good("exporters")
    phones = [r["contact_phone"] for r in exporters if r["contact_phone"]]
    assert any(p.startswith("+82-10-") for p in phones)
    assert any(p.startswith("010-") for p in phones)
    names = [r["contact_name"] for r in exporters if r["contact_name"]]
    assert any(re.fullmatch(r"[가-힣]{2,4}", n) for n in names)  # Hangul names
    assert any(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+-[a-z]+", n) for n in names)  # romanised
    buyer_phones = {r["contact_phone"][:4] for r in small.good("buyers") if r["contact_phone"]}
    assert len(buyer_phones) > 10  # many countries' calling codes
    notes = [r["officer_note"] for r in small.good("match_history") if r["officer_note"]]
    assert any(_PHONE.search(n) or "@" in n for n in notes)


def test_continuation_depends_on_capability(small: Generated) -> None:
    """Continuation rates, from published data only, differ clearly by capability."""
    exported = collections.defaultdict(set)
    for r in small.good("export_history"):
        exported[r["firm_id"]].add(r["year"])
    capability, continued = [], []
    for r in small.good("firm_financials"):
        firm, year = r["firm_id"], r["year"]
        if year < 2025 and year in exported[firm]:
            capability.append(sum(np.log1p(r[k]) for k in _CAPABILITY))
            continued.append(year + 1 in exported[firm])
    cap, cont = np.array(capability), np.array(continued)
    low, high = np.quantile(cap, [0.25, 0.75])
    assert cont[cap >= high].mean() - cont[cap <= low].mean() > 0.1


def _logistic_fit(x: np.ndarray, y: np.ndarray, steps: int = 12) -> np.ndarray:
    """Newton-Raphson (IRLS) for a logistic regression with an intercept."""
    design = np.column_stack([np.ones(len(x)), x])
    beta = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(len(beta))
        beta += np.linalg.solve(hessian, design.T @ (y - p))
    return beta[1:]


def test_a_logistic_regression_recovers_the_continuation_signal(small: Generated) -> None:
    rows = list(small.ground_truth("continuation"))
    names = [t.feature for t in truth.CONTINUATION_TERMS]
    x = np.array([[r[n] for n in names] for r in rows], dtype=float)
    y = np.array([r["exported"] for r in rows], dtype=float)
    p_true = np.array([r["p_true"] for r in rows])
    assert p_true.min() > 0.0 and p_true.max() < 1.0
    assert abs(p_true.mean() - y.mean()) < 0.02  # the recorded probabilities drew the outcomes
    fitted = dict(zip(names, _logistic_fit((x - x.mean(0)) / x.std(0), y), strict=True))
    true = {t.feature: t.coefficient for t in truth.CONTINUATION_TERMS}
    # Firm-level signals are recovered with their sign (the unobserved firm effect and noise
    # attenuate them, so the fit is not exact).
    for name in ("target_language_staff", "overseas_marketing_staff", "exhibitions",
                 "certifications", "exported_last_year", "credit_grade"):  # fmt: skip
        assert np.sign(fitted[name]) == np.sign(true[name]), name
    assert fitted["exported_last_year"] == max(fitted.values())


def test_interactions_favour_hs_overlap(small: Generated) -> None:
    """Buyers open exporter profiles that share their HS codes far more than chance."""
    exporters = {r["firm_id"]: r["hs_codes"] for r in small.good("exporters")}
    buyers = {r["buyer_id"]: r["hs_codes_wanted"] for r in small.good("buyers")}

    def overlap(a: list[str], b: list[str]) -> bool:
        return any(x[:4] == y[:4] for x in a for y in b)

    viewed = [
        overlap(exporters[e["target_id"]], buyers[e["actor_firm_id"]])
        for e in small.good("web_events")
        if e["event_type"] == "profile_view"
        and e["actor_type"] == "buyer"
        and e["target_id"] in exporters
        and e["actor_firm_id"] in buyers
    ]
    rng = np.random.default_rng(0)
    ex_ids, buyer_ids = list(exporters), list(buyers)
    chance = [
        overlap(exporters[ex_ids[i]], buyers[buyer_ids[j]])
        for i, j in zip(rng.integers(0, len(ex_ids), 5000), rng.integers(0, len(buyer_ids), 5000),
                        strict=True)
    ]  # fmt: skip
    assert np.mean(viewed) > 0.6
    assert np.mean(viewed) > 5 * np.mean(chance)


def test_saves_and_inquiries_follow_the_views(small: Generated) -> None:
    counts = collections.Counter(e["event_type"] for e in small.good("web_events"))
    assert counts["profile_view"] > counts["save"] > counts["inquiry"] > 0
    assert counts["rating"] > 0 and counts["login"] > 0 and counts["search"] > 0
    actors = collections.Counter(e["actor_type"] for e in small.good("web_events"))
    assert actors["buyer"] > 0 and actors["exporter"] > 0 and actors["anonymous"] > 0


def test_exposure_is_skewed(small: Generated) -> None:
    views = collections.Counter(
        e["target_id"]
        for e in small.good("web_events")
        if e["event_type"] == "profile_view" and e["target_id"].startswith("EXP")
    )
    counts = np.sort(np.array(list(views.values())))[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * counts.sum()


def test_traffic_grows_and_peaks_during_fairs(small: Generated) -> None:
    days = collections.Counter(e["event_time"][:10] for e in small.good("web_events"))
    by_year: collections.Counter[str] = collections.Counter()
    for day, n in days.items():
        by_year[day[:4]] += n
    assert by_year["2025"] > 3 * by_year["2016"]
    fair_days = {r["fair_date"] for r in small.good("fair_participation")}
    fair = np.mean([days[d] for d in fair_days if d.startswith("2024")])
    typical = np.mean([n for d, n in days.items() if d.startswith("2024")])
    assert fair > 2 * typical


def test_matches_and_outcomes_are_plausible(small: Generated) -> None:
    matches = small.good("match_history")
    assert {m["channel"] for m in matches} == {"fair", "online", "office"}
    assert {m["requested_by"] for m in matches} == {"exporter", "buyer", "agency"}
    held = np.mean([m["meeting_held"] for m in matches])
    assert 0.4 < held < 0.85
    assert not any(m["deal_closed"] and not m["meeting_held"] for m in matches)
    assert all((m["deal_value_usd"] is not None) == m["deal_closed"] for m in matches)
    bad = {r["buyer_id"] for r in small.good("buyers") if r["bad_credit"]}
    assert 0.015 < len(bad) / len(small.good("buyers")) < 0.045
    office = [m for m in matches if m["channel"] == "office"]
    assert not any(m["buyer_id"] in bad for m in office)  # the agency never proposes them


def test_export_status_varies_over_time(small: Generated) -> None:
    years = collections.defaultdict(set)
    for r in small.good("export_history"):
        years[r["firm_id"]].add(r["year"])
    stopped = sum(
        any(y in ys and y + 1 not in ys for y in range(2016, 2025)) for ys in years.values()
    )
    restarted = sum(
        any(y in ys and y + 1 not in ys and y + 2 in ys for y in range(2016, 2024))
        for ys in years.values()
    )
    novices = sum(min(ys) >= 2020 for ys in years.values())
    assert stopped > 100 and restarted > 20 and novices > 100
    values = np.array([r["export_value_usd"] for r in small.good("export_history")])
    assert values.min() >= 100 and 50_000 < np.median(values) < 2_000_000


@pytest.mark.parametrize("stem", ["continuation", "exporter_traits", "buyer_traits"])
def test_ground_truth_files_exist(small: Generated, stem: str) -> None:
    assert next(small.ground_truth(stem))


def test_ground_truth_parameters_are_written(small: Generated) -> None:
    written = json.loads((small.out / "ground_truth" / "parameters.json").read_text())
    assert written == json.loads(json.dumps(truth.parameters()))
    assert written["version"] == truth.GROUND_TRUTH_VERSION
