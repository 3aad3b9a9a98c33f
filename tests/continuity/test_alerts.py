"""Risk-group changes: detected between two scorings, carried as JSON, published to SNS."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from exportintel.continuity.alerts import (
    SCHEMA,
    RiskChange,
    RiskChanges,
    compare,
    filter_policy,
    from_json,
    is_first_run,
    message_attributes,
    message_text,
    publish_changes,
    report_from_json,
    risk_changes,
    subject,
    to_json,
)

REGION = "ap-northeast-2"
OLD, NEW = "20240101T000000-continuity", "20250101T000000-continuity"


def _rows(year: int, version: str, firms: dict[str, tuple[float, bool, str | None, str]]) -> Any:
    """Index rows: firm -> (index, in the risk group, region, HS chapter)."""
    return pd.DataFrame(
        {
            "firm_id": list(firms),
            "year": [year] * len(firms),
            "continuity_index": [v[0] for v in firms.values()],
            "risk_group": [v[1] for v in firms.values()],
            "model_version": [version] * len(firms),
            "region": [v[2] for v in firms.values()],
            "hs_chapter": [v[3] for v in firms.values()],
            "size_band": ["small"] * len(firms),
            "risk_factors": [["exhibitions", "fx_change"]] * len(firms),
            "risk_factors_ko": [["해외 전시회 참가 적음", "환율 변동"]] * len(firms),
            "risk_factors_en": [["Few overseas exhibitions", "Exchange-rate swing"]] * len(firms),
        }
    )


def _previous() -> pd.DataFrame:
    return _rows(
        2023,
        OLD,
        {
            "EXP000001": (0.81, False, "Busan", "85"),  # enters
            "EXP000002": (0.42, True, "Busan", "85"),  # stays in: no change
            "EXP000003": (0.38, True, "Seoul", "61"),  # leaves, index up
            "EXP000004": (0.30, True, "Busan", "33"),  # leaves, no longer scored
            "EXP000005": (0.90, False, "Seoul", "85"),  # stays out
        },
    )


def _current() -> pd.DataFrame:
    return _rows(
        2024,
        NEW,
        {
            "EXP000001": (0.44, True, "Busan", "85"),
            "EXP000002": (0.40, True, "Busan", "85"),
            "EXP000003": (0.77, False, "Seoul", "61"),
            "EXP000005": (0.91, False, "Seoul", "85"),
            "EXP000006": (0.25, True, None, "39"),  # new to scoring, straight into the group
        },
    )


def test_firms_entering_and_leaving_the_group_are_found() -> None:
    report = compare(_previous(), _current())
    found = {(c.firm_id, c.change) for c in report.changes}
    assert found == {
        ("EXP000001", "entered"),
        ("EXP000006", "entered"),
        ("EXP000003", "left"),
        ("EXP000004", "left"),
    }
    entered = next(c for c in report.changes if c.firm_id == "EXP000001")
    assert entered.year == 2024
    assert entered.continuity_index == pytest.approx(0.44)
    assert entered.previous_index == pytest.approx(0.81)
    assert (entered.region, entered.hs_chapter, entered.size_band) == ("Busan", "85", "small")
    assert entered.risk_factors_ko == ("해외 전시회 참가 적음", "환율 변동")
    assert entered.risk_factors_en == ("Few overseas exhibitions", "Exchange-rate swing")
    assert entered.model_version == NEW and entered.scored
    new = next(c for c in report.changes if c.firm_id == "EXP000006")
    assert new.previous_index is None and new.region is None
    assert (report.year, report.previous_year) == (2024, 2023)
    assert (report.model_version, report.previous_version) == (NEW, OLD)
    assert report.counts() == {"entered": 2, "left": 2}
    assert not report.first_run


def test_a_firm_no_longer_scored_leaves_the_group_and_says_so() -> None:
    [dropped] = [c for c in risk_changes(_previous(), _current()) if c.firm_id == "EXP000004"]
    assert dropped.change == "left"
    assert not dropped.scored
    assert dropped.continuity_index is None
    assert dropped.previous_index == pytest.approx(0.30)
    # Its attributes come from the last row that scored it, so its officer still hears of it.
    assert (dropped.region, dropped.hs_chapter) == ("Busan", "33")
    assert dropped.year == 2024 and dropped.model_version == NEW
    text = message_text(dropped)
    assert "Not scored in this run" in text and "산출되지 않았습니다" in text
    left = next(c for c in risk_changes(_previous(), _current()) if c.firm_id == "EXP000003")
    assert left.scored and left.continuity_index == pytest.approx(0.77)


def test_the_first_run_alerts_nobody() -> None:
    current = _current()
    assert risk_changes(None, current) == []
    report = compare(None, current)
    assert report.first_run and report.changes == ()
    assert (report.year, report.model_version) == (2024, NEW)
    assert is_first_run(None) and is_first_run(current.iloc[0:0])
    assert not is_first_run(_previous())
    assert "no alerts" in report.render()


def test_the_newest_year_and_version_of_each_index_are_compared() -> None:
    # The tables keep every year and version: only the newest version's newest year counts.
    older_year = _rows(2022, OLD, {"EXP000001": (0.20, True, "Busan", "85")})
    older_version = _rows(2024, OLD, {"EXP000001": (0.20, False, "Busan", "85")})
    current = pd.concat([older_version, _current(), _rows(2023, NEW, {})], ignore_index=True)
    report = compare(pd.concat([older_year, _previous()], ignore_index=True), current)
    assert report.year == 2024 and report.model_version == NEW
    assert report.previous_year == 2023
    assert {c.firm_id for c in report.changes} == {
        "EXP000001",
        "EXP000003",
        "EXP000004",
        "EXP000006",
    }


def test_changes_come_in_a_fixed_order() -> None:
    changes = risk_changes(_previous(), _current())
    # entered before left; then region (none last), HS chapter, firm id
    assert [(c.change, c.firm_id) for c in changes] == [
        ("entered", "EXP000001"),
        ("entered", "EXP000006"),
        ("left", "EXP000004"),
        ("left", "EXP000003"),
    ]
    shuffled = _current().sample(frac=1.0, random_state=7)
    assert risk_changes(_previous().iloc[::-1], shuffled) == changes


def test_missing_values_are_none_and_a_duplicate_firm_is_refused() -> None:
    current = _current()
    current.loc[current["firm_id"] == "EXP000001", "size_band"] = None
    current["risk_factors_ko"] = current["risk_factors_ko"].astype(object)
    current.at[0, "risk_factors_ko"] = float("nan")
    current["risk_group"] = current["risk_group"].astype(object)
    current.at[1, "risk_group"] = None  # unknown counts as outside the group
    changes = risk_changes(_previous(), current)
    first = next(c for c in changes if c.firm_id == "EXP000001")
    assert first.size_band is None and first.risk_factors_ko == ()
    assert ("EXP000002", "left") in {(c.firm_id, c.change) for c in changes}
    twice = pd.concat([_current(), _current().iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="EXP000001 twice"):
        risk_changes(_previous(), twice)
    with pytest.raises(ValueError, match="nothing was scored"):
        risk_changes(_previous(), _current().iloc[0:0])


def test_the_json_between_the_steps_round_trips() -> None:
    report = compare(_previous(), _current())
    text = to_json(report, run_id="run-42")
    document = json.loads(text)
    assert document["schema"] == SCHEMA
    assert document["run_id"] == "run-42"
    assert (document["year"], document["previous_year"]) == (2024, 2023)
    assert (document["model_version"], document["previous_version"]) == (NEW, OLD)
    assert document["counts"] == {"entered": 2, "left": 2}
    assert document["first_run"] is False
    assert document["changes"][0]["risk_factors_ko"] == ["해외 전시회 참가 적음", "환율 변동"]
    assert "해외" in text  # kept readable in S3, not \\u-escaped
    assert from_json(text) == list(report.changes)
    back = report_from_json(text.encode())
    assert back == RiskChanges(**{**report.__dict__, "run_id": "run-42"})
    # A bare list works too, and a first run's empty report keeps its flag.
    assert from_json(to_json(list(report.changes))) == list(report.changes)
    first = report_from_json(to_json(compare(None, _current())))
    assert first.first_run and first.changes == () and first.year == 2024


def test_a_foreign_document_is_refused() -> None:
    with pytest.raises(ValueError, match="schema"):
        from_json(json.dumps({"changes": []}))
    with pytest.raises(ValueError, match="unknown change"):
        from_json(json.dumps({"schema": SCHEMA, "changes": [{"firm_id": "X", "change": "up"}]}))


def _change(firm_id: str, **overrides: Any) -> RiskChange:
    values: dict[str, Any] = {
        "firm_id": firm_id,
        "change": "entered",
        "year": 2024,
        "continuity_index": 0.41,
        "previous_index": 0.62,
        "region": "Busan",
        "hs_chapter": "85",
        "size_band": "small",
        "risk_factors_ko": ("해외 전시회 참가 적음",),
        "risk_factors_en": ("Few overseas exhibitions",),
        "model_version": NEW,
    }
    return RiskChange(**{**values, **overrides})


def test_messages_say_it_in_korean_and_english() -> None:
    change = _change("EXP000123", name="한빛전자")
    text = message_text(change)
    assert "수출 지속성 위험군 진입" in text and "Entered the export continuity risk group" in text
    assert "EXP000123 (한빛전자)" in text
    assert "0.410" in text and "0.620" in text
    assert "1. 해외 전시회 참가 적음 / Few overseas exhibitions" in text
    line = subject(change)
    assert line == "Risk group: EXP000123 entered (Busan, HS 85, 2024)"
    assert line.isascii() and len(line) < 100
    assert len(subject(_change("X" * 150))) < 100


def test_a_missing_attribute_is_left_out_not_sent_empty() -> None:
    attributes = message_attributes(_change("EXP000001", region=None, size_band=""))
    assert set(attributes) == {"hs_chapter", "change"}
    assert attributes["hs_chapter"] == {"DataType": "String", "StringValue": "85"}


def test_filter_policies_for_officers() -> None:
    assert filter_policy(regions=["Busan"], hs_chapters=["85", 3]) == {
        "region": ["Busan"],
        "hs_chapter": ["03", "85"],
    }
    assert filter_policy(changes=["entered"], size_bands=["small"]) == {
        "change": ["entered"],
        "size_band": ["small"],
    }
    assert filter_policy() == {}
    with pytest.raises(ValueError, match="unknown region"):
        filter_policy(regions=["Pusan"])
    with pytest.raises(ValueError, match="not an HS chapter"):
        filter_policy(hs_chapters=["8517"])
    with pytest.raises(ValueError, match="combinations"):
        filter_policy(regions=["Busan", "Seoul"], hs_chapters=range(1, 77))


# --- publishing through moto's SNS into SQS -------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _queue(sns: Any, topic_arn: str, name: str, policy: dict[str, Any], *, raw: bool) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {"FilterPolicy": json.dumps(policy), "RawMessageDelivery": str(raw).lower()}
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(url)


def _received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_an_officer_receives_only_their_own_firms(aws: None) -> None:
    changes = risk_changes(_previous(), _current())
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="risk-changes")["TopicArn"]
    busan_85 = _queue(
        sns, topic, "busan-85", filter_policy(regions=["Busan"], hs_chapters=["85"]), raw=True
    )
    leaving = _queue(sns, topic, "leaving", filter_policy(changes=["left"]), raw=False)

    summary = publish_changes(sns, topic, changes)

    assert (summary.sent, summary.failed, summary.calls) == (4, 0, 1)
    [raw] = _received(busan_85)
    record = json.loads(raw["Body"])  # SQS subscribers get the change as JSON
    assert record["firm_id"] == "EXP000001" and record["change"] == "entered"
    assert record["risk_factors_en"] == ["Few overseas exhibitions", "Exchange-rate swing"]
    assert {k: v["StringValue"] for k, v in raw["MessageAttributes"].items()} == {
        "region": "Busan",
        "hs_chapter": "85",
        "change": "entered",
        "size_band": "small",
    }
    enveloped = [json.loads(m["Body"]) for m in _received(leaving)]
    assert sorted(json.loads(e["Message"])["firm_id"] for e in enveloped) == [
        "EXP000003",
        "EXP000004",
    ]
    first = enveloped[0]
    assert first["Subject"].startswith("Risk group: EXP00000")
    assert first["MessageAttributes"]["change"] == {"Type": "String", "Value": "left"}


def test_a_firm_without_a_region_never_matches_a_region_filter(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="risk-changes")["TopicArn"]
    chapter_39 = _queue(sns, topic, "hs-39", filter_policy(hs_chapters=["39"]), raw=True)
    seoul = _queue(sns, topic, "seoul", filter_policy(regions=["Seoul"]), raw=True)
    publish_changes(sns, topic, [_change("EXP000006", region=None, hs_chapter="39")])
    assert [json.loads(m["Body"])["firm_id"] for m in _received(chapter_39)] == ["EXP000006"]
    assert _received(seoul) == []


def test_a_topic_that_does_not_exist_raises(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    missing = f"arn:aws:sns:{REGION}:123456789012:nowhere"
    with pytest.raises(ClientError, match="NotFound"):
        publish_changes(sns, missing, [_change("EXP000001")])


def test_nothing_to_publish_makes_no_request(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    assert publish_changes(sns, "arn:aws:sns:x:1:none", []).calls == 0


# --- per-entry failures, retries and batches (a fake client) ---------------------------------


class FakeSns:
    """Answers PublishBatch from a script of per-entry outcomes: firm id -> outcomes by try."""

    def __init__(self, script: dict[str, list[str]] | None = None) -> None:
        self.script = script or {}
        self.requests: list[list[dict[str, Any]]] = []

    def publish_batch(self, *, TopicArn: str, PublishBatchRequestEntries: list[Any]) -> Any:
        self.requests.append(PublishBatchRequestEntries)
        successful, failed = [], []
        for entry in PublishBatchRequestEntries:
            firm = json.loads(json.loads(entry["Message"])["sqs"])["firm_id"]
            outcomes = self.script.get(firm)
            outcome = outcomes.pop(0) if outcomes else "ok"
            if outcome == "ok":
                successful.append({"Id": entry["Id"], "MessageId": f"m-{firm}"})
            else:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": outcome,
                        "Message": f"{outcome} for {firm}",
                        "SenderFault": outcome == "InvalidParameter",
                    }
                )
        return {"Successful": successful, "Failed": failed}


def test_changes_go_in_batches_of_ten() -> None:
    fake = FakeSns()
    changes = [_change(f"EXP{i:06d}") for i in range(23)]
    summary = publish_changes(fake, "arn:topic", changes)
    assert [len(r) for r in fake.requests] == [10, 10, 3]
    assert (summary.sent, summary.failed, summary.calls) == (23, 0, 3)
    for request in fake.requests:
        assert len({e["Id"] for e in request}) == len(request)
        assert all(e["MessageStructure"] == "json" for e in request)


def test_failed_entries_are_retried_and_counted_never_raised() -> None:
    sleeps: list[float] = []
    fake = FakeSns(
        {
            "EXP000001": ["InternalError", "ok"],  # succeeds on the second try
            "EXP000002": ["Throttled", "Throttled", "Throttled"],  # gives up after three
            "EXP000003": ["InvalidParameter"],  # the sender's fault: not retried
        }
    )
    changes = [_change(f"EXP{i:06d}") for i in range(5)]
    summary = publish_changes(fake, "arn:topic", changes, sleep=sleeps.append)
    assert (summary.sent, summary.failed) == (3, 2)
    assert [len(r) for r in fake.requests] == [5, 2, 1]  # only failed entries go again
    assert sleeps == [0.5, 1.0]
    assert {(f.firm_id, f.code) for f in summary.failures} == {
        ("EXP000002", "Throttled"),
        ("EXP000003", "InvalidParameter"),
    }
    assert "3 sent, 2 failed" in summary.render()


def test_per_entry_failures_through_a_stubbed_boto3_client() -> None:
    sns = boto3.client("sns", region_name=REGION)
    change = _change("EXP000001")
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {
                "Successful": [],
                "Failed": [{"Id": "0", "Code": "InternalError", "SenderFault": False}],
            },
        )
        stub.add_response(
            "publish_batch", {"Successful": [{"Id": "0", "MessageId": "m-1"}], "Failed": []}
        )
        summary = publish_changes(sns, "arn:aws:sns:x:1:t", [change], sleep=lambda _: None)
        stub.assert_no_pending_responses()
    assert (summary.sent, summary.failed, summary.calls) == (1, 0, 2)


def test_an_index_of_nan_reads_as_unknown() -> None:
    current = _current()
    current.loc[current["firm_id"] == "EXP000006", "continuity_index"] = math.nan
    [new] = [c for c in risk_changes(_previous(), current) if c.firm_id == "EXP000006"]
    assert new.continuity_index is None
    assert "–" in message_text(new)
