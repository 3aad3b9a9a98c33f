"""One generation run: build the world in dependency order, stream every dataset, then write
the ground truth and the manifest."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exportintel.contracts import get_contract
from exportintel.generate import behaviour, directory, markets, panel, truth
from exportintel.generate.clickstream import Clickstream, rating_posts
from exportintel.generate.common import GENERATOR_VERSION, SCALES, TODAY, YEARS, rng_for
from exportintel.generate.firms import Buyers, Exporters, make_buyers, make_exporters
from exportintel.generate.writer import DatasetSummary, DatasetWriter, JsonlShards, with_nulls
from exportintel.reference.countries import PARTNERS

# Parent ids stay intact in malformed records, so that child datasets keep resolving.
_PROTECTED = {"exporters": ("firm_id",), "buyers": ("buyer_id",)}


@dataclass
class GenerateSummary:
    """What a run wrote; `render()` is the table the CLI prints."""

    scale: str
    seed: int
    out: Path
    datasets: dict[str, DatasetSummary]
    ground_truth: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def render(self) -> str:
        header = (
            f"{'dataset':<20} {'rows':>12} {'malformed':>10} {'duplicates':>10} {'files':>6}  path"
        )
        lines = [header, "-" * len(header)]
        for name, s in self.datasets.items():
            lines.append(
                f"{name:<20} {s.rows:>12,} {s.malformed:>10,} {s.duplicates:>10,} "
                f"{len(s.files):>6}  {self.out / name}"
            )
        total = sum(s.rows for s in self.datasets.values())
        lines.append("-" * len(header))
        lines.append(f"{'total':<20} {total:>12,}")
        lines.append(f"ground truth: {self.out / 'ground_truth'} ({len(self.ground_truth)} files)")
        lines.append(f"scale {self.scale}, seed {self.seed}, generated in {self.seconds:.1f} s")
        return "\n".join(lines)


def generate(
    scale: str = "small",
    seed: int = 7,
    out: Path = Path("data/generated"),
    malformed_rate: float = 0.01,
) -> GenerateSummary:
    """Write every contract dataset under `out`, the hidden truth under `out/ground_truth`."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = time.perf_counter()
    spec = SCALES[scale]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    market = markets.build_markets(seed)
    exporters = make_exporters(rng_for(seed, "exporters"), spec.exporters)
    buyers = make_buyers(rng_for(seed, "buyers"), spec.buyers)
    covered = markets.covered_currencies(market)
    buyer_currency = [
        markets.pay_currency(PARTNERS[c].currency, covered) for c in buyers.country.tolist()
    ]
    affinity = truth.Affinity(
        exporters=exporters,
        buyers=buyers,
        buyer_currency=market.currency_index(buyer_currency),
        fx_move=market.fx_move,
        exporter_quality=exporters.quality(),
        buyer_size=buyers.size(),
    )
    # Where each exporter sells follows the market-entry mechanism, on the evidence of the
    # markets and buyers.
    entry = truth.market_entry(seed, exporters, buyers, market)
    exporters = dataclasses.replace(exporters, destinations=entry.destinations)
    firm_years = panel.simulate(seed, exporters, market)
    fair_list = behaviour.fairs()
    fair = behaviour.fair_participation(seed, exporters, buyers, firm_years, affinity, fair_list)
    matches = behaviour.matchmakings(seed, exporters, buyers, affinity, fair_list, fair.requests)
    results = behaviour.outcomes(seed, matches, buyers, affinity)

    sources: dict[str, Iterable[dict[str, list[Any]]]] = {
        "exporters": directory.exporter_chunks(seed, exporters),
        "buyers": directory.buyer_chunks(seed, buyers, buyer_currency),
        "firm_financials": panel.financial_chunks(exporters, firm_years),
        "credit_evaluations": panel.credit_chunks(seed, exporters, firm_years),
        "export_history": panel.export_chunks(seed, exporters, firm_years, market),
        "match_history": behaviour.match_chunks(seed, matches, results, exporters, buyers),
        "fair_participation": (floor.columns(exporters, buyers) for floor in fair.floors),
        "web_events": Clickstream(
            seed, exporters, buyers, affinity, fair_list, rating_posts(seed, matches, results),
            spec.web_events,
        ).chunks(),
        "fx_rates": [markets.fx_rows(market)],
        "commodity_prices": [markets.commodity_rows(market)],
        "country_risk": [markets.country_risk_rows(market)],
        "trade_flows": markets.trade_rows(seed, market),
    }  # fmt: skip
    datasets: dict[str, DatasetSummary] = {}
    for name in sorted(sources):
        writer = DatasetWriter(
            get_contract(name), out, rng_for(seed, "malformed", name), malformed_rate,
            _PROTECTED.get(name, ()),
        )  # fmt: skip
        for chunk in sources[name]:
            writer.write(chunk)
        datasets[name] = writer.close()

    truth_files = _write_ground_truth(out / "ground_truth", exporters, buyers, firm_years, entry)
    summary = GenerateSummary(scale, seed, out, datasets, truth_files)
    _write_manifest(out, summary, malformed_rate)
    summary.seconds = time.perf_counter() - started
    return summary


