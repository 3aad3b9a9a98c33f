"""Derived-table Glue jobs: one per script, arguments per table, grants limited to those tables."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from aws_cdk.assertions import Template

from exportintel.glue_jobs import DERIVED_JOBS, path_option
from infra.bundling import REPO_ROOT
from infra.derived_jobs import SUMMARY_PREFIX
from infra.platform_stack import PlatformStack
from tests.infra.support import as_list, joined, logical_id, of_type, role_statements

WRITE_ACTIONS = re.compile(r"^s3:(Put|Delete|Abort|Restore|Replicate)")


def _jobs(stack: PlatformStack, template: Template) -> dict[str, dict[str, Any]]:
    bodies = of_type(template, "AWS::Glue::Job")
    return {
        name: bodies[logical_id(stack, job)]["Properties"]
        for name, job in stack.derived_jobs.jobs.items()
    }


def test_one_job_per_derived_script_with_a_path_per_table(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    jobs = _jobs(dev_stack, dev_template)
    assert set(jobs) == {job.name for job in DERIVED_JOBS}
    curated = logical_id(dev_stack, dev_stack.data_lake.curated_bucket)
    artifacts = logical_id(dev_stack, dev_stack.data_lake.artifacts_bucket)
    etl = next(iter(of_type(dev_template, "AWS::Glue::Job").values()))["Properties"]
    for job in DERIVED_JOBS:
        body = jobs[job.name]
        assert body["GlueVersion"] == "5.1" and body["ExecutionProperty"] == {
            "MaxConcurrentRuns": 1
        }
        arguments = body["DefaultArguments"]
        for table in job.tables:
            assert joined(arguments[path_option(table)]) == f"s3://<{curated}>/{table}/"
        assert joined(arguments["--summary-path"]) == (
            f"s3://<{artifacts}>/{SUMMARY_PREFIX}{job.name}.json"
        )
        # The same wheels and security configuration as the curation jobs.
        for shared in ("--additional-python-modules", "--python-modules-installer-option"):
            assert arguments[shared] == etl["DefaultArguments"][shared]
        assert body["SecurityConfiguration"] == etl["SecurityConfiguration"]


def test_roles_write_only_the_tables_their_job_replaces(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    curated = logical_id(dev_stack, dev_stack.data_lake.curated_bucket)
    raw = logical_id(dev_stack, dev_stack.data_lake.raw_bucket)
    for job in DERIVED_JOBS:
        statements = role_statements(
            dev_template, logical_id(dev_stack, dev_stack.derived_jobs.roles[job.name])
        )
        writable = {
            joined(r)
            for s in statements
            if any(WRITE_ACTIONS.match(a) for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])
            if curated in json.dumps(r) and "/" in joined(r)  # objects, not the bucket itself
        }
        assert writable == {f"<{curated}.Arn>/{table}/*" for table in job.writes}, job.name
        readable = {
            joined(r)
            for s in statements
            if "s3:GetObject*" in as_list(s["Action"])
            for r in as_list(s["Resource"])
            if curated in json.dumps(r) and joined(r).endswith("/*")
        }
        assert readable == {f"<{curated}.Arn>/{table}/*" for table in job.tables}, job.name
        assert not [s for s in statements if raw in json.dumps(s["Resource"])], job.name


def test_every_script_takes_exactly_the_declared_tables() -> None:
    for job in DERIVED_JOBS:
        done = subprocess.run(
            [sys.executable, str(REPO_ROOT / "glue_scripts" / job.script), "--help"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        options = set(re.findall(r"--[a-z-]+-path", done.stdout)) - {"--summary-path"}
        assert options == {path_option(t) for t in job.tables}, job.name
