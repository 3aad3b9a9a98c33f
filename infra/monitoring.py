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
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from exportintel.serving.functions import METRICS_NAMESPACE
from exportintel.serving.tables import TABLES
from exportintel.settings import EnvironmentSettings, FirehoseBuffering
from glue_scripts.curate_dataset import DATASET_DIMENSION, QUARANTINED_RECORDS, RECORDS_READ
from infra.api import Api
from infra.collectors import Collectors
from infra.counters import LiveCounters
from infra.derived_jobs import DerivedJobs
from infra.etl import GLUE_METRICS_NAMESPACE, Etl
from infra.ingestion import Ingestion
from infra.serving_tables import ServingTables

# --- metric names: every namespace and metric this unit reads, in one place ------------------
FIREHOSE_NAMESPACE = "AWS/Firehose"
FIREHOSE_FRESHNESS = "DeliveryToS3.DataFreshness"
FIREHOSE_SUCCESS = "DeliveryToS3.Success"
FIREHOSE_RECORDS = "DeliveryToS3.Records"
FIREHOSE_INCOMING_RECORDS = "IncomingRecords"  # direct PUT
FIREHOSE_KINESIS_RECORDS = "DataReadFromKinesisStream.Records"  # a Kinesis stream as source
FIREHOSE_PARTITION_COUNT = "PartitionCount"
FIREHOSE_PARTITION_COUNT_EXCEEDED = "PartitionCountExceeded"
GLUE_ELAPSED_TIME = "glue.driver.aggregate.elapsedTime"  # ms; needs `--enable-metrics`
EVENTS_NAMESPACE = "AWS/Events"
EVENTS_TRIGGERED_RULES = "TriggeredRules"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
DYNAMODB_THROTTLE_EVENTS = ("ReadThrottleEvents", "WriteThrottleEvents")
LAMBDA_ITERATOR_AGE = "IteratorAge"
# The curation job's own metrics (namespace `METRICS_NAMESPACE`, dimension `Dataset`).
QUARANTINE_METRICS = (RECORDS_READ, QUARANTINED_RECORDS)
# Glue's states of a run that ended without its work done ("Glue Job State Change" events).
GLUE_FAILED_STATES = ("FAILED", "TIMEOUT")

# --- thresholds ----------------------------------------------------------------------------
# The period most alarms evaluate: the resolution of the services' standard metrics.
PERIOD = Duration.minutes(5)
# Firehose flushes a buffer at the latest after its interval, and with dynamic partitioning
# up to 1.5 times the interval (multi-stage buffering, per AWS's buffering documentation).
# Records older than twice the interval mean deliveries are failing and being retried.
FRESHNESS_BOUND_FACTOR = 2
# Two periods in a row: one slow flush is not a fault, a delivery that stays late is.
FRESHNESS_EVALUATION_PERIODS = 2
# Firehose retries a failed S3 put itself; a success rate below 1 two periods in a row means
# the retries are failing too and records are heading for the error prefix.
SUCCESS_EVALUATION_PERIODS = 2
# p99 latency of the API, in ms. Measured locally the matches route's p99 is about 3 s with
# moto in the path (README, API benchmark); 5 s sustained means calls approach the functions'
# timeout (`api_timeout_seconds`), while a lone cold start stays below it.
API_P99_LATENCY_MS = 5_000
API_LATENCY_EVALUATION_PERIODS = 3
# Quarantined share of a dataset's records in an hour of runs, in percent. The generated data
# breaks 1% of records (`malformed_rate`) and real feeds about as few; five times that is a
# systematic fault (a provider changed a format, a producer broke), not scattered bad records.
QUARANTINE_SHARE_PERCENT = 5
# Below this many quarantined records a share says little (2 bad rows of a 30-row feed day).
QUARANTINE_MIN_RECORDS = 10
# Curation runs publish once at their end; an hour gathers a run (or a rerun) into one point.
QUARANTINE_PERIOD = Duration.hours(1)

_WIDTH = 24  # the dashboard's grid width


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", name) if part)


