"""What every family of `infra.monitoring` builds with: the alarm factory and the widget shapes.

One place for the alarm policy (the description's prefix, missing data not breaching, the
topic as the action) and the dashboard's grid, so the families (`infra.monitoring_data`,
`infra.monitoring_serving`) hold only what they watch and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

# The period most alarms evaluate: the resolution of the services' standard metrics.
PERIOD = Duration.minutes(5)
WIDTH = 24  # the dashboard's grid width


class Alarms:
    """The alarms of one dashboard, each notifying `topic` when it goes into ALARM.

    They are created in `scope` (the `Monitoring` construct) under the ids given: the construct
    path makes the logical ids, so the families add no level of their own. `by_id` keeps them
    in creation order for the dashboard's alarm status widget.
    """

    def __init__(self, scope: Construct, *, environment: str, topic: sns.ITopic) -> None:
        self.scope = scope
        self.environment = environment
        self.by_id: dict[str, cloudwatch.AlarmBase] = {}
        self._action = cloudwatch_actions.SnsAction(topic)

    def _describe(self, description: str) -> str:
        return f"Export Intelligence ({self.environment}): {description}"

    def add(
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
        """An alarm on `metric` (by default: above 0 in one period)."""
        alarm = cloudwatch.Alarm(
            self.scope,
            id_,
            metric=metric,
            alarm_description=self._describe(description),
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            # See `infra.monitoring`: these metrics are silent when nothing happens.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.by_id[id_] = alarm
        return alarm

    def add_composite(
        self, id_: str, *, alarm_rule: cloudwatch.IAlarmRule, description: str
    ) -> cloudwatch.CompositeAlarm:
        """A composite alarm over alarms that exist elsewhere, to route them to the topic."""
        composite = cloudwatch.CompositeAlarm(
            self.scope,
            id_,
            alarm_rule=alarm_rule,
            alarm_description=self._describe(description),
        )
        composite.add_alarm_action(self._action)
        self.by_id[id_] = composite
        return composite

    def add_function_alarms(self, id_: str, name: str, function: lambda_.IFunction) -> None:
        """Errors and throttles of one Lambda function (`<id_>Errors`, `<id_>Throttles`)."""
        self.add(
            f"{id_}Errors",
            metric=function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            description=f"the {name} function failed; see its log group.",
        )
        self.add(
            f"{id_}Throttles",
            metric=function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            description=f"the {name} function was throttled (concurrency exhausted).",
        )


def header(text: str) -> cloudwatch.TextWidget:
    """A section's title across the dashboard."""
    return cloudwatch.TextWidget(markdown=f"## {text}", width=WIDTH, height=1)


def graph(
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


def function_graphs(
    what: str, functions: Mapping[str, lambda_.IFunction], *, width: int = 8
) -> list[cloudwatch.IWidget]:
    """Errors, throttles and invocations of `functions`, one line per function."""

    def each(metric: str) -> list[cloudwatch.IMetric]:
        return [
            function.metric(metric, period=PERIOD, statistic=cloudwatch.Stats.SUM, label=name)
            for name, function in functions.items()
        ]

    return [
        graph(f"{what}: {metric.lower()}", each(metric), width=width)
        for metric in ("Errors", "Throttles", "Invocations")
    ]
