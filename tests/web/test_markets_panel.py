"""The markets panel's wiring, without a browser: the view module is part of the site and the
router, reached from the navigation, and every text it shows exists in Korean and English."""

from __future__ import annotations

import re
from pathlib import Path

from exportintel.web.site import WEB_SOURCE

VIEW = WEB_SOURCE / "views" / "markets.js"


def _strings(language: str) -> set[str]:
    text = (WEB_SOURCE / "i18n.js").read_text(encoding="utf-8")
    block = re.search(rf"\n  {language}: \{{\n(.*?)\n  \}},", text, flags=re.S)
    assert block, f"no {language} strings in i18n.js"
    return set(re.findall(r'^\s+"([\w.]+)":', block.group(1), flags=re.M))


def _keys_used(path: Path) -> set[str]:
    return set(re.findall(r'\bt\(\s*"([\w.]+)"', path.read_text(encoding="utf-8")))


def test_the_view_is_routed_and_in_the_navigation() -> None:
    assert VIEW.is_file()
    app = (WEB_SOURCE / "app.js").read_text(encoding="utf-8")
    assert 'import * as markets from "./views/markets.js";' in app
    assert re.search(r"const VIEWS = \{[^}]*\bmarkets\b", app)
    index = (WEB_SOURCE / "index.html").read_text(encoding="utf-8")
    assert 'href="#/markets" data-view="markets" data-i18n="nav.markets"' in index


def test_every_text_of_the_panel_is_in_both_languages() -> None:
    korean, english = _strings("ko"), _strings("en")
    used = _keys_used(VIEW) | {"nav.markets", "link.markets"}
    # Ternaries pick between two keys: both must exist.
    used |= set(re.findall(r'"(markets\.\w+)"', VIEW.read_text(encoding="utf-8")))
    assert used - korean == set()
    assert used - english == set()
    assert {k for k in korean if k.startswith("markets.")} == {
        k for k in english if k.startswith("markets.")
    }


def test_exporter_views_link_to_the_panel() -> None:
    for view in ("search", "matches", "continuity"):
        text = (WEB_SOURCE / "views" / f"{view}.js").read_text(encoding="utf-8")
        assert "#/markets/" in text and 't("link.markets")' in text, view