@dataclass(frozen=True)
class GlueFailures:
    """Failed and timed-out runs of one Glue job, counted through EventBridge.

    Why not Glue's metrics: the job metrics (`glue.driver.aggregate.numFailedTasks`, ...,
    published with `--enable-metrics`) come from a running Spark driver. A run that fails
    before Spark starts (a wheel that does not install, a bad argument, an import error) or
    that is stopped by its timeout publishes none of them, and a failed task Spark retried to
    success is no failed run. Glue emits a "Glue Job State Change" event for every run that
    ends FAILED or TIMEOUT, whatever the cause. A rule matching those events for this job (no
    target needed) makes EventBridge count each match in `AWS/Events` `TriggeredRules` under
    the rule's name, which the alarm watches: the approach CDK's own `Job.metric_failure`
    takes, with the rule kept in this stack rather than added to the platform's.
    Durations do come from Glue's job metrics (`glue.driver.aggregate.elapsedTime`), on the
    dashboard only: a run that runs too long ends as TIMEOUT and alarms here.
    """

    rule: events.Rule
    metric: cloudwatch.Metric


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
        self._action = cloudwatch_actions.SnsAction(topic)
        self.alarms = {}
        self.glue_failures = {}
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=Duration.days(1),
            period_override=cloudwatch.PeriodOverride.AUTO,
        )

        sections: list[list[cloudwatch.IWidget]] = []
        sections.append(
            self._ingestion(
                {
                    "Clickstream": (
                        ingestion.clickstream_delivery,
                        settings.clickstream_buffering,
                        False,
                    ),
                    "Feeds": (ingestion.feeds_delivery, settings.feeds_buffering, True),
                }
            )
        )
        sections.append(self._collectors(collectors))
        sections.append(self._glue_jobs("Curation jobs", etl.jobs))
        sections.append(self._glue_jobs("Derived jobs", derived_jobs.jobs))
        sections.append(self._quarantine(sorted(etl.jobs)))
        if state_machine is not None:
            sections.append(self._pipeline(state_machine))
        sections.append(self._api(api))
        serving_functions = {unit: f.function for unit, f in api.functions.items()}
        serving_functions["counters"] = counters.function
        sections.append(self._serving_functions(serving_functions, counters.function))
        sections.append(self._tables(tables))
        sections.append(
            self._dead_letters(
                {
                    "Collectors": (collectors.dead_letter_queue, collectors.dead_letter_alarm),
                    "Counters": (counters.dead_letter_queue, counters.dead_letter_alarm),
                }
            )
        )

        # The state of every alarm first, then the sections.
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# Export Intelligence ({settings.name})\nAlarms notify the "
                "operations topic; each section below charts one unit.",
                width=_WIDTH,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=list(self.alarms.values()),
                width=_WIDTH,
                height=6,
            )
        )
        for widgets in sections:
            self.dashboard.add_widgets(*widgets)

    # --- helpers ------------------------------------------------------------------------

    def _alarm(
        self,
        id_: str,
        *,
        metric: cloudwatch.IMetric,
        description: str,
        threshold: float = 0,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ),
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id_,
            metric=metric,
            alarm_description=f"Export Intelligence ({self.settings.name}): {description}",
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            # See the module docstring: these metrics are silent when nothing happens.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[id_] = alarm
        return alarm

    @staticmethod
    def _header(text: str) -> cloudwatch.TextWidget:
        return cloudwatch.TextWidget(markdown=f"## {text}", width=_WIDTH, height=1)

    @staticmethod
    def _graph(
        title: str,
        left: Sequence[cloudwatch.IMetric],
        *,
        width: int = 8,
        annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=list(left),
            left_annotations=list(annotations),
            width=width,
            height=6,
        )

    # --- families -----------------------------------------------------------------------

    def _ingestion(
        self,
        streams: Mapping[str, tuple[firehose.CfnDeliveryStream, FirehoseBuffering, bool]],
    ) -> list[cloudwatch.IWidget]:
        """`streams`: by role, the stream, its buffering and whether it partitions dynamically."""
        widgets: list[cloudwatch.IWidget] = [self._header("Ingestion (Firehose into raw)")]
        for role, (stream, buffering, partitioned) in streams.items():

            def metric(
                name: str, statistic: str, stream_name: str = stream.ref
            ) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace=FIREHOSE_NAMESPACE,
                    metric_name=name,
                    dimensions_map={"DeliveryStreamName": stream_name},
                    statistic=statistic,
                    period=PERIOD,
                    label=name,
                )

            bound = FRESHNESS_BOUND_FACTOR * buffering.interval_seconds
            freshness = metric(FIREHOSE_FRESHNESS, cloudwatch.Stats.MAXIMUM)
            success = metric(FIREHOSE_SUCCESS, cloudwatch.Stats.AVERAGE)
            self._alarm(
                f"{role}DeliveryFreshness",
                metric=freshness,
                threshold=bound,
                evaluation_periods=FRESHNESS_EVALUATION_PERIODS,
                description=f"the {role.lower()} delivery stream holds records older than "
                f"{bound} s (twice its {buffering.interval_seconds} s buffering interval): "
                "deliveries to the raw bucket are failing or stuck. See the stream's "
                "S3Delivery error log.",
            )
            self._alarm(
                f"{role}DeliverySuccess",
                metric=success,
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=SUCCESS_EVALUATION_PERIODS,
                description=f"puts of the {role.lower()} delivery stream into the raw bucket "
                "keep failing; records Firehose gives up on land under errors/ in raw.",
            )
            incoming = (
                FIREHOSE_KINESIS_RECORDS
                if stream.delivery_stream_type == "KinesisStreamAsSource"
                else FIREHOSE_INCOMING_RECORDS
            )
            volume = [
                metric(incoming, cloudwatch.Stats.SUM),
                metric(FIREHOSE_RECORDS, cloudwatch.Stats.SUM),
            ]
            if partitioned:
                volume.append(metric(FIREHOSE_PARTITION_COUNT, cloudwatch.Stats.MAXIMUM))
                volume.append(metric(FIREHOSE_PARTITION_COUNT_EXCEEDED, cloudwatch.Stats.MAXIMUM))
            widgets += [
                self._graph(
                    f"{role}: data freshness (s)",
                    [freshness],
                    annotations=[cloudwatch.HorizontalAnnotation(value=bound, label="alarm")],
                ),
                self._graph(f"{role}: S3 delivery success", [success]),
                self._graph(f"{role}: records", volume),
            ]
        return widgets

    def _function_alarms(self, id_: str, name: str, function: lambda_.IFunction) -> None:
        self._alarm(
            f"{id_}Errors",
            metric=function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            description=f"the {name} function failed; see its log group.",
        )
        self._alarm(
            f"{id_}Throttles",
            metric=function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            description=f"the {name} function was throttled (concurrency exhausted).",
        )

    def _function_graphs(
        self, what: str, functions: Mapping[str, lambda_.IFunction], *, width: int = 8
    ) -> list[cloudwatch.IWidget]:
        """Errors, throttles and invocations of `functions`, one line per function."""

        def each(metric: str) -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric, period=PERIOD, statistic=cloudwatch.Stats.SUM, label=name)
                for name, function in functions.items()
            ]

        return [
            self._graph(f"{what}: {metric.lower()}", each(metric), width=width)
            for metric in ("Errors", "Throttles", "Invocations")
        ]

    def _collectors(self, collectors: Collectors) -> list[cloudwatch.IWidget]:
        for feed, function in collectors.functions.items():
            self._function_alarms(f"{_pascal(feed)}Collector", f"{feed} collector", function)
        return [
            self._header("Collectors (scheduled feed Lambdas)"),
            *self._function_graphs("Collectors", collectors.functions),
        ]

    def _glue_jobs(
        self, title: str, jobs: Mapping[str, glue.PySparkEtlJob]
    ) -> list[cloudwatch.IWidget]:
        durations: list[cloudwatch.IMetric] = []
        failures: list[cloudwatch.IMetric] = []
        for name, job in jobs.items():
            pascal = _pascal(name)
            rule = events.Rule(
                self,
                f"{pascal}JobFailures",
                description=f"Failed or timed-out runs of the {name} Glue job (counted by "
                "the rule's TriggeredRules metric; no target)",
                event_pattern=events.EventPattern(
                    source=["aws.glue"],
                    detail_type=["Glue Job State Change"],
                    detail={"jobName": [job.job_name], "state": list(GLUE_FAILED_STATES)},
                ),
            )
            failed = cloudwatch.Metric(
                namespace=EVENTS_NAMESPACE,
                metric_name=EVENTS_TRIGGERED_RULES,
                dimensions_map={"RuleName": rule.rule_name},
                statistic=cloudwatch.Stats.SUM,
                period=PERIOD,
                label=name,
            )
            self.glue_failures[name] = GlueFailures(rule=rule, metric=failed)
            self._alarm(
                f"{pascal}JobFailed",
                metric=failed,
                description=f"a run of the {name} Glue job failed or timed out; see the run "
                "in the Glue console and its error log.",
            )
            failures.append(failed)
            durations.append(
                cloudwatch.Metric(
                    namespace=GLUE_METRICS_NAMESPACE,
                    metric_name=GLUE_ELAPSED_TIME,
                    dimensions_map={"JobName": job.job_name, "JobRunId": "ALL", "Type": "count"},
                    statistic=cloudwatch.Stats.MAXIMUM,
                    period=PERIOD,
                    label=name,
                )
            )
        return [
            self._header(title),
            self._graph(f"{title}: elapsed time of the running run (ms)", durations, width=12),
            self._graph(f"{title}: failed or timed-out runs", failures, width=12),
        ]

    def _quarantine(self, datasets: Sequence[str]) -> list[cloudwatch.IWidget]:
        widgets: list[cloudwatch.IWidget] = [
            self._header(
                f"Quarantine (records rejected by curation; alarm above "
                f"{QUARANTINE_SHARE_PERCENT}% of a dataset's records read in an hour, "
                f"from {QUARANTINE_MIN_RECORDS} records)"
            )
        ]
        for dataset in datasets:
            read, quarantined = (
                cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name=name,
                    dimensions_map={DATASET_DIMENSION: dataset},
                    statistic=cloudwatch.Stats.SUM,
                    period=QUARANTINE_PERIOD,
                    label=name,
                )
                for name in QUARANTINE_METRICS
            )
            share = cloudwatch.MathExpression(
                expression=f"IF(quarantined >= {QUARANTINE_MIN_RECORDS}, "
                "100 * quarantined / read, 0)",
                using_metrics={"quarantined": quarantined, "read": read},
                period=QUARANTINE_PERIOD,
                label="quarantined share (%)",
            )
            self._alarm(
                f"{_pascal(dataset)}Quarantine",
                metric=share,
                threshold=QUARANTINE_SHARE_PERCENT,
                description=f"curation quarantined more than {QUARANTINE_SHARE_PERCENT}% of "
                f"the {dataset} records it read (at least {QUARANTINE_MIN_RECORDS}); the "
                "quarantine table has each record with its reason.",
            )
            widgets.append(self._graph(dataset, [read, quarantined], width=6))
        return widgets

    def _pipeline(self, state_machine: sfn.IStateMachine) -> list[cloudwatch.IWidget]:
        def count(metric: cloudwatch.Metric, label: str) -> cloudwatch.Metric:
            return metric.with_(period=PERIOD, statistic=cloudwatch.Stats.SUM, label=label)

        failed = count(state_machine.metric_failed(), "failed")
        timed_out = count(state_machine.metric_timed_out(), "timed out")
        self._alarm(
            "PipelineFailed",
            metric=cloudwatch.MathExpression(
                expression="FILL(failed, 0) + FILL(timedOut, 0)",
                using_metrics={"failed": failed, "timedOut": timed_out},
                period=PERIOD,
                label="failed or timed out",
            ),
            description="a pipeline execution failed or timed out; the previous model "
            "versions keep serving. See the execution in the Step Functions console.",
        )
        executions = [
            count(state_machine.metric_started(), "started"),
            count(state_machine.metric_succeeded(), "succeeded"),
            failed,
            timed_out,
            count(state_machine.metric_aborted(), "aborted"),
        ]
        duration = state_machine.metric_time(
            period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label="execution time (ms)"
        )
        return [
            self._header("Pipeline (Step Functions)"),
            self._graph("Pipeline: executions", executions, width=12),
            self._graph("Pipeline: execution time (ms)", [duration], width=12),
        ]

    def _api(self, api: Api) -> list[cloudwatch.IWidget]:
        stage = api.rest_api.deployment_stage
        latency = [
            stage.metric_latency(period=PERIOD, statistic=statistic, label=statistic)
            for statistic in ("p50", "p90", "p99")
        ]
        client_errors = stage.metric_client_error(
            period=PERIOD, statistic=cloudwatch.Stats.SUM, label="4XX"
        )
        server_errors = stage.metric_server_error(
            period=PERIOD, statistic=cloudwatch.Stats.SUM, label="5XX"
        )
        self._alarm(
            "ApiServerErrors",
            metric=server_errors,
            description="the API answered with a 5XX (a function failed or timed out, or an "
            "integration error); the stage's access log has each request's error.",
        )
        self._alarm(
            "ApiLatency",
            metric=latency[-1],
            threshold=API_P99_LATENCY_MS,
            evaluation_periods=API_LATENCY_EVALUATION_PERIODS,
            description=f"the API's p99 latency stayed above {API_P99_LATENCY_MS} ms for "
            f"{API_LATENCY_EVALUATION_PERIODS} periods of {PERIOD.to_minutes()} minutes.",
        )
        return [
            self._header("API (REST API stage)"),
            self._graph(
                "API: latency (ms)",
                latency,
                annotations=[
                    cloudwatch.HorizontalAnnotation(value=API_P99_LATENCY_MS, label="p99 alarm")
                ],
            ),
            self._graph("API: errors", [client_errors, server_errors]),
            self._graph(
                "API: requests",
                [stage.metric_count(period=PERIOD, statistic=cloudwatch.Stats.SUM)],
            ),
        ]

    def _serving_functions(
        self, functions: Mapping[str, lambda_.IFunction], counters: lambda_.IFunction
    ) -> list[cloudwatch.IWidget]:
        for unit, function in functions.items():
            self._function_alarms(f"{_pascal(unit)}Function", f"{unit} serving", function)
        lag = counters.metric(
            LAMBDA_ITERATOR_AGE, period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
        )
        return [
            self._header("Serving functions (API and live counters)"),
            *self._function_graphs("Serving functions", functions, width=6),
            self._graph("Live counters: clickstream iterator age (ms)", [lag], width=6),
        ]

    def _tables(self, tables: ServingTables) -> list[cloudwatch.IWidget]:
        graphs: list[cloudwatch.IMetric] = []
        for spec in TABLES:
            if spec.role not in tables.tables:
                continue
            table = tables.tables[spec.role]
            dimension_sets = [{"TableName": table.table_name}]
            dimension_sets += [
                {"TableName": table.table_name, "GlobalSecondaryIndexName": index.name}
                for index in spec.indexes
            ]
            throttles = {
                f"{spec.role}_{i}": cloudwatch.Metric(
                    namespace=DYNAMODB_NAMESPACE,
                    metric_name=name,
                    dimensions_map=dimensions,
                    statistic=cloudwatch.Stats.SUM,
                    period=PERIOD,
                )
                for i, (dimensions, name) in enumerate(
                    (d, n) for d in dimension_sets for n in DYNAMODB_THROTTLE_EVENTS
                )
            }
            total = cloudwatch.MathExpression(
                expression=" + ".join(f"FILL({id_}, 0)" for id_ in throttles),
                using_metrics=throttles,
                period=PERIOD,
                label=spec.role,
            )
            self._alarm(
                f"{_pascal(spec.role)}TableThrottles",
                metric=total,
                description=f"requests to the {spec.role} table (or its indexes) were "
                "throttled: on-demand capacity or a hot partition.",
            )
            graphs.append(total)
        return [
            self._header("Serving tables (DynamoDB)"),
            self._graph("Tables: read and write throttle events", graphs, width=_WIDTH),
        ]

    def _dead_letters(
        self, queues: Mapping[str, tuple[sqs.IQueue, cloudwatch.IAlarm]]
    ) -> list[cloudwatch.IWidget]:
        depths: list[cloudwatch.IMetric] = []
        for role, (queue, alarm) in queues.items():
            composite = cloudwatch.CompositeAlarm(
                self,
                f"{role}DeadLetters",
                alarm_rule=cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM),
                alarm_description=f"Export Intelligence ({self.settings.name}): messages wait "
                f"in the {role.lower()} dead-letter queue (the queue's own depth alarm, "
                "routed to this topic).",
            )
            composite.add_alarm_action(self._action)
            self.alarms[f"{role}DeadLetters"] = composite
            depths.append(
                queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=role
                )
            )
        return [
            self._header("Dead-letter queues"),
            self._graph("Messages waiting", depths, width=_WIDTH),
        ]
