"""The dashboard's static site: `web/` plus the chart library from npm, in one folder.

No build step: the pages are ES modules as written. The only third-party file is Chart.js's
UMD bundle, copied from `node_modules` (installed by `npm ci`) so that nothing is fetched from a
CDN at run time. The same folder is served by `exportintel serve` and uploaded to the site
bucket in AWS (where `config.json` is written by the deployment, not taken from here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_SOURCE = REPO_ROOT / "web"
CHART_BUNDLE = REPO_ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
VENDOR_CHART = Path("vendor") / "chart.umd.min.js"


class SiteError(RuntimeError):
    """The site cannot be assembled (a missing source or chart library)."""


def build_site(out: Path, *, source: Path = WEB_SOURCE, chart_bundle: Path = CHART_BUNDLE) -> Path:
    """Copy the site and the chart library into `out` (replaced whole); returns `out`."""
    if not (source / "index.html").is_file():
        raise SiteError(f"no dashboard sources at {source}")
    if not chart_bundle.is_file():
        raise SiteError(f"{chart_bundle} is missing: run `npm ci` (the Makefile does) first")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    # A local config.json would shadow the one the server (or the deployment) provides.
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("config.json", ".*"))
    (out / VENDOR_CHART).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chart_bundle, out / VENDOR_CHART)
    return out
