"""The results files every benchmark writes: `<name>-<UTC date>.json` and `<name>-latest.md`."""

from __future__ import annotations

import datetime as dt
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


def report_head(title: str, results: dict[str, Any]) -> list[str]:
    """The first lines of a Spark-and-jobs benchmark report: title, machine, command, notes."""
    m, p = results["machine"], results["parameters"]
    lines = [
        f"# {title}, {m['date_utc'][:10]}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}; "
        f"Python {m['python']}, Spark {m['spark']} ({m.get('spark_master', '?')}, driver "
        f"{m.get('spark_driver_memory', '?')}), pyarrow {m['pyarrow']}"
        f"{'; code at ' + m['commit'] if m.get('commit') else ''}. Shared machine: the load "
        "average before each step is stated.",
        "",
        f"Command: `{p['command']}`",
    ]
    for note in results.get("notes", []):
        lines += ["", f"**Note:** {note}"]
    return lines


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def size_text(n: float | None) -> str:
    """Bytes in decimal units: 1.2 GB."""
    if n is None:
        return "n/a"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def seconds_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} s"


def load_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
