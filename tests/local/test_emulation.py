"""The emulation: provisioned from the single sources, idempotent, key stable across restarts."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import boto3
import pytest

from exportintel.cli import main
from exportintel.contracts import all_contracts
from exportintel.contracts.tables import catalog_entries
from exportintel.ingest import layout
from exportintel.local.emulation import EmulatedAws, LocalEmulation, environ
from exportintel.local.server import running, start_detached, stop_detached
from exportintel.local.state import (
    KEY_FILE,
    STATE_FOLDER,
    ServerState,
    load_or_create_key,
    read_server_state,
    state_dir,
    write_server_state,
)
from exportintel.resources import ZONES
from exportintel.settings import LOCAL
from tests.local.harness import RunningEmulation


def _secret(aws: EmulatedAws) -> str:
    value = aws.client("secretsmanager").get_secret_value(SecretId=aws.pseudonymisation_secret())
    return str(value["SecretString"])


def test_up_provisions_every_resource_from_the_single_sources(
    emulation: RunningEmulation,
) -> None:
    aws, resources = emulation.aws, emulation.aws.resources
    s3 = aws.client("s3")

    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {resources.bucket(zone) for zone in ZONES} <= buckets
    rule = s3.get_bucket_encryption(Bucket=resources.raw_bucket)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    stream = aws.client("kinesis").describe_stream_summary(StreamName=resources.clickstream_stream)
    assert stream["StreamDescriptionSummary"]["OpenShardCount"] == LOCAL.kinesis_shards
    assert stream["StreamDescriptionSummary"]["EncryptionType"] == "KMS"

    firehose = aws.client("firehose")
    clickstream = firehose.describe_delivery_stream(
        DeliveryStreamName=resources.clickstream_firehose
    )["DeliveryStreamDescription"]
    assert clickstream["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert (
        clickstream["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"]
        == (stream["StreamDescriptionSummary"]["StreamARN"])
    )
    destination = clickstream["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == layout.CLICKSTREAM_PREFIX
    assert destination["BucketARN"] == f"arn:aws:s3:::{resources.raw_bucket}"
    feeds = firehose.describe_delivery_stream(DeliveryStreamName=resources.feeds_firehose)[
        "DeliveryStreamDescription"
    ]
    assert feeds["DeliveryStreamType"] == "DirectPut"
    destination = feeds["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == layout.FEEDS_PREFIX
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True

    glue = aws.client("glue")
    names = {"raw": resources.raw_database, "curated": resources.curated_database}
    expected_tables = {(names[e.database], e.table.name): e for e in catalog_entries(
        all_contracts())}  # fmt: skip
    assert ("exportintel_local_raw", "quarantine") not in expected_tables  # derived: no raw
    found = {
        (database, t["Name"]): t
        for database in names.values()
        for t in glue.get_tables(DatabaseName=database)["TableList"]
    }
    assert set(found) == set(expected_tables)
    for key, entry in expected_tables.items():
        expected = entry.table.to_glue_input(resources.bucket(entry.bucket_zone))
        table = found[key]
        assert table["StorageDescriptor"]["Location"] == expected["StorageDescriptor"]["Location"]
        assert table["StorageDescriptor"]["Columns"] == expected["StorageDescriptor"]["Columns"]
        assert table.get("PartitionKeys", []) == expected["PartitionKeys"]
        assert table["Parameters"] == expected["Parameters"]
    assert found[(resources.curated_database, "quarantine")]["StorageDescriptor"][
        "Location"
    ].startswith(f"s3://{resources.quarantine_bucket}/")

    assert _secret(aws) == load_or_create_key(emulation.state).hex()


def test_provisioning_twice_changes_nothing(emulation: RunningEmulation) -> None:
    before = emulation.aws.inventory()
    again = emulation.aws.provision(load_or_create_key(emulation.state))
    assert again == before
    assert len(again.buckets) == len(ZONES)
    assert len(again.delivery_streams) == 2


def test_the_key_survives_restarts_and_only_its_owner_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a fresh state folder, when the emulation is brought up, down and up again
    through the CLI, then the secret holds the same key both times."""
    monkeypatch.setenv("EXPORTINTEL_HOME", str(tmp_path))
    state = state_dir()
    assert state == tmp_path.resolve() / STATE_FOLDER
    assert main(["local", "status"]) == 3
    assert main(["local", "down"]) == 0  # nothing running is fine

    secrets = []
    for _ in range(2):
        assert main(["local", "up"]) == 0
        server = running(state)
        assert server is not None
        assert main(["local", "up"]) == 0  # a second `up` reuses the running server
        assert running(state) == server
        assert main(["local", "status"]) == 0
        secrets.append(_secret(EmulatedAws(server.endpoint_url, LOCAL)))
        assert main(["local", "down"]) == 0
        assert running(state) is None

    out = capsys.readouterr().out
    assert "already running" in out
    assert "stopped" in out
    assert secrets[0] == secrets[1] == (state / KEY_FILE).read_text().strip()
    assert len(bytes.fromhex(secrets[0])) == 32
    assert stat.S_IMODE((state / KEY_FILE).stat().st_mode) == 0o600


def test_env_prints_what_points_boto3_at_the_emulation(
    emulation: RunningEmulation, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXPORTINTEL_HOME", str(emulation.home))
    assert main(["local", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"export AWS_ENDPOINT_URL={emulation.endpoint_url}" in lines
    assert "export AWS_DEFAULT_REGION=ap-northeast-2" in lines


def test_in_process_emulation_is_reached_through_aws_endpoint_url_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalEmulation(state=tmp_path) as emulation:
        variables = emulation.environ()
        assert variables == environ(emulation.endpoint_url)
        assert variables["AWS_ACCESS_KEY_ID"] == "testing"
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        # Business code: a plain client, no endpoint argument.
        names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
        assert emulation.resources.raw_bucket in names
        assert (tmp_path / KEY_FILE).exists()
        endpoint = emulation.endpoint_url
    with pytest.raises(OSError):
        host, port = endpoint.removeprefix("http://").split(":")
        socket.create_connection((host, int(port)), timeout=1).close()


def test_a_second_start_reuses_the_server_and_down_is_idempotent(tmp_path: Path) -> None:
    state = tmp_path / STATE_FOLDER
    server, started = start_detached(state)
    assert started
    try:
        again, started_again = start_detached(state)
        assert (again, started_again) == (server, False)
    finally:
        assert stop_detached(state) is True
    assert stop_detached(state) is False
    assert running(state) is None


def test_a_stale_server_record_reads_as_stopped(tmp_path: Path) -> None:
    state = tmp_path / STATE_FOLDER
    # A pid no process can have (above the kernel's pid_max).
    write_server_state(state, ServerState(2**22 + 1, "http://127.0.0.1:9", "2026-01-01"))
    assert running(state) is None
    assert read_server_state(state) is None
