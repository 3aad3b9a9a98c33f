"""Named value formats a contract field can require.

Kept as named checks (not bare regexes in each contract) so that the dictionary can say what a
format means and the ETL, the API and the generator agree on one definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Format:
    description: str
    check: Callable[[str], bool]


def _regex(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


@cache
def country_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


FORMATS: dict[str, Format] = {
    "iso_country": Format("ISO 3166-1 alpha-3 country code", lambda v: v in country_codes()),
    "iso_currency": Format("ISO 4217 currency code", lambda v: v in currency_codes()),
    "hs6": Format("HS code, 6 digits", _regex(r"\d{6}")),
    "hs2": Format("HS chapter, 2 digits (01-97)", _regex(r"(0[1-9]|[1-8]\d|9[0-7])")),
    "hs_any": Format("HS code at 2, 4 or 6 digits", _regex(r"\d{2}(\d{2}(\d{2})?)?")),
    "exporter_id": Format("exporter firm id, EXP + 6 digits", _regex(r"EXP\d{6}")),
    "buyer_id": Format("buyer id, BUY + 7 digits", _regex(r"BUY\d{7}")),
    "firm_id": Format("exporter or buyer id", _regex(r"(EXP\d{6}|BUY\d{7})")),
    "business_reg_no": Format(
        "Korean business registration number, NNN-NN-NNNNN", _regex(r"\d{3}-\d{2}-\d{5}")
    ),
    "email": Format("e-mail address", _regex(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")),
    "phone": Format(
        "phone number, international or Korean domestic form",
        _regex(r"\+?[0-9][0-9 \-]{6,18}[0-9]"),
    ),
    "uuid": Format(
        "UUID, canonical text form",
        _regex(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    ),
    "identifier": Format(
        "identifier: letters, digits, '-', '_' and '.', 1-64 characters",
        _regex(r"[A-Za-z0-9_.\-]{1,64}"),
    ),
}
