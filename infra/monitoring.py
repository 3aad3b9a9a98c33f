"""Monitoring of one environment: one CloudWatch dashboard, and alarms that notify one SNS topic.

What is watched, by family (each has dashboard widgets and alarms):

- Ingestion: both Firehose delivery streams' `DeliveryToS3.DataFreshness` (alarm above a bound
  derived from the stream's buffering interval) and `DeliveryToS3.Success` (alarm below 1).
  Neither stream converts formats nor runs a Lambda processor, so Firehose publishes no
  conversion or processing failures for them; the feeds stream's dynamic partitioning has its
  partition count on the dashboard.
- Collectors: Lambda errors and throttles of every collector, and the collectors' dead-letter
  queue.
- Glue jobs (curation and derived): run durations and failed or timed-out runs (see
  `GlueFailures` for how failures are counted).
- Quarantine: the `QuarantinedRecords` and `RecordsRead` the curation job publishes at the end
  of each run (`glue_scripts/curate_dataset.py`), per dataset.
- Pipeline executions, when the state machine is given.
- API: latency percentiles and 4XX/5XX of the REST API's stage.
- Serving functions (API functions and the live counters): errors and throttles.
- Serving tables: read and write throttle events, indexes included.
- Dead-letter queues: the collectors' and the counters' queues already carry a depth alarm of
  their own (`Collectors.dead_letter_alarm`, `LiveCounters.dead_letter_alarm`). They are not
  duplicated: a composite alarm per queue, over the existing alarm, notifies the topic. Adding
  the topic to the existing alarms instead would make the platform and serving stacks refer to
  this one, which refers to them: a dependency cycle between the stacks.

Every alarm notifies the topic when it goes into ALARM. Missing data is "not breaching"
throughout: these metrics are published only when something happens (an invocation, a run, a
delivery, a throttle), so silence means nothing to report, not a fault. The one metric whose
absence could hide a fault, Firehose freshness, goes silent only when no records arrive.

This module assembles the dashboard; the families, with their metric names and thresholds, are
`infra.monitoring_data` (ingestion to pipeline) and `infra.monitoring_serving` (API to dead
letters), the alarm policy and widget shapes `infra.monitoring_common`.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from exportintel.settings import EnvironmentSettings
from infra.api import Api
from infra.collectors import Collectors
from infra.counters import LiveCounters
from infra.derived_jobs import DerivedJobs
from infra.etl import Etl
from infra.ingestion import Ingestion
from infra.monitoring_common import WIDTH, Alarms
from infra.monitoring_data import (
    GlueFailures,
    collectors_section,
    glue_jobs_section,
    ingestion_section,
    pipeline_section,
    quarantine_section,
)
from infra.monitoring_serving import (
    api_section,
    dead_letters_section,
    serving_functions_section,
    tables_section,
)
from infra.serving_tables import ServingTables


class Monitoring(Construct):
    """The environment's dashboard and alarms; every alarm notifies `topic`."""

    dashboard: cloudwatch.Dashboard
    alarms: dict[str, cloudwatch.AlarmBase]  # by construct id
    glue_failures: dict[str, GlueFailures]  # by job name (curation: the dataset)

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        topic: sns.ITopic,
        ingestion: Ingestion,
        collectors: Collectors,
        etl: Etl,
        derived_jobs: DerivedJobs,
        api: Api,
        counters: LiveCounters,
        tables: ServingTables,
        state_machine: sfn.IStateMachine | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        # The alarms are this construct's children: their logical ids stay where they were.
        alarms = Alarms(self, environment=settings.name, topic=topic)
        self.alarms = alarms.by_id
        self.glue_failures = {}
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=Duration.days(1),
            period_override=cloudwatch.PeriodOverride.AUTO,
        )

        sections: list[list[cloudwatch.IWidget]] = []
        sections.append(
            ingestion_section(
                alarms,
                {
                    "Clickstream": (
                        ingestion.clickstream_delivery,
                        settings.clickstream_buffering,
                        False,
                    ),
                    "Feeds": (ingestion.feeds_delivery, settings.feeds_buffering, True),
                },
            )
        )
        sections.append(collectors_section(alarms, collectors))
        for title, jobs in (("Curation jobs", etl.jobs), ("Derived jobs", derived_jobs.jobs)):
            widgets, failures = glue_jobs_section(alarms, title, jobs)
            self.glue_failures.update(failures)
            sections.append(widgets)
        sections.append(quarantine_section(alarms, sorted(etl.jobs)))
        if state_machine is not None:
            sections.append(pipeline_section(alarms, state_machine))
        sections.append(api_section(alarms, api))
        serving_functions = {unit: f.function for unit, f in api.functions.items()}
        serving_functions["counters"] = counters.function
        sections.append(serving_functions_section(alarms, serving_functions, counters.function))
        sections.append(tables_section(alarms, tables))
        sections.append(
            dead_letters_section(
                alarms,
                {
                    "Collectors": (collectors.dead_letter_queue, collectors.dead_letter_alarm),
                    "Counters": (counters.dead_letter_queue, counters.dead_letter_alarm),
                },
            )
        )

        # The state of every alarm first, then the sections.
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Export Intelligence ({settings.name})\nAlarms notify the "
                "operations topic; each section below charts one unit.",
                width=WIDTH,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=list(self.alarms.values()),
                width=WIDTH,
                height=6,
            )
        )
        for widgets in sections:
            self.dashboard.add_widgets(*widgets)
