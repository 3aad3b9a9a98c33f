"""The market-entry mechanism: exporters enter the countries the evidence favours, the same way
for the same seed, and keep serving the countries their chapter has an affinity for."""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np
import pytest

from exportintel.generate import markets, truth
from exportintel.generate.common import SCALES, rng_for
from exportintel.generate.firms import Buyers, Exporters, make_buyers, make_exporters
from exportintel.reference.countries import PARTNERS
from tests.generator.conftest import Generated


@dataclass(frozen=True)
class World:
    seed: int
    exporters: Exporters
    buyers: Buyers
    markets: markets.Markets


def _world(seed: int, scale: str) -> World:
    """The firms and markets of a run, without writing any dataset."""
    spec = SCALES[scale]
    return World(
        seed,
        make_exporters(rng_for(seed, "exporters"), spec.exporters),
        make_buyers(rng_for(seed, "buyers"), spec.buyers),
        markets.build_markets(seed),
    )


def _choose(world: World) -> np.ndarray:
    return truth.choose_destinations(world.seed, world.exporters, world.buyers, world.markets)


@pytest.fixture(scope="module")
def tiny() -> World:
    return _world(7, "tiny")


@pytest.fixture(scope="module")
def many() -> World:
    """The medium scale's 20,000 exporters: enough entries to pin down the weak fx and growth
    terms (on small their standard errors are a quarter of the coefficient)."""
    return _world(7, "medium")


def test_the_same_seed_chooses_the_same_destinations(tiny: World) -> None:
    chosen = _choose(tiny)
    assert np.array_equal(chosen, _choose(tiny))
    other = _choose(_world(8, "tiny"))
    assert not np.array_equal(chosen[:, 0], other[:, 0])


def test_each_firm_keeps_its_count_of_distinct_destinations(tiny: World) -> None:
    chosen, before = _choose(tiny), tiny.exporters.destinations
    assert chosen.shape == before.shape and chosen.dtype == before.dtype
    assert np.array_equal(chosen >= 0, before >= 0)
    assert chosen.max() < len(PARTNERS)
    for row in chosen:
        valid = row[row >= 0]
        assert len(set(valid.tolist())) == len(valid)


@dataclass(frozen=True)
class ChoiceSets:
    """Every entry: the evidence on each partner (entry, partner, term), which partners were
    still open, and which one was chosen."""

    evidence: np.ndarray
    open: np.ndarray
    chosen: np.ndarray


def _choice_sets(world: World) -> ChoiceSets:
    destinations = _choose(world)
    evidence = truth.EntryEvidence.build(world.buyers, world.markets)
    chapter = truth.chapter_positions(world.markets, world.exporters.main_chapter)
    start = truth.entry_start(world.exporters)
    taken = np.zeros((world.exporters.n, len(PARTNERS)), dtype=bool)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for rank in range(destinations.shape[1]):
        features = evidence.features(chapter, start + rank - 1)
        active = destinations[:, rank] >= 0
        stacked = np.stack([features[name] for name in truth.ENTRY_TERMS], axis=-1)
        parts.append((stacked[active], ~taken[active], destinations[active, rank]))
        taken[np.flatnonzero(active), destinations[active, rank]] = True
    x, available, chosen = (np.concatenate(column) for column in zip(*parts, strict=True))
    return ChoiceSets(x, available, chosen)


def _conditional_logit(sets: ChoiceSets, steps: int = 30) -> np.ndarray:
    """Newton-Raphson on the log-likelihood of the choices among the open partners."""
    x, chosen = sets.evidence, sets.evidence[np.arange(len(sets.chosen)), sets.chosen]
    beta = np.zeros(x.shape[2])
    for _ in range(steps):
        z = np.where(sets.open, x @ beta, -np.inf)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        expected = np.einsum("np,npk->nk", p, x)
        gradient = (chosen - expected).sum(axis=0)
        hessian = np.einsum("np,npk,npl->kl", p, x, x) - expected.T @ expected
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-9:
            break
    return beta


@pytest.fixture(scope="module")
def entries(many: World) -> ChoiceSets:
    return _choice_sets(many)


def test_chosen_countries_have_more_demand_and_buyers_and_fewer_crises(
    entries: ChoiceSets,
) -> None:
    chosen = entries.evidence[np.arange(len(entries.chosen)), entries.chosen]
    weights = entries.open / entries.open.sum(axis=1, keepdims=True)
    typical = np.einsum("np,npk->nk", weights, entries.evidence)
    gap = dict(zip(truth.ENTRY_TERMS, (chosen - typical).mean(axis=0), strict=True))
    assert gap["demand"] > 1.0  # e^1: well above the typical open country's imports
    assert gap["buyers"] > 0.3
    assert gap["crisis"] < -0.05


def test_a_conditional_logit_recovers_the_entry_coefficients(entries: ChoiceSets) -> None:
    """The unobserved affinity and noise attenuate the fit a little, never flip a sign."""
    fitted = dict(zip(truth.ENTRY_TERMS, _conditional_logit(entries), strict=True))
    for name, value in fitted.items():
        true = getattr(truth.MARKET_ENTRY, name)
        assert np.sign(value) == np.sign(true), (name, value)
        assert 0.5 < value / true < 1.2, (name, value, true)


def test_the_largest_importer_is_a_strong_but_beatable_guess(entries: ChoiceSets) -> None:
    demand = np.where(entries.open, entries.evidence[:, :, 0], -np.inf)
    share = np.mean(demand.argmax(axis=1) == entries.chosen)
    assert 5 / len(PARTNERS) < share < 0.6


def _exports(small: Generated) -> dict[str, dict[int, set[str]]]:
    """Countries each firm exported to, per year, from the published export history."""
    served: dict[str, dict[int, set[str]]] = collections.defaultdict(
        lambda: collections.defaultdict(set)
    )
    for r in small.good("export_history"):
        served[r["firm_id"]][r["year"]].add(r["destination_country"])
    return served


def test_the_first_export_goes_to_the_main_destination(small: Generated) -> None:
    served = _exports(small)
    firsts = [
        r
        for r in small.ground_truth("market_entry")
        if r["rank"] == 0 and r["entry_year"] is not None and r["entry_year"] >= 2016
    ]
    assert len(firsts) > 100
    found = [r["country_code"] in served[r["firm_id"]][r["entry_year"]] for r in firsts]
    assert np.mean(found) > 0.97  # a few records are broken on purpose
    for r in small.ground_truth("market_entry"):
        assert r["entry_year"] is None or r["entry_year"] == r["market_year"] + 1
        assert 0 <= r["rank"] < 6


def test_destinations_of_higher_affinity_are_kept_more_often(small: Generated) -> None:
    """A country served last year is served again, in a year the firm exports, with the
    recorded keep probability: higher where the chapter's affinity is."""
    served = _exports(small)
    truth_of = {
        (r["firm_id"], r["country_code"]): r
        for r in small.ground_truth("market_entry")
        if r["rank"] > 0  # the main destination is always served
    }
    affinity, probability, kept = [], [], []
    for (firm, country), r in truth_of.items():
        years = served[firm]
        for year in range(2017, 2026):
            if years[year] and country in years[year - 1]:
                affinity.append(r["affinity"])
                probability.append(r["keep_probability"])
                kept.append(country in years[year])
    a, p, k = np.array(affinity), np.array(probability), np.array(kept)
    assert len(k) > 1000
    high, low = a > 0.4, a < -0.4
    assert k[high].mean() - k[low].mean() > 0.15
    for group in (high, low):
        assert abs(k[group].mean() - p[group].mean()) < 0.05
