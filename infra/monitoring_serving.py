"""The monitoring families of the serving side: API, serving functions, tables, dead letters.

Each function charts one family and adds its alarms (`infra.monitoring_common.Alarms`); the
metric names and thresholds each family reads are beside it, with the reasons for them.
`infra.monitoring` assembles the families into the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from exportintel.serving.tables import TABLES
from infra.api import Api
from infra.etl import pascal
from infra.monitoring_common import PERIOD, WIDTH, Alarms, function_graphs, graph, header
from infra.serving_tables import ServingTables

# p99 latency of the API, in ms. Measured locally the matches route's p99 is about 3 s with
# moto in the path (README, API benchmark); 5 s sustained means calls approach the functions'
# timeout (`api_timeout_seconds`), while a lone cold start stays below it.
API_P99_LATENCY_MS = 5_000
API_LATENCY_EVALUATION_PERIODS = 3
LAMBDA_ITERATOR_AGE = "IteratorAge"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
DYNAMODB_THROTTLE_EVENTS = ("ReadThrottleEvents", "WriteThrottleEvents")


def api_section(alarms: Alarms, api: Api) -> list[cloudwatch.IWidget]:
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
    alarms.add(
        "ApiServerErrors",
        metric=server_errors,
        description="the API answered with a 5XX (a function failed or timed out, or an "
        "integration error); the stage's access log has each request's error.",
    )
    alarms.add(
        "ApiLatency",
        metric=latency[-1],
        threshold=API_P99_LATENCY_MS,
        evaluation_periods=API_LATENCY_EVALUATION_PERIODS,
        description=f"the API's p99 latency stayed above {API_P99_LATENCY_MS} ms for "
        f"{API_LATENCY_EVALUATION_PERIODS} periods of {PERIOD.to_minutes()} minutes.",
    )
    return [
        header("API (REST API stage)"),
        graph(
            "API: latency (ms)",
            latency,
            annotations=[
                cloudwatch.HorizontalAnnotation(value=API_P99_LATENCY_MS, label="p99 alarm")
            ],
        ),
        graph("API: errors", [client_errors, server_errors]),
        graph(
            "API: requests",
            [stage.metric_count(period=PERIOD, statistic=cloudwatch.Stats.SUM)],
        ),
    ]


def serving_functions_section(
    alarms: Alarms, functions: Mapping[str, lambda_.IFunction], counters: lambda_.IFunction
) -> list[cloudwatch.IWidget]:
    for unit, function in functions.items():
        alarms.add_function_alarms(f"{pascal(unit)}Function", f"{unit} serving", function)
    lag = counters.metric(LAMBDA_ITERATOR_AGE, period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM)
    return [
        header("Serving functions (API and live counters)"),
        *function_graphs("Serving functions", functions, width=6),
        graph("Live counters: clickstream iterator age (ms)", [lag], width=6),
    ]


def tables_section(alarms: Alarms, tables: ServingTables) -> list[cloudwatch.IWidget]:
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
        alarms.add(
            f"{pascal(spec.role)}TableThrottles",
            metric=total,
            description=f"requests to the {spec.role} table (or its indexes) were "
            "throttled: on-demand capacity or a hot partition.",
        )
        graphs.append(total)
    return [
        header("Serving tables (DynamoDB)"),
        graph("Tables: read and write throttle events", graphs, width=WIDTH),
    ]


def dead_letters_section(
    alarms: Alarms, queues: Mapping[str, tuple[sqs.IQueue, cloudwatch.IAlarm]]
) -> list[cloudwatch.IWidget]:
    """A composite alarm per queue over the queue's own depth alarm (see `infra.monitoring`)."""
    depths: list[cloudwatch.IMetric] = []
    for role, (queue, alarm) in queues.items():
        alarms.add_composite(
            f"{role}DeadLetters",
            alarm_rule=cloudwatch.AlarmRule.from_alarm(alarm, cloudwatch.AlarmState.ALARM),
            description=f"messages wait in the {role.lower()} dead-letter queue (the queue's "
            "own depth alarm, routed to this topic).",
        )
        depths.append(
            queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label=role
            )
        )
    return [
        header("Dead-letter queues"),
        graph("Messages waiting", depths, width=WIDTH),
    ]
