"""Glue jobs that derive tables from the curated lake: export status, continuity features,
the matching inputs (`exportintel.glue_jobs.DERIVED_JOBS`).

Each job gets `--<table>-path` for every table it reads (read-only grants on those curated
prefixes) and every table it writes (read-write on those prefixes only: a derived table is
replaced whole), plus `--summary-path` under `derived-runs/` of the artifacts bucket. They
share the curation jobs' security configuration, wheels and Glue version. The orchestrator
runs them after curation; run by hand, they take these defaults.
"""

from __future__ import annotations

from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from exportintel.contracts import get_contract
from exportintel.contracts.tables import curated_table
from exportintel.glue_jobs import DERIVED_JOBS, DerivedJob, path_option
from infra.bundling import REPO_ROOT
from infra.etl import Etl, acknowledge_job_basics, pascal
from infra.nag import acknowledge, wildcard_resource

SUMMARY_PREFIX = "derived-runs/"


class DerivedJobs(Construct):
    """One Glue job per derived-table script, each with a role limited to its tables."""

    jobs: dict[str, glue.PySparkEtlJob]
    roles: dict[str, iam.Role]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        etl: Etl,
        curated_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id_)
        self.jobs = {}
        self.roles = {}
        for job in DERIVED_JOBS:
            role = iam.Role(
                self,
                f"{pascal(job.name)}JobRole",
                assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
                description=f"Glue: derive {', '.join(job.writes)} from the curated lake",
            )
            for table in job.reads:
                if table not in job.writes:
                    curated_bucket.grant_read(role, f"{_prefix(table)}*")
            for table in job.writes:
                curated_bucket.grant_read_write(role, f"{_prefix(table)}*")
            summary = f"{SUMMARY_PREFIX}{job.name}.json"
            artifacts_bucket.grant_put(role, summary)
            key.grant_encrypt_decrypt(role)
            etl.grant_job_basics(role)
            script = s3_assets.Asset(
                self, f"{pascal(job.name)}Script", path=str(REPO_ROOT / "glue_scripts" / job.script)
            )
            arguments = {
                path_option(table): curated_bucket.s3_url_for_object(_prefix(table))
                for table in job.tables
            }
            self.jobs[job.name] = etl.spark_job(
                self,
                f"{pascal(job.name)}Job",
                description=job.description,
                role=role,
                script=script,
                arguments={
                    **arguments,
                    "--summary-path": artifacts_bucket.s3_url_for_object(summary),
                },
            )
            self.roles[job.name] = role
            self._acknowledge(role, job, curated_bucket, etl.log_groups_arn)

    def _acknowledge(
        self, role: iam.Role, job: DerivedJob, curated_bucket: s3.IBucket, log_groups_arn: str
    ) -> None:
        for table in job.tables:
            what = "replaces" if table in job.writes else "reads"
            acknowledge(
                role,
                wildcard_resource(self, curated_bucket.arn_for_objects(f"{_prefix(table)}*")),
                f"The {job.name} job {what} the `{table}` table under `{_prefix(table)}` only; "
                "object keys below the prefix are chosen at run time by Spark (partitions, "
                "part files).",
            )
        acknowledge_job_basics(self, role, log_groups_arn)


def _prefix(table: str) -> str:
    return curated_table(get_contract(table)).prefix
