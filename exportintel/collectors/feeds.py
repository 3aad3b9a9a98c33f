"""External feeds: how to ask each provider for one day's data and how to read its answer.

A feed is two pure functions (build the request, parse the body into contract records), so
the collector Lambda, the offline ingest and the tests share them and the tests can replay
recorded responses. Records are not validated here: they land in raw as the provider gave
them and the ETL quarantines what breaks the contract, so nothing is lost silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

# Currencies of Korea's main export markets that the ECB publishes.
FX_CURRENCIES = (
    "USD", "JPY", "CNY", "EUR", "GBP", "HKD", "SGD", "AUD", "CAD", "INR", "IDR", "MYR", "PHP",
    "THB", "MXN", "BRL", "TRY", "ZAR", "CHF", "PLN", "CZK", "SEK", "NZD",
)  # fmt: skip


class FeedError(RuntimeError):
    """The provider answered with something we cannot read (an error page, a changed format)."""


@dataclass(frozen=True)
class Request:
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Feed:
    """One provider feeding one contract dataset."""

    name: str
    dataset: str
    needs_key: bool
    request: Callable[[dt.date, str | None], Request]
    parse: Callable[[bytes, dt.date], list[Record]]
    description: str


def _json(body: bytes, feed: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise FeedError(f"{feed}: the answer is not JSON ({error.msg})") from None


# --- ECB reference rates (public, no key) -------------------------------------------------


def _ecb_request(day: dt.date, _key: str | None) -> Request:
    series = "+".join(sorted({*FX_CURRENCIES, "KRW"} - {"EUR"}))
    return Request(
        f"https://data-api.ecb.europa.eu/service/data/EXR/D.{series}.EUR.SP00.A",
        {"startPeriod": day.isoformat(), "endPeriod": day.isoformat(), "format": "csvdata"},
    )


def _ecb_parse(body: bytes, day: dt.date) -> list[Record]:
    """ECB quotes units per EUR; the agency wants KRW per unit: KRW/EUR divided by CUR/EUR."""
    per_eur: dict[str, float] = {}
    for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"))):
        if "CURRENCY" not in row or "OBS_VALUE" not in row:
            raise FeedError("ecb_fx: the CSV lacks CURRENCY or OBS_VALUE columns")
        if row["TIME_PERIOD"] == day.isoformat() and row["OBS_VALUE"]:
            per_eur[row["CURRENCY"]] = float(row["OBS_VALUE"])
    if "KRW" not in per_eur:
        return []  # no fixing that day (TARGET holiday): nothing to record
    krw = per_eur["KRW"]
    rates = {"EUR": krw} | {c: krw / v for c, v in per_eur.items() if c != "KRW" and v > 0}
    return [
        {"rate_date": day.isoformat(), "currency": c, "krw_per_unit": round(r, 6), "source": "ECB"}
        for c, r in sorted(rates.items())
        if c in FX_CURRENCIES
    ]


# --- EIA spot crude prices (key) ----------------------------------------------------------

EIA_SERIES = {"RBRTE": "brent_crude", "RWTC": "wti_crude"}


def _eia_request(day: dt.date, key: str | None) -> Request:
    return Request(
        "https://api.eia.gov/v2/petroleum/pri/spt/data/",
        {
            "api_key": key or "",
            "frequency": "daily",
            "data[0]": "value",
            "facets[series][]": ",".join(EIA_SERIES),
            "start": day.isoformat(),
            "end": day.isoformat(),
        },
    )


def _eia_parse(body: bytes, day: dt.date) -> list[Record]:
    payload = _json(body, "eia_oil")
    try:
        rows = payload["response"]["data"]
    except (KeyError, TypeError):
        raise FeedError(f"eia_oil: unexpected answer {str(payload)[:200]}") from None
    return [
        {
            "price_date": row["period"],
            "commodity": EIA_SERIES[row["series"]],
            "price_usd": _number(row.get("value")),
            "unit": "barrel",
        }
        for row in rows
        if row.get("series") in EIA_SERIES
    ]


def _number(value: Any) -> Any:
    """Providers send numbers as text; keep unreadable values as they are for quarantine."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


# --- Raw-material prices from the agency's market-data provider (key) ----------------------

RAW_MATERIALS = {
    "COPPER": "copper", "ALUMINIUM": "aluminium", "NICKEL": "nickel", "IRON_ORE": "iron_ore",
    "RUBBER": "natural_rubber", "COTTON": "cotton", "POLYETHYLENE": "polyethylene",
}  # fmt: skip


def _materials_request(day: dt.date, key: str | None) -> Request:
    return Request(
        f"https://api.commodities.example/v1/prices/{day.isoformat()}",
        {"symbols": ",".join(RAW_MATERIALS), "unit": "tonne", "currency": "USD"},
        {"x-api-key": key or ""},
    )


def _materials_parse(body: bytes, day: dt.date) -> list[Record]:
    payload = _json(body, "raw_materials")
    if not isinstance(payload, dict) or not isinstance(payload.get("prices"), dict):
        raise FeedError(f"raw_materials: unexpected answer {str(payload)[:200]}")
    return [
        {
            "price_date": payload.get("date", day.isoformat()),
            "commodity": RAW_MATERIALS[symbol],
            "price_usd": _number(price),
            "unit": "tonne",
        }
        for symbol, price in sorted(payload["prices"].items())
        if symbol in RAW_MATERIALS
    ]


