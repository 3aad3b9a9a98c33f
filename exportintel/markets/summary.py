"""What people read of a market model run: the held-out table and sample suggestions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exportintel.contracts.markets import SUGGESTION_COUNT

METHODS = {
    "model": "market model",
    "largest_importers": "largest importers",
    "fastest_growing": "fastest-growing importers",
}


def _cell(value: dict[str, float]) -> str:
    return f"{value['value']:.3f} [{value['lo']:.3f}, {value['hi']:.3f}]"


def render_metrics(metrics: dict[str, Any]) -> str:
    """The held-out comparison with the baselines, intervals included."""
    held = metrics["held_out"]
    k = SUGGESTION_COUNT
    lines = [
        f"held out: new destinations of {held['years'][0]}-{held['years'][-1]} "
        f"({held['events']:,} firm-years, {held['firms']:,} firms, "
        f"~{held['candidates_per_event']:.0f} candidate countries each), fitted on "
        f"{metrics['train_years'][0]}-"
        f"{metrics['train_years'][-1]}",
        f"{'ranking':<28}{f'hit@{k}':>24}{'MRR':>24}{f'novices hit@{k}':>24}",
    ]
    novices = held.get(f"novice_hit_at_{k}", {})
    for method, title in METHODS.items():
        novice = _cell(novices[method]) if method in novices else "n/a"
        lines.append(
            f"{title:<28}{_cell(held[f'hit_at_{k}'][method]):>24}"
            f"{_cell(held['mrr'][method]):>24}{novice:>24}"
        )
    for baseline, title in list(METHODS.items())[1:]:
        lead = held[f"hit_at_{k}"].get(f"model_minus_{baseline}")
        if lead:
            lines.append(f"lead over {title} (paired): {_cell(lead)}")
    return "\n".join(lines)


def describe_suggestions(on_line: Callable[[str], None], samples: list[dict[str, Any]]) -> None:
    for sample in samples:
        rows = sample["rows"]
        first = rows[0]
        kind = "novice" if first["novice"] else "experienced"
        on_line(
            f"markets to try for {sample['firm_id']} ({kind}, HS {first['hs_chapter']}, "
            f"{first['size_band']}), as of {first['as_of_year']}:"
        )
        for row in rows:
            reasons = "; ".join(row["reasons_en"])
            on_line(f"  {row['rank']}. {row['country_code']}  {row['score']:.2f}  {reasons}")
