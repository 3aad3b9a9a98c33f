"""Firm search for staff: by id, or by the beginning of a firm's name, Korean or romanised.

Names and queries are folded the same way: NFKC (full-width letters, `㈜` as `(주)`),
casefolded, whitespace collapsed, a leading legal form dropped (`(주)한빛전자` is found by
`한빛`), then decomposed (NFKD) without accents or invisible characters. Decomposing makes a
prefix of the letters a prefix of the key: Hangul splits into jamo, so `한비` (typed on the way
to `한빛`) and a lone consonant `한ㅂ` still match, and `cafe` matches `Café`.

The loader writes each firm's keys (`search_keys`) and the firms table's `name_search` index
holds them; a search is then one query per prefix: a partition per first character, sorted by
the folded name. The one ambiguity of Hangul typed syllable by syllable is searched as well:
`한` may be the start of `한빛` or of `하나` (the final consonant not yet moved to the next
syllable), so a query ending in a final consonant also looks for it as the next initial.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from boto3.dynamodb.conditions import Key

from exportintel.serving.api import BadRequest
from exportintel.serving.store import plain

NAME_INDEX = "name_search"
PREFIX_ATTRIBUTE = "name_prefix"
KEY_ATTRIBUTE = "name_key"
MAX_RESULTS = 50
DEFAULT_RESULTS = 20
# Folded names are cut to this many characters: keys stay far below DynamoDB's 1,024 bytes of a
# sort key (4 bytes a character at most), and no firm is told apart by its 201st letter.
KEY_CHARS = 200
# Forms a registered name may start with, as folded before they are dropped; longer first.
LEGAL_FORMS = ("주식회사", "유한회사", "(주)", "(유)", "(사)", "(재)", "pt. ", "pt ")
FIRM_ID = re.compile(r"^(EXP\d{6}|BUY\d{7})$")
_DROPPED = {"Mn", "Me", "Cc", "Cf"}  # accents, enclosing marks, controls, invisible format
_FINAL = range(0x11A8, 0x11C3)  # modern final consonants (jongseong)


def _folded(text: str) -> str:
    """NFKC, casefolded, whitespace collapsed, a leading legal form dropped."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    for form in LEGAL_FORMS:
        if text.startswith(form):
            return text[len(form) :].lstrip()
    return text


def fold(text: str) -> str:
    """The search form of a name or query (see the module's docstring); may be empty."""
    decomposed = unicodedata.normalize("NFKD", _folded(text))
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _DROPPED)
    return kept[:KEY_CHARS]


def search_keys(name: str | None, firm_id: str) -> dict[str, str]:
    """The `name_search` index attributes of a firm; none for a name with nothing to search."""
    folded = fold(name or "")
    if not folded:
        return {}
    return {PREFIX_ATTRIBUTE: folded[0], KEY_ATTRIBUTE: f"{folded}#{firm_id}"}


def _as_initial(final: str) -> str | None:
    """A final consonant as the next syllable would begin: ᆫ -> ᄂ; ᆰ (ㄹㄱ) -> ᆯᄀ."""
    name = unicodedata.name(final, "")
    head, _, tail = name.removeprefix("HANGUL JONGSEONG ").partition("-")
    try:
        if tail:  # a double final splits: the first stays final, the second starts anew
            return unicodedata.lookup(f"HANGUL JONGSEONG {head}") + unicodedata.lookup(
                f"HANGUL CHOSEONG {tail}"
            )
        return unicodedata.lookup(f"HANGUL CHOSEONG {head}")
    except KeyError:
        return None


def prefixes(query: str) -> list[str]:
    """The folded prefixes to look up for a query: itself, and its Hangul alternative."""
    folded = fold(query)
    if not folded:
        return []
    found = [folded]
    if ord(folded[-1]) in _FINAL:
        initial = _as_initial(folded[-1])
        if initial:
            found.append(folded[:-1] + initial)
    return found


def _result(item: dict[str, Any], match: str) -> dict[str, Any]:
    # Exporters are Korean firms, placed by region; buyers by their country.
    place = "country" if item.get("kind") == "buyer" else "region"
    return {
        "firm_id": item["firm_id"],
        "kind": item.get("kind"),
        "name": item.get("name"),
        place: item.get(place),
        "hs_chapters": list(item.get("hs_chapters") or []),
        "match": match,
    }


def _by_prefix(firms: Any, prefix: str, limit: int) -> list[dict[str, Any]]:
    page = firms.query(
        IndexName=NAME_INDEX,
        KeyConditionExpression=Key(PREFIX_ATTRIBUTE).eq(prefix[0])
        & Key(KEY_ATTRIBUTE).begins_with(prefix),
        Limit=limit,
    )
    return list(plain(page.get("Items", [])))


def search(firms: Any, query: str, *, limit: int = DEFAULT_RESULTS) -> dict[str, Any]:
    """`GET /firms/search`: the firm of that id first, then names by prefix in name order."""
    if not 1 <= limit <= MAX_RESULTS:
        raise BadRequest(f"limit must be within 1..{MAX_RESULTS}")
    if not unicodedata.normalize("NFKC", query).strip():
        raise BadRequest("q is empty: give the beginning of a firm's name, or its id")
    looked_up = prefixes(query)
    candidate_id = unicodedata.normalize("NFKC", query).strip().upper()
    results: list[dict[str, Any]] = []
    if FIRM_ID.match(candidate_id):
        item = firms.get_item(Key={"firm_id": candidate_id}).get("Item")
        if item is not None:
            results.append(_result(dict(plain(item)), "id"))
    if not results and not looked_up:
        # A legal form alone, or marks alone: no part of a name to look for.
        raise BadRequest("q holds no part of a name: give more than a legal form like (주)")
    named: dict[str, dict[str, Any]] = {}
    for prefix in looked_up:
        for item in _by_prefix(firms, prefix, limit):
            named.setdefault(str(item[KEY_ATTRIBUTE]), item)
    seen = {r["firm_id"] for r in results}
    for key in sorted(named):
        item = named[key]
        if item["firm_id"] not in seen:
            seen.add(item["firm_id"])
            results.append(_result(item, "name"))
    results = results[:limit]
    return {"query": query, "results": results, "count": len(results)}
