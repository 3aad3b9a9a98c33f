"""A hand-made serving world on moto: the serving tables loaded from small frames, the stream
and the pseudonymisation secret, with the handlers' environment pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from exportintel.continuity.groups import FEATURES, FLAG_FEATURES, group_profile
from exportintel.contracts.markets import EVIDENCE_TERMS
from exportintel.serving.functions import ENVIRONMENT_ENV, KEY_SECRET_ENV, STREAM_ENV
from exportintel.serving.load import load_serving, write_items
from exportintel.serving.markets import market_items
from exportintel.serving.provision import create_table
from exportintel.serving.tables import TABLES

KEY = bytes(range(32))
STREAM = "clickstream"
SECRET = "pseudonymisation-key"
VERSION = "20260101T000000Z-abc"
OLD_VERSION = "20250101T000000Z-old"

EXPORTERS = pd.DataFrame(
    {
        "firm_id": ["EXP000001", "EXP000002", "EXP000003"],
        "firm_name": ["Hanbit Electronics", "Seorak Foods", "Newco Devices"],
        "region": ["Seoul", "Busan", "Gyeonggi"],
        "hs_codes": [["850440", "851762"], ["190590"], ["851712"]],
    }
)
BUYERS = pd.DataFrame(
    {
        "buyer_id": ["BUY0000001", "BUY0000002", "BUY0000003", "BUY0000004", "BUY0000005"],
        "buyer_name": ["Acme GmbH", "Lumen SARL", "Bad Credit Ltd", "Delta Foods", "Volt Inc"],
        "country_code": ["DE", "FR", "GB", "VN", "US"],
        "hs_codes_wanted": [["850440"], ["851762"], ["850440"], ["190590"], ["851712"]],
        "bad_credit": [False, False, True, False, False],
    }
)


def _reasons(code: str) -> dict[str, list[str]]:
    return {
        "reason_codes": [code],
        "reason_values": [""],
        "reasons_en": [f"reason {code}"],
        "reasons_ko": [f"이유 {code}"],
    }


def _pair(direction: str, exporter: str, buyer: str, rank: int, score: float, **extra: Any):
    return {
        "exporter_id": exporter,
        "buyer_id": buyer,
        "direction": direction,
        "rank": rank,
        "score": score,
        "p_exporter": min(1.0, score + 0.1),
        "p_buyer": max(0.0, score - 0.05),
        "shown_rank": None,
        "model_version": VERSION,
        **_reasons("code_match:hs_codes"),
        **extra,
    }


def recommendations() -> pd.DataFrame:
    rows = [
        # EXP000001's list: four buyers; the bad-credit buyer was fine when scored.
        _pair("buyers_for_exporter", "EXP000001", "BUY0000001", 1, 0.80),
        _pair("buyers_for_exporter", "EXP000001", "BUY0000003", 2, 0.60),
        _pair("buyers_for_exporter", "EXP000001", "BUY0000002", 3, 0.40),
        _pair("buyers_for_exporter", "EXP000001", "BUY0000005", 4, 0.20),
        # A tail pair without reasons (beyond the explained ranks): not served.
        _pair(
            "buyers_for_exporter",
            "EXP000001",
            "BUY0000004",
            5,
            0.10,
            reason_codes=[],
            reason_values=[],
            reasons_en=[],
            reasons_ko=[],
        ),
        _pair("buyers_for_exporter", "EXP000002", "BUY0000004", 1, 0.70),
        _pair("exporters_for_buyer", "EXP000001", "BUY0000001", 1, 0.80),
        _pair("exporters_for_buyer", "EXP000002", "BUY0000001", 2, 0.30),
        # An older model version: never loaded.
        {
            **_pair("buyers_for_exporter", "EXP000002", "BUY0000002", 1, 0.99),
            "model_version": OLD_VERSION,
        },
    ]
    return pd.DataFrame(rows)


def continuity_index() -> pd.DataFrame:
    rows = []
    for year, values in ((2023, (0.91, 0.62, 0.55)), (2024, (0.88, 0.58, 0.70))):
        for firm, value in zip(("EXP000001", "EXP000002", "EXP000003"), values, strict=True):
            rows.append(
                {
                    "firm_id": firm,
                    "year": year,
                    "continuity_index": value,
                    "risk_group": value < 0.75,
                    "model_version": VERSION,
                    "region": {"EXP000001": "Seoul", "EXP000002": "Busan"}.get(firm, "Gyeonggi"),
                    "hs_chapter": {"EXP000002": "19"}.get(firm, "85"),
                    "size_band": {"EXP000003": "medium"}.get(firm, "small"),
                    "label": None,
                    "risk_factors": ["exhibitions"] if value < 0.75 else [],
                    "risk_factors_en": ["Few trade fairs attended"] if value < 0.75 else [],
                    "risk_factors_ko": ["전시회 참가 적음"] if value < 0.75 else [],
                    "top_factor_contribution": -0.4,
                }
            )
    return pd.DataFrame(rows)


def continuity_features() -> pd.DataFrame:
    """The feature rows the index was scored from: made-up values, flags as 0/1, one unknown."""
    rows = []
    for position, (firm, year) in enumerate(
        (f, y) for y in (2023, 2024) for f in ("EXP000001", "EXP000002", "EXP000003")
    ):
        row: dict[str, Any] = {"firm_id": firm, "year": year}
        for number, name in enumerate(FEATURES):
            if name in FLAG_FEATURES:
                row[name] = float((position + number) % 2)
            else:
                row[name] = float(position * 10 + number)
        rows.append(row)
    rows[0]["exhibitions"] = None
    return pd.DataFrame(rows)


def export_status() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm_id": ["EXP000001", "EXP000002"],
            "year": [2024, 2024],
            "status": ["continuing", "discontinued"],
        }
    )


MARKETS_VERSION = "20260102T000000Z-mkt"
MARKETS_YEAR = 2024


def _market_row(firm: str, rank: int, country: str, score: float, **extra: Any) -> dict[str, Any]:
    return {
        "firm_id": firm,
        "as_of_year": MARKETS_YEAR,
        "rank": rank,
        "country_code": country,
        "score": score,
        **{f"{term}_term": round(0.1 * (i + 1) - 0.3, 2) for i, term in enumerate(EVIDENCE_TERMS)},
        "hs_chapter": "85",
        "size_band": "small",
        "novice": False,
        "reasons_en": [f"Korea's exports of HS 85 to {country} are large"],
        "reasons_ko": [f"HS 85류의 {country} 수출 규모가 큼"],
        "model_version": MARKETS_VERSION,
        **extra,
    }


SUGGESTED = {
    "EXP000001": ["VNM", "DEU", "IND", "MEX", "AUS"],
    "EXP000002": ["JPN", "CHN", "USA", "SGP", "TWN"],
}
COLD_SUGGESTED = {("85", "small"): ["USA", "CHN", "VNM", "JPN", "DEU"],
                  ("85", "medium"): ["DEU", "USA", "JPN", "CHN", "VNM"],
                  ("19", "small"): ["CHN", "JPN", "USA", "VNM", "HKG"]}  # fmt: skip


def market_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the markets scoring writes: suggestions for EXP000001 (a firm exporting to the USA
    and China) and EXP000002 (a novice in HS 19); cold-start lists of HS 85 (small and medium)
    and HS 19 (small). EXP000003 (HS 85, joined after the scoring) has none of its own."""
    suggestions = pd.DataFrame(
        [
            _market_row(firm, rank, country, round(0.4 - 0.05 * rank, 3), **(
                {"hs_chapter": "19", "novice": True} if firm == "EXP000002" else {}
            ))
            for firm, countries in SUGGESTED.items()
            for rank, country in enumerate(countries, start=1)
        ]
    )  # fmt: skip
    cold = pd.DataFrame(
        [
            _market_row(f"_cold#{chapter}#{band}", rank, country, 0.3 - 0.04 * rank,
                        hs_chapter=chapter, size_band=band, novice=True)
            for (chapter, band), countries in COLD_SUGGESTED.items()
            for rank, country in enumerate(countries, start=1)
        ]
    )  # fmt: skip
    current = pd.DataFrame({"firm_id": ["EXP000001", "EXP000001"], "country_code": ["USA", "CHN"]})
    return suggestions, cold, current