# --- Korean foreign ministry travel advisories (data.go.kr key) ----------------------------


def _mofa_request(_day: dt.date, key: str | None) -> Request:
    return Request(
        "https://apis.data.go.kr/1262000/TravelAlarmService2/getTravelAlarmList2",
        {"serviceKey": key or "", "returnType": "JSON", "numOfRows": "300", "pageNo": "1"},
    )


def _mofa_parse(body: bytes, day: dt.date) -> list[Record]:
    """A snapshot of every country's current level, recorded as in effect on `day`."""
    import pycountry

    payload = _json(body, "mofa_travel_advisories")
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise FeedError(f"mofa_travel_advisories: unexpected answer {str(payload)[:200]}")
    records = []
    for row in payload["data"]:
        country = pycountry.countries.get(alpha_2=str(row.get("country_iso_alp2", "")).upper())
        level = row.get("alarm_lvl")
        records.append(
            {
                # An unknown code stays visible (and is quarantined) rather than vanishing.
                "country_code": country.alpha_3 if country else row.get("country_iso_alp2"),
                "effective_date": day.isoformat(),
                "advisory_level": 0 if level in (None, "") else _integer(level),
            }
        )
    return records


def _integer(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


# --- UN Comtrade yearly trade flows (subscription key) -------------------------------------

COMTRADE_FLOWS = {"M": "import", "X": "export"}


def _comtrade_request(day: dt.date, key: str | None) -> Request:
    # The latest complete year; reporters: all, partner: Korea's markets, HS at chapter level.
    return Request(
        "https://comtradeapi.un.org/data/v1/get/C/A/HS",
        {"period": str(day.year - 1), "cmdCode": "AG2", "flowCode": "M,X", "includeDesc": "false"},
        {"Ocp-Apim-Subscription-Key": key or ""},
    )


def _comtrade_parse(body: bytes, _day: dt.date) -> list[Record]:
    payload = _json(body, "comtrade")
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise FeedError(f"comtrade: unexpected answer {str(payload)[:200]}")
    return [
        {
            "reporter_code": row.get("reporterISO"),
            "partner_code": row.get("partnerISO"),
            "hs_code": str(row.get("cmdCode")),
            "year": _integer(row.get("period")),
            "flow": COMTRADE_FLOWS.get(row.get("flowCode"), row.get("flowCode")),
            "trade_value_usd": _number(row.get("primaryValue")),
            "net_weight_kg": _number(row.get("netWgt")) if row.get("netWgt") is not None else None,
        }
        for row in payload["data"]
        if row.get("partnerISO") not in (None, "W00")  # W00: the world total, not a partner
    ]


# --- Credit bureau grades for the agency's firms (key) ------------------------------------


def _credit_request(day: dt.date, key: str | None) -> Request:
    return Request(
        "https://api.creditbureau.example/v1/evaluations",
        {"issuedOn": day.isoformat(), "portfolio": "agency-exporters"},
        {"x-api-key": key or ""},
    )


def _credit_parse(body: bytes, _day: dt.date) -> list[Record]:
    payload = _json(body, "credit_evaluations")
    if not isinstance(payload, dict) or not isinstance(payload.get("evaluations"), list):
        raise FeedError(f"credit_evaluations: unexpected answer {str(payload)[:200]}")
    return [
        {
            "evaluation_id": row.get("evaluationId"),
            "firm_id": row.get("clientReference"),
            "evaluated_on": row.get("issuedOn"),
            "grade": row.get("grade"),
            "bureau": payload.get("bureau"),
        }
        for row in payload["evaluations"]
    ]


FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            "ecb_fx",
            "fx_rates",
            False,
            _ecb_request,
            _ecb_parse,
            "ECB euro reference rates, turned into KRW per unit",
        ),
        Feed(
            "eia_oil",
            "commodity_prices",
            True,
            _eia_request,
            _eia_parse,
            "EIA daily Brent and WTI spot prices",
        ),
        Feed(
            "raw_materials",
            "commodity_prices",
            True,
            _materials_request,
            _materials_parse,
            "Metals, rubber, cotton and polyethylene prices per tonne",
        ),
        Feed(
            "mofa_travel_advisories",
            "country_risk",
            True,
            _mofa_request,
            _mofa_parse,
            "Korean foreign ministry travel advisory levels",
        ),
        Feed(
            "comtrade",
            "trade_flows",
            True,
            _comtrade_request,
            _comtrade_parse,
            "UN Comtrade yearly imports and exports by HS chapter",
        ),
        Feed(
            "credit_evaluations",
            "credit_evaluations",
            True,
            _credit_request,
            _credit_parse,
            "Credit grades issued for the agency's exporters",
        ),
    )
}


def get_feed(name: str) -> Feed:
    try:
        return FEEDS[name]
    except KeyError:
        raise KeyError(f"no feed named {name!r}; feeds: {', '.join(FEEDS)}") from None