def _write_ground_truth(
    folder: Path,
    exporters: Exporters,
    buyers: Buyers,
    firm_years: panel.Panel,
    entry: truth.EntryChoices,
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    parameters = folder / "parameters.json"
    parameters.write_text(json.dumps(truth.parameters(), indent=2, sort_keys=True) + "\n")
    ids = np.array(exporters.ids, dtype=object)
    rows = firm_years.truth_rows
    size = buyers.size()
    firm, rank = np.nonzero(entry.destinations >= 0)
    country = np.array([p.code for p in PARTNERS], dtype=object)[entry.destinations[firm, rank]]
    entry_year = exporters.first_export[firm] + rank
    return [
        parameters,
        *_write_table(folder, "continuation", len(rows["firm"]), lambda s: {
            "firm_id": ids[rows["firm"][s]].tolist(),
            **{key: _plain(values[s]) for key, values in rows.items() if key != "firm"},
        }),
        *_write_table(folder, "market_entry", len(firm), lambda s: {
            "firm_id": ids[firm[s]].tolist(),
            "rank": rank[s].tolist(),
            "country_code": country[s].tolist(),
            "entry_year": with_nulls(entry_year[s], entry_year[s] > YEARS[-1]),
            "market_year": entry.market_year[firm[s], rank[s]].tolist(),
            **{name: _plain(entry.features[name][firm[s], rank[s]]) for name in truth.ENTRY_TERMS},
            "utility_observable": _plain(entry.utility[firm[s], rank[s]]),
            "affinity": _plain(entry.affinity[firm[s], rank[s]]),
            "noise": _plain(entry.noise[firm[s], rank[s]]),
            "keep_probability": _plain(
                truth.keep_probability(entry.affinity[firm[s], rank[s]])
            ),
        }),
        *_write_table(folder, "exporter_traits", exporters.n, lambda s: {
            "firm_id": exporters.ids[s],
            "capability": _plain(exporters.capability[s]),
            "quality": _plain(exporters.quality()[s]),
            "firm_effect": _plain(truth.FIRM_EFFECT_SD * exporters.firm_effect[s]),
            "popularity": _plain(exporters.popularity[s]),
            "activity": _plain(exporters.activity[s]),
            "taste": _plain(exporters.taste[s]),
            "first_export_year": with_nulls(
                exporters.first_export[s], exporters.first_export[s] > YEARS[-1]
            ),
            "joined_year": _plain(exporters.joined[s]),
        }),
        *_write_table(folder, "buyer_traits", buyers.n, lambda s: {
            "buyer_id": buyers.ids[s],
            "size": _plain(size[s]),
            "visibility": _plain(buyers.visibility[s]),
            "activity": _plain(buyers.activity[s]),
            "taste": _plain(buyers.taste[s]),
            "joined_year": _plain(buyers.joined[s]),
        }),
    ]  # fmt: skip


def _write_table(
    folder: Path, stem: str, n: int, columns: Callable[[slice], dict[str, list[Any]]]
) -> list[Path]:
    """Writes `n` records given by column slices, a bounded number at a time."""
    shards = JsonlShards(folder, stem)
    for start in range(0, n, 200_000):
        part = columns(slice(start, start + 200_000))
        names = list(part)
        shards.write_records(
            dict(zip(names, values, strict=True)) for values in zip(*part.values(), strict=True)
        )
    return shards.close()


def _plain(values: np.ndarray) -> list[Any]:
    """JSON-ready values; floats rounded to six decimals."""
    out: list[Any] = (np.round(values, 6) if values.dtype.kind == "f" else values).tolist()
    return out


def is_current(out: Path, scale: str, seed: int) -> bool:
    """Whether `out` holds a finished generation of this scale and seed by this generator and
    ground truth (a cached world made by an older truth must be generated again)."""
    manifest = Path(out) / "manifest.json"
    if not manifest.is_file():
        return False
    written = json.loads(manifest.read_text())
    return (
        written.get("scale"),
        written.get("seed"),
        written.get("generator_version"),
        written.get("ground_truth_version"),
    ) == (scale, seed, GENERATOR_VERSION, truth.GROUND_TRUTH_VERSION)


def _write_manifest(out: Path, summary: GenerateSummary, malformed_rate: float) -> None:
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "ground_truth_version": truth.GROUND_TRUTH_VERSION,
        "scale": summary.scale,
        "seed": summary.seed,
        "today": TODAY.isoformat(),
        "history_years": [YEARS[0], YEARS[-1]],
        "malformed_rate": malformed_rate,
        "datasets": {
            name: {
                "rows": s.rows,
                "malformed": s.malformed,
                "duplicates": s.duplicates,
                "kinds": s.kinds,
                "files": [p.relative_to(out).as_posix() for p in s.files],
            }
            for name, s in summary.datasets.items()
        },
        "ground_truth": [p.relative_to(out).as_posix() for p in summary.ground_truth],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
