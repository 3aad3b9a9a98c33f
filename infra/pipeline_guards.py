"""What every task of the pipeline gets: retries of transient errors, an alert for the rest.

A task retries transient service errors (backoff, full jitter) and catches everything else:
`Notify<State>Error` publishes the step, error and cause to the alerts topic, then
`<State>Error` fails the run. Kept apart from the step builders (`infra.pipeline_graph`) so
that the error policy reads in one place and stays the same for Glue, Lambda and SageMaker.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# Errors worth another try: the service was busy or failed on its side. Anything else (a
# failed job, a refused mode, a missing model) would fail again, so it goes to the alert.
TRANSIENT = {
    "lambda": (
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ),
    "glue": (
        "Glue.ConcurrentRunsExceededException",
        "Glue.ThrottlingException",
        "Glue.InternalServiceException",
        "Glue.OperationTimeoutException",
    ),
    "sagemaker": ("SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"),
    "sns": ("SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"),
}


@dataclass(frozen=True)
class TaskGuard:
    """Retries and the alert path of the tasks of one state machine.

    The alert states are created in `scope`, the construct that holds the tasks: state names
    come from construct ids, which must stay unique within the state machine.
    """

    scope: Construct
    alerts_topic: sns.ITopic
    environment: str

    def __call__(self, task: sfn.TaskStateBase | sfn.CustomState, service: str) -> None:
        """Retry transient errors; send the rest to an alert and a failed run."""
        name = task.state_id
        task.add_retry(
            errors=list(TRANSIENT[service]),
            interval=Duration.seconds(30 if service in ("glue", "sagemaker") else 2),
            max_attempts=4,
            backoff_rate=2.0,
            max_delay=Duration.minutes(5),
            jitter_strategy=sfn.JitterType.FULL,
        )
        fail = sfn.Fail(
            self.scope, f"{name}Error", error=f"{name}Failed", cause_path="$.error.Cause"
        )
        notify = self.notify(
            f"Notify{name}Error",
            subject=f"Pipeline step {name} failed ({self.environment})",
            message={
                "step": name,
                "run_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                "error": sfn.JsonPath.string_at("$.error.Error"),
                "cause": sfn.JsonPath.string_at("$.error.Cause"),
            },
            fail=fail,
        )
        task.add_catch(notify.next(fail), errors=[sfn.Errors.ALL], result_path="$.error")

    def notify(
        self, id_: str, *, subject: str, message: dict[str, object], fail: sfn.Fail
    ) -> tasks.SnsPublish:
        """Publish `message` to the alerts topic; if that fails too, go to `fail` all the same."""
        publish = tasks.SnsPublish(
            self.scope,
            id_,
            topic=self.alerts_topic,
            subject=subject[:99],
            message=sfn.TaskInput.from_object(message),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(
            errors=list(TRANSIENT["sns"]),
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2.0,
            jitter_strategy=sfn.JitterType.FULL,
        )
        # An alert that cannot be sent must not hide the failure it reports: fail anyway.
        publish.add_catch(fail, errors=[sfn.Errors.ALL], result_path="$.notify_error")
        return publish