def load_markets(tables: dict[str, Any]) -> int:
    suggestions, cold, current = market_frames()
    items = market_items(
        suggestions, cold, current, version=MARKETS_VERSION, as_of_year=MARKETS_YEAR
    )
    return write_items(tables["markets"], items)


@dataclass
class World:
    tables: dict[str, Any]
    kinesis: Any

    def stream_events(self) -> list[dict[str, Any]]:
        """Every record on the stream, decoded."""
        import json

        shard = self.kinesis.list_shards(StreamName=STREAM)["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
        return [json.loads(r["Data"]) for r in records]


@contextmanager
def serving_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        client = boto3.client("dynamodb")
        for spec in TABLES:
            create_table(client, spec, f"test-{spec.role}")
            monkeypatch.setenv(spec.env_var, f"test-{spec.role}")
        kinesis = boto3.client("kinesis")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=KEY.hex())
        monkeypatch.setenv(STREAM_ENV, STREAM)
        monkeypatch.setenv(KEY_SECRET_ENV, SECRET)
        monkeypatch.setenv(ENVIRONMENT_ENV, "test")
        for name, value in {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "ExportIntel",
            "POWERTOOLS_SERVICE_NAME": "test",
        }.items():
            monkeypatch.setenv(name, value)
        resource = boto3.resource("dynamodb")
        tables = {spec.role: resource.Table(f"test-{spec.role}") for spec in TABLES}
        load_serving(
            tables,
            exporters=EXPORTERS,
            buyers=BUYERS,
            recommendations=recommendations(),
            continuity_index=continuity_index(),
            export_status=export_status(),
            group_profile=group_profile(continuity_features(), continuity_index()),
        )
        load_markets(tables)
        yield World(tables, kinesis)
