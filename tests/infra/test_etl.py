"""The ETL unit: a Glue curation job per raw dataset, its role, encryption and the key secret."""

from __future__ import annotations

import importlib.util
import json
import re
from types import ModuleType
from typing import Any

import pytest
from aws_cdk.assertions import Template

from exportintel.contracts import all_contracts
from exportintel.settings import DEV, PROD, EnvironmentSettings
from infra.etl import KEY_HEX_DIGITS, SCRIPT, SUMMARY_PREFIX
from infra.platform_stack import PlatformStack
from tests.infra.support import (
    SynthesisedApp,
    as_list,
    get_att_arn,
    joined,
    logical_id,
    of_type,
    properties,
    resource,
    role_statements,
)

RAW_DATASETS = {c.name for c in all_contracts() if c.lands_in_raw}
WRITE_ACTIONS = re.compile(r"^s3:(Put|Delete|Abort|Restore|Replicate)")
WHEEL_URL = re.compile(
    r"^s3://cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-ap-northeast-2/"
    r"(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-]+)-1[0-9a-f]{16}-[^-]+-[^-]+-[^-]+\.whl$"
)


def _jobs(template: Template) -> dict[str, dict[str, Any]]:
    """Curation jobs by the dataset they curate (derived-table jobs have no --dataset)."""
    return {
        body["Properties"]["DefaultArguments"]["--dataset"]: body["Properties"]
        for body in of_type(template, "AWS::Glue::Job").values()
        if "--dataset" in body["Properties"]["DefaultArguments"]
    }


def _bucket(stack: PlatformStack, zone: str) -> str:
    return logical_id(stack, stack.data_lake.zone_buckets[zone])


