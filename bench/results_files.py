"""The results files every benchmark writes: `<name>-<UTC date>.json` and `<name>-latest.md`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(
    name: str,
    results: dict[str, Any],
    render: Callable[[dict[str, Any]], str],
    folder: Path = RESULTS,
) -> tuple[Path, Path]:
    """`<name>-<UTC date>.json` (the date of `results["machine"]["date_utc"]`) and
    `<name>-latest.md` (`render(results)`), each replaced in one step."""
    folder.mkdir(parents=True, exist_ok=True)
    day = results["machine"]["date_utc"][:10]
    written = []
    for path, text in (
        (folder / f"{name}-{day}.json", json.dumps(results, indent=2) + "\n"),
        (folder / f"{name}-latest.md", render(results)),
    ):
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
        written.append(path)
    return written[0], written[1]
