"""The pipeline's scheduled starts: an EventBridge rule per `settings.pipeline_schedules` entry.

Apart from the state machine because it changes for other reasons (a new schedule, other
modes on a night) and reads on its own. The rules and their dead-letter queue are created in
the scope given (the `Pipeline` construct), not in a construct of their own: the construct
path makes the logical ids, and a new level would replace the deployed rules and queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from exportintel.settings import EnvironmentSettings
from infra.etl import pascal
from infra.nag import acknowledge
from infra.removal import data_removal_policy

# A scheduled start that EventBridge could not deliver is retried this long, then dead-lettered.
START_RETRIES = 3
START_MAX_AGE = Duration.hours(2)


@dataclass(frozen=True)
class PipelineSchedules:
    """The schedules' rules (by schedule name) and the queue of starts they could not deliver."""

    dead_letter_queue: sqs.Queue
    rules: dict[str, events.Rule]


def add_pipeline_schedules(
    scope: Construct,
    *,
    settings: EnvironmentSettings,
    state_machine: sfn.IStateMachine,
    key: kms.IKey,
) -> PipelineSchedules:
    """A rule per schedule starting `state_machine` with the schedule's modes, in `scope`."""
    dead_letter_queue = sqs.Queue(
        scope,
        "StartsDeadLetterQueue",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(settings.dead_letter_retention_days),
        removal_policy=data_removal_policy(settings),
    )
    acknowledge(
        dead_letter_queue,
        "AwsSolutions-SQS3",
        "This queue is itself the dead-letter queue of the pipeline's schedules (starts "
        "EventBridge could not deliver); operators read and replay them by hand.",
    )
    rules = {}
    for schedule in settings.pipeline_schedules:
        rules[schedule.name] = events.Rule(
            scope,
            f"{pascal(schedule.name)}Schedule",
            description=f"{schedule.description or schedule.name} "
            f"({schedule.cron.expression()}, UTC)",
            schedule=events.Schedule.expression(schedule.cron.expression()),
            targets=[
                targets.SfnStateMachine(
                    state_machine,
                    input=events.RuleTargetInput.from_object({"modes": dict(schedule.modes)}),
                    dead_letter_queue=dead_letter_queue,
                    retry_attempts=START_RETRIES,
                    max_event_age=START_MAX_AGE,
                )
            ],
        )
    return PipelineSchedules(dead_letter_queue=dead_letter_queue, rules=rules)
