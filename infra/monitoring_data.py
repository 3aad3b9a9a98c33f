"""The monitoring families of the data path: ingestion, collectors, Glue jobs, quarantine, pipeline.

Each function charts one family and adds its alarms (`infra.monitoring_common.Alarms`); the
metric names and thresholds each family reads are beside it, with the reasons for them.
`infra.monitoring` assembles the families into the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_stepfunctions as sfn

from exportintel.serving.functions import METRICS_NAMESPACE
from exportintel.settings import FirehoseBuffering
from glue_scripts.curate_dataset import DATASET_DIMENSION, QUARANTINED_RECORDS, RECORDS_READ
from infra.collectors import Collectors
from infra.etl import GLUE_METRICS_NAMESPACE, pascal
from infra.monitoring_common import PERIOD, Alarms, function_graphs, graph, header

# --- ingestion (Firehose) ------------------------------------------------------------------
FIREHOSE_NAMESPACE = "AWS/Firehose"
FIREHOSE_FRESHNESS = "DeliveryToS3.DataFreshness"
FIREHOSE_SUCCESS = "DeliveryToS3.Success"
FIREHOSE_RECORDS = "DeliveryToS3.Records"
FIREHOSE_INCOMING_RECORDS = "IncomingRecords"  # direct PUT
FIREHOSE_KINESIS_RECORDS = "DataReadFromKinesisStream.Records"  # a Kinesis stream as source
FIREHOSE_PARTITION_COUNT = "PartitionCount"
FIREHOSE_PARTITION_COUNT_EXCEEDED = "PartitionCountExceeded"
# Firehose flushes a buffer at the latest after its interval, and with dynamic partitioning
# up to 1.5 times the interval (multi-stage buffering, per AWS's buffering documentation).
# Records older than twice the interval mean deliveries are failing and being retried.
FRESHNESS_BOUND_FACTOR = 2
# Two periods in a row: one slow flush is not a fault, a delivery that stays late is.
FRESHNESS_EVALUATION_PERIODS = 2
# Firehose retries a failed S3 put itself; a success rate below 1 two periods in a row means
# the retries are failing too and records are heading for the error prefix.
SUCCESS_EVALUATION_PERIODS = 2

# --- Glue jobs -----------------------------------------------------------------------------
GLUE_ELAPSED_TIME = "glue.driver.aggregate.elapsedTime"  # ms; needs `--enable-metrics`
EVENTS_NAMESPACE = "AWS/Events"
EVENTS_TRIGGERED_RULES = "TriggeredRules"
# Glue's states of a run that ended without its work done ("Glue Job State Change" events).
GLUE_FAILED_STATES = ("FAILED", "TIMEOUT")

# --- quarantine ----------------------------------------------------------------------------
# The curation job's own metrics (namespace `METRICS_NAMESPACE`, dimension `Dataset`).
QUARANTINE_METRICS = (RECORDS_READ, QUARANTINED_RECORDS)
# Quarantined share of a dataset's records in an hour of runs, in percent. The generated data
# breaks 1% of records (`malformed_rate`) and real feeds about as few; five times that is a
# systematic fault (a provider changed a format, a producer broke), not scattered bad records.
QUARANTINE_SHARE_PERCENT = 5
# Below this many quarantined records a share says little (2 bad rows of a 30-row feed day).
QUARANTINE_MIN_RECORDS = 10
# Curation runs publish once at their end; an hour gathers a run (or a rerun) into one point.
QUARANTINE_PERIOD = Duration.hours(1)


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


def ingestion_section(
    alarms: Alarms,
    streams: Mapping[str, tuple[firehose.CfnDeliveryStream, FirehoseBuffering, bool]],
) -> list[cloudwatch.IWidget]:
    """`streams`: by role, the stream, its buffering and whether it partitions dynamically."""
    widgets: list[cloudwatch.IWidget] = [header("Ingestion (Firehose into raw)")]
    for role, (stream, buffering, partitioned) in streams.items():

        def metric(name: str, statistic: str, stream_name: str = stream.ref) -> cloudwatch.Metric:
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
        alarms.add(
            f"{role}DeliveryFreshness",
            metric=freshness,
            threshold=bound,
            evaluation_periods=FRESHNESS_EVALUATION_PERIODS,
            description=f"the {role.lower()} delivery stream holds records older than "
            f"{bound} s (twice its {buffering.interval_seconds} s buffering interval): "
            "deliveries to the raw bucket are failing or stuck. See the stream's "
            "S3Delivery error log.",
        )
        alarms.add(
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
            graph(
                f"{role}: data freshness (s)",
                [freshness],
                annotations=[cloudwatch.HorizontalAnnotation(value=bound, label="alarm")],
            ),
            graph(f"{role}: S3 delivery success", [success]),
            graph(f"{role}: records", volume),
        ]
    return widgets


def collectors_section(alarms: Alarms, collectors: Collectors) -> list[cloudwatch.IWidget]:
    for feed, function in collectors.functions.items():
        alarms.add_function_alarms(f"{pascal(feed)}Collector", f"{feed} collector", function)
    return [
        header("Collectors (scheduled feed Lambdas)"),
        *function_graphs("Collectors", collectors.functions),
    ]


def glue_jobs_section(
    alarms: Alarms, title: str, jobs: Mapping[str, glue.PySparkEtlJob]
) -> tuple[list[cloudwatch.IWidget], dict[str, GlueFailures]]:
    """The jobs' widgets, and their `GlueFailures` by job name (rules made in `alarms.scope`)."""
    durations: list[cloudwatch.IMetric] = []
    failures: list[cloudwatch.IMetric] = []
    counted: dict[str, GlueFailures] = {}
    for name, job in jobs.items():
        rule = events.Rule(
            alarms.scope,
            f"{pascal(name)}JobFailures",
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
        counted[name] = GlueFailures(rule=rule, metric=failed)
        alarms.add(
            f"{pascal(name)}JobFailed",
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
    widgets: list[cloudwatch.IWidget] = [
        header(title),
        graph(f"{title}: elapsed time of the running run (ms)", durations, width=12),
        graph(f"{title}: failed or timed-out runs", failures, width=12),
    ]
    return widgets, counted


def quarantine_section(alarms: Alarms, datasets: Sequence[str]) -> list[cloudwatch.IWidget]:
    widgets: list[cloudwatch.IWidget] = [
        header(
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
            expression=f"IF(quarantined >= {QUARANTINE_MIN_RECORDS}, 100 * quarantined / read, 0)",
            using_metrics={"quarantined": quarantined, "read": read},
            period=QUARANTINE_PERIOD,
            label="quarantined share (%)",
        )
        alarms.add(
            f"{pascal(dataset)}Quarantine",
            metric=share,
            threshold=QUARANTINE_SHARE_PERCENT,
            description=f"curation quarantined more than {QUARANTINE_SHARE_PERCENT}% of "
            f"the {dataset} records it read (at least {QUARANTINE_MIN_RECORDS}); the "
            "quarantine table has each record with its reason.",
        )
        widgets.append(graph(dataset, [read, quarantined], width=6))
    return widgets


def pipeline_section(alarms: Alarms, state_machine: sfn.IStateMachine) -> list[cloudwatch.IWidget]:
    def count(metric: cloudwatch.Metric, label: str) -> cloudwatch.Metric:
        return metric.with_(period=PERIOD, statistic=cloudwatch.Stats.SUM, label=label)

    failed = count(state_machine.metric_failed(), "failed")
    timed_out = count(state_machine.metric_timed_out(), "timed out")
    alarms.add(
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
        header("Pipeline (Step Functions)"),
        graph("Pipeline: executions", executions, width=12),
        graph("Pipeline: execution time (ms)", [duration], width=12),
    ]