def test_one_glue_5_1_job_per_contract_that_lands_in_raw(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    jobs = _jobs(dev_template)
    assert set(jobs) == RAW_DATASETS == set(dev_stack.etl.jobs)
    for dataset, job in jobs.items():
        assert job["GlueVersion"] == "5.1", dataset
        assert job["Command"]["Name"] == "glueetl"
        assert job["Command"]["PythonVersion"] == "3"
        script = joined(job["Command"]["ScriptLocation"])
        assert script.startswith("s3://cdk-") and script.endswith(".py")
        assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        assert job["DefaultArguments"]["--enable-continuous-cloudwatch-log"] == "true"


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_workers_and_timeout_come_from_the_settings(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    template: Template = request.getfixturevalue(f"{env}_template")
    for job in _jobs(template).values():
        assert job["WorkerType"] == settings.glue_worker_type == "G.1X"
        assert job["NumberOfWorkers"] == settings.glue_workers
        assert job["Timeout"] == settings.glue_timeout_minutes
    assert PROD.glue_workers > DEV.glue_workers


def test_job_paths_point_at_the_datasets_prefixes_of_the_right_buckets(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    secret = logical_id(dev_stack, dev_stack.etl.pseudonymisation_secret)
    for dataset, job in _jobs(dev_template).items():
        arguments = job["DefaultArguments"]
        assert joined(arguments["--raw-path"]) == f"s3://<{_bucket(dev_stack, 'raw')}>/{dataset}/"
        assert joined(arguments["--curated-path"]) == (
            f"s3://<{_bucket(dev_stack, 'curated')}>/{dataset}/"
        )
        assert joined(arguments["--quarantine-path"]) == (
            f"s3://<{_bucket(dev_stack, 'quarantine')}>/quarantine/"
        )
        assert joined(arguments["--summary-path"]) == (
            f"s3://<{_bucket(dev_stack, 'artifacts')}>/{SUMMARY_PREFIX}"
        )
        assert arguments["--key-secret-id"] == {"Ref": secret}


def test_jobs_install_the_shipped_wheels_from_s3_without_an_index(dev_template: Template) -> None:
    for job in _jobs(dev_template).values():
        arguments = job["DefaultArguments"]
        urls = joined(arguments["--additional-python-modules"]).split(",")
        names = []
        for url in urls:
            match = WHEEL_URL.match(url)
            assert match, url
            names.append(match["name"])
        assert names == ["exportintel", "orjson", "pycountry", "tzdata"]
        assert arguments["--python-modules-installer-option"].split() == ["--no-index", "--no-deps"]


def test_the_wheels_are_published_as_assets_under_their_wheel_names(
    synthesised: SynthesisedApp, dev_stack: PlatformStack, dev_template: Template
) -> None:
    [manifest_path] = synthesised.outdir.rglob(f"{dev_stack.artifact_id}.assets.json")
    files = json.loads(manifest_path.read_text())["files"]
    keys = {
        destination["objectKey"]: manifest_path.parent / asset["source"]["path"]
        for asset in files.values()
        for destination in asset["destinations"].values()
    }
    [job, *_] = _jobs(dev_template).values()
    for url in joined(job["DefaultArguments"]["--additional-python-modules"]).split(","):
        key = url.rsplit("/", 1)[1]
        assert key in keys, key
        assert keys[key].is_file() and keys[key].suffix == ".whl"


def test_the_security_configuration_encrypts_s3_logs_and_bookmarks_with_the_lake_key(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    key = get_att_arn(logical_id(dev_stack, dev_stack.data_lake.key))
    configuration = logical_id(dev_stack, dev_stack.etl.security_configuration)
    encryption = properties(dev_template, configuration)["EncryptionConfiguration"]
    assert encryption["S3Encryptions"] == [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key}]
    assert encryption["CloudWatchEncryption"] == {
        "CloudWatchEncryptionMode": "SSE-KMS",
        "KmsKeyArn": key,
    }
    assert encryption["JobBookmarksEncryption"] == {
        "JobBookmarksEncryptionMode": "CSE-KMS",
        "KmsKeyArn": key,
    }
    for job in _jobs(dev_template).values():
        assert job["SecurityConfiguration"] == {"Ref": configuration}


def test_the_key_lets_cloudwatch_logs_encrypt_glue_job_logs_only(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    policy = properties(dev_template, logical_id(dev_stack, dev_stack.data_lake.key))["KeyPolicy"]
    [statement] = [s for s in policy["Statement"] if s.get("Sid") == "GlueJobLogsEncryption"]
    assert statement["Principal"] == {"Service": "logs.ap-northeast-2.amazonaws.com"}
    condition = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert joined(condition).endswith(":log-group:/aws-glue/jobs*")


def test_job_roles_read_their_raw_prefix_and_never_write_raw(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    raw = _bucket(dev_stack, "raw")
    for dataset, role in dev_stack.etl.roles.items():
        statements = role_statements(dev_template, logical_id(dev_stack, role))
        on_raw = [s for s in statements if raw in json.dumps(s["Resource"])]
        assert on_raw, dataset
        for statement in on_raw:
            assert not [a for a in as_list(statement["Action"]) if WRITE_ACTIONS.match(a)]
        raw_objects = {joined(r) for s in on_raw for r in as_list(s["Resource"])}
        assert raw_objects >= {f"<{raw}.Arn>/{dataset}/*"}
        assert not [r for r in raw_objects if r.startswith(f"<{raw}.Arn>/") and dataset not in r]


def test_job_roles_write_their_curated_prefix_quarantine_and_summaries(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    curated, quarantine = _bucket(dev_stack, "curated"), _bucket(dev_stack, "quarantine")
    artifacts = _bucket(dev_stack, "artifacts")
    for dataset, role in dev_stack.etl.roles.items():
        writable = {
            joined(r)
            for s in role_statements(dev_template, logical_id(dev_stack, role))
            if "s3:PutObject" in as_list(s["Action"])
            for r in as_list(s["Resource"])
        }
        assert f"<{curated}.Arn>/{dataset}/*" in writable
        assert f"<{quarantine}.Arn>/quarantine/*" in writable
        assert f"<{artifacts}.Arn>/{SUMMARY_PREFIX}*" in writable
        # Nothing else: no other dataset's prefix, no whole bucket.
        assert not [w for w in writable if w.endswith(".Arn>/*")]


def test_job_roles_carry_no_managed_policies(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    for role in dev_stack.etl.roles.values():
        assert "ManagedPolicyArns" not in properties(dev_template, logical_id(dev_stack, role))


@pytest.mark.parametrize(("env", "retained"), [("dev", False), ("prod", True)])
def test_the_pseudonymisation_key_is_kms_encrypted_hex_and_never_rotated(
    env: str, retained: bool, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    secret_id = logical_id(stack, stack.etl.pseudonymisation_secret)
    secret = resource(template, secret_id)
    props = secret["Properties"]
    assert props["KmsKeyId"] == get_att_arn(logical_id(stack, stack.data_lake.key))
    generator = props["GenerateSecretString"]
    assert generator["PasswordLength"] == KEY_HEX_DIGITS == 64
    alphabet = {c for c in "abcdefghijklmnopqrstuvwxyz" if c not in generator["ExcludeCharacters"]}
    alphabet |= set("0123456789")  # digits are never excluded
    assert generator["ExcludeUppercase"] is True
    assert generator["ExcludePunctuation"] is True
    assert generator["IncludeSpace"] is False
    assert alphabet == set("0123456789abcdef")
    assert generator.get("ExcludeNumbers") is not True
    assert template.find_resources("AWS::SecretsManager::RotationSchedule") == {}
    assert secret["DeletionPolicy"] == ("Retain" if retained else "Delete")


def test_the_secret_arn_is_a_stack_output(dev_stack: PlatformStack, dev_template: Template) -> None:
    outputs = dev_template.to_json()["Outputs"]
    assert outputs["PseudonymisationSecret"]["Value"] == {
        "Ref": logical_id(dev_stack, dev_stack.etl.pseudonymisation_secret)
    }


def _glue_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curate_dataset", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_summary_prefix_gets_one_object_per_run_and_dataset() -> None:
    """The jobs pass `--summary-path s3://<artifacts>/etl-runs/`, as the local runner lays out."""
    from exportintel.etl.local_runner import SUMMARY_PREFIX as LOCAL_SUMMARY_PREFIX

    script = _glue_script()
    assert f"{LOCAL_SUMMARY_PREFIX}/" == SUMMARY_PREFIX
    assert script.summary_uri("s3://a/etl-runs/", "r1", "buyers") == (
        "s3://a/etl-runs/r1/buyers.json"
    )
    assert script.summary_uri("/tmp/summary.json", "r1", "buyers") == "/tmp/summary.json"
    arguments = script.parse_args(
        ["--dataset", "buyers", "--raw-path", "r", "--curated-path", "c", "--quarantine-path",
         "q", "--summary-path", "s/", "--key-secret-id", "k", "--JOB_RUN_ID", "jr_1"]
    )  # fmt: skip
    assert arguments.summary_path == "s/"
