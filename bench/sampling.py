"""Memory and CPU of a block of work, sampled from /proc while it runs (Linux; None elsewhere).

Two views of the same process tree, both sampled every `interval` seconds by a background
thread between `__enter__` and `__exit__`:

- `Usage`: peak summed resident memory and CPU seconds, with the load average before;
- `Footprint`: peak proportional set size (PSS), the memory the tree really occupies.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Self

from bench.results_files import load_text, seconds_text, size_text


def processes(root: int, *, tree: bool) -> list[int]:
    """`root`, and its descendants (the Spark JVM, its Python workers) when `tree` is set."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if tree else ():
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _process(pid: int) -> tuple[int, int, int] | None:
    """(resident bytes, anonymous resident bytes, CPU ticks) of a live process.

    Resident also counts file pages mapped in (Spark maps its spilled blocks and shuffle
    files), which the kernel can drop under pressure; anonymous does not.
    """
    try:
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process has ended
        return None
    page = os.sysconf("SC_PAGE_SIZE")
    resident, shared = int(statm[1]) * page, int(statm[2]) * page
    return resident, resident - shared, int(stat[11]) + int(stat[12])  # utime + stime


class Sampler:
    """Calls `_take` at the start, every `interval` seconds, and at the end of a block."""

    probe = "/proc/self/stat"  # what must exist for the figures to be read

    def __init__(self, *, tree: bool, interval: float) -> None:
        self.tree, self.interval = tree, interval
        self.peak: int | None = None
        self.peak_anonymous: int | None = None
        self._linux = Path(self.probe).exists()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _take(self) -> None:
        raise NotImplementedError

    def _record(self, total: int, anonymous: int) -> None:
        self.peak = max(self.peak or 0, total)
        self.peak_anonymous = max(self.peak_anonymous or 0, anonymous)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def _begin(self) -> None:
        """What to note before the first sample."""

    def _end(self) -> None:
        """What to work out after the last sample."""

    def __enter__(self) -> Self:
        if self._linux:
            self._begin()
            self._take()
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._linux:
            self._stop.set()
            self._thread.join()
            self._take()
            self._end()


class Usage(Sampler):
    """Peak resident memory and CPU seconds while a block runs, with the load average before
    it. CPU time barely moves when other work shares the cores, wall time does.

    `tree`: this process and its descendants (the driver, the Spark JVM, its Python workers);
    otherwise this process alone (DuckDB runs in it; the idle JVM is not counted). CPU is
    summed per process from its first to its last sample: a process that ends loses at most
    one interval, and none depends on being reaped by another process of the tree.
    """

    def __init__(self, *, tree: bool, interval: float = 0.25) -> None:
        super().__init__(tree=tree, interval=interval)
        self.cpu: float | None = None
        self.load: float | None = None
        self._ticks: dict[int, list[int]] = {}  # pid: [ticks at the start (0 if born later), last]
        self._started = False

    def _begin(self) -> None:
        self.load = os.getloadavg()[0]

    def _take(self) -> None:
        resident = anonymous = 0
        for pid in processes(os.getpid(), tree=self.tree):
            seen = _process(pid)
            if seen is None:
                continue
            resident += seen[0]
            anonymous += seen[1]
            ticks = self._ticks.setdefault(pid, [0 if self._started else seen[2], seen[2]])
            ticks[1] = seen[2]
        self._started = True
        self._record(resident, anonymous)

    def _end(self) -> None:
        used = sum(last - first for first, last in self._ticks.values())
        self.cpu = used / os.sysconf("SC_CLK_TCK")


class Footprint(Sampler):
    """Peak proportional set size (PSS) of this process and its descendants, from
    /proc/<pid>/smaps_rollup.

    Summed resident sizes (`Usage`) count a page once per process that maps it: PySpark's
    Python workers are forked from one daemon and share its copy-on-write pages, so their sum
    can exceed what the machine holds. PSS splits each shared page among the processes that
    map it, so the sum over the tree is the memory the tree occupies.
    """

    probe = "/proc/self/smaps_rollup"

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(tree=True, interval=interval)

    def _take(self) -> None:
        total = anonymous = 0
        for pid in processes(os.getpid(), tree=True):
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:  # the process has ended
                continue
            for line in text.splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                elif line.startswith("Pss_Anon:"):
                    anonymous += int(line.split()[1]) * 1024
        self._record(total, anonymous)


def usage_figures(
    usage: Usage, seconds: float, footprint: Footprint | None = None
) -> dict[str, Any]:
    """The figures of one measured block, as the results files hold them."""
    figures = {
        "seconds": seconds,
        "cpu_seconds": usage.cpu,
        "peak_rss_bytes": usage.peak,
        "peak_anonymous_rss_bytes": usage.peak_anonymous,
        "load_average_before": usage.load,
    }
    if footprint is not None:
        figures["peak_pss_bytes"] = footprint.peak
        figures["peak_anonymous_pss_bytes"] = footprint.peak_anonymous
    return figures


def step_row(step: str, rows_in: str, rows_out: str, d: dict[str, Any]) -> str:
    """A Markdown table row of `usage_figures`: step, rows in and out, wall, CPU, peak PSS
    (anonymous), peak RSS, load average before (blank for a row that sums several steps)."""
    load = load_text(d["load_average_before"]) if "load_average_before" in d else ""
    return (
        f"| {step} | {rows_in} | {rows_out} | {seconds_text(d['seconds'])} "
        f"| {seconds_text(d['cpu_seconds'])} | {size_text(d.get('peak_pss_bytes'))} "
        f"({size_text(d.get('peak_anonymous_pss_bytes'))}) | {size_text(d['peak_rss_bytes'])} "
        f"| {load} |"
    )
