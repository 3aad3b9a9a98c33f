"""The SageMaker tasks of the pipeline: a training job, and processing jobs (scoring, loading).

Training uses CDK's `SageMakerCreateTrainingJob` in script mode: the XGBoost framework container
downloads `sagemaker_submit_directory` (the model's `sourcedir.tar.gz`), installs its
`requirements.txt` from the bundled wheels and runs `sagemaker_program` with the other
hyperparameters as `--name value` arguments.

CDK has no task for processing jobs, so they are `CustomState`s on the
`createProcessingJob.sync` integration. The same container and bundle: a `bash -c` entrypoint
unpacks the bundle, installs the wheels (no package index) and runs the script with the job's
arguments (`"$@"`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from exportintel.pipeline.local import model_module
from exportintel.pipeline.versions import model_prefix
from exportintel.settings import EnvironmentSettings
from infra.training import MODEL_TABLES, Training, table_prefix

PROCESSING = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING}/input/code"
MODEL_DIR = f"{PROCESSING}/input/model"
SCORES_DIR = f"{PROCESSING}/input/scores"
OUTPUT_DIR = f"{PROCESSING}/output"
# Unpack the bundle (the asset's only object, whatever its hashed name), install the bundled
# wheels without an index (jobs may run where no index is reachable), run the script.
ENTRYPOINT_SCRIPT = (
    "set -euo pipefail; mkdir -p /opt/ml/code && cd /opt/ml/code && "
    f"tar -xzf {CODE_DIR}/* && "
    "pip install --quiet --no-index --find-links wheels -r requirements.txt && "
    'exec python3 "$0" "$@"'
)
PROCESSING_JOB_SYNC = "arn:aws:states:::sagemaker:createProcessingJob.sync"
# CreateProcessingJob's limit on ProcessingInputs (the market scoring job uses all ten: the
# bundle, the model and its eight tables).
MAX_PROCESSING_INPUTS = 10


@dataclass(frozen=True)
class Path_:
    """A JSONPath into the state's input, as opposed to a literal argument."""

    path: str


class S3Uri(tasks.S3Location):
    """An `s3://bucket/prefix` location. `S3Location.from_bucket` renders an https URL and
    grants the job's role again; the roles of `infra.training` hold these grants already."""

    def __init__(self, bucket: s3.IBucket, prefix: str) -> None:
        super().__init__()
        self.uri = bucket.s3_url_for_object(prefix)

    def bind(
        self,
        task: Any,
        *,
        for_reading: bool | None = None,
        for_writing: bool | None = None,
    ) -> tasks.S3LocationConfig:
        return tasks.S3LocationConfig(uri=self.uri)


def arguments_dict(arguments: Sequence[str]) -> dict[str, str]:
    """`["--threshold", "0.75", ...]` as `{"threshold": "0.75"}` (hyperparameter names)."""
    if len(arguments) % 2 or not all(a.startswith("--") for a in arguments[::2]):
        raise ValueError(f"expected `--name value` pairs: {list(arguments)}")
    return {name[2:]: value for name, value in zip(arguments[::2], arguments[1::2], strict=True)}


def states_array(parts: Sequence[str | Path_]) -> str:
    """An ASL `States.Array(...)` of literals and paths (literals hold no quotes)."""
    items = []
    for part in parts:
        if isinstance(part, Path_):
            items.append(part.path)
        elif "'" in part or "\\" in part:
            raise ValueError(f"argument {part!r} holds a quote or backslash")
        else:
            items.append(f"'{part}'")
    return f"States.Array({', '.join(items)})"


def _instance(name: str) -> ec2.InstanceType:
    # The task adds the `ml.` prefix itself; settings name SageMaker's full type.
    return ec2.InstanceType(name.removeprefix("ml."))


def training_hyperparameters(
    model: str, settings: EnvironmentSettings, bundle_uri: str
) -> dict[str, str]:
    """Script mode's settings and the script's arguments (`<model>.local.training_arguments`
    and `settings.<model>_hyperparameters`)."""
    module = local_module(model)
    values = {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": bundle_uri,
        "sagemaker_region": settings.region,
        **arguments_dict(module.training_arguments(settings)),
    }
    if model == "matching":
        # One channel per table; the script reads each file name under the channels' root.
        values |= {
            "train": "/opt/ml/input/data",
            "interactions-file": "interactions",
            "exporters-file": "matching_exporters",
            "buyers-file": "matching_buyers",
        }
    return values | dict(extra_hyperparameters(model, settings))


def extra_hyperparameters(model: str, settings: EnvironmentSettings) -> tuple[tuple[str, str], ...]:
    """`settings.<model>_hyperparameters`: what an environment adds to a model's training."""
    extras = {
        "continuity": settings.continuity_hyperparameters,
        "matching": settings.matching_hyperparameters,
        "markets": settings.markets_hyperparameters,
    }
    if model not in extras:
        raise ValueError(f"no hyperparameters setting for model {model!r}")
    return extras[model]


def local_module(model: str) -> Any:
    """The model's `<package>.local` module: its jobs' arguments from the settings."""
    return model_module(model)


def _per_table(model: str, tables: tuple[str, ...], single: str) -> dict[str, str]:
    """Name -> curated table: continuity's one table under `single`; matching and markets one
    name per table, the table's own (the scripts find `SM_CHANNEL_<TABLE>` / `--<table>`)."""
    if model == "continuity":
        (features,) = tables
        return {single: features}
    if model in ("matching", "markets"):
        return {table: table for table in tables}
    raise ValueError(f"no channels or inputs for model {model!r}")


def training_channels(model: str) -> dict[str, str]:
    """Channel name -> curated table of a training job (continuity's is `train`)."""
    return _per_table(model, MODEL_TABLES[model].train, "train")


def scoring_inputs(model: str) -> dict[str, str]:
    """Input name -> curated table a scoring job reads besides its model. Each is downloaded
    to `/opt/ml/processing/input/<name>` and passed as `--<name>` (dashes for underscores):
    continuity's features as `--score`, the market model's tables as `--export-history`, ..."""
    return _per_table(model, MODEL_TABLES[model].score, "score")


def input_dir(name: str) -> str:
    """Where a processing job finds its input `name`."""
    return f"{PROCESSING}/input/{name}"


def input_flag(name: str) -> str:
    """The script argument that names the folder of input `name`."""
    return f"--{name.replace('_', '-')}"


def train_task(
    scope: Construct,
    id_: str,
    *,
    model: str,
    settings: EnvironmentSettings,
    training: Training,
    curated_bucket: s3.IBucket,
    artifacts_bucket: s3.IBucket,
    key: kms.IKey,
) -> tasks.SageMakerCreateTrainingJob:
    """The training job `<model>-<run id>`; its name becomes the model version."""
    channels = [
        tasks.Channel(
            channel_name=channel,
            data_source=tasks.DataSource(
                s3_data_source=tasks.S3DataSource(
                    s3_location=S3Uri(curated_bucket, table_prefix(table)),
                    s3_data_type=tasks.S3DataType.S3_PREFIX,
                    s3_data_distribution_type=tasks.S3DataDistributionType.FULLY_REPLICATED,
                )
            ),
            input_mode=tasks.InputMode.FILE,
        )
        for channel, table in training_channels(model).items()
    ]
    return tasks.SageMakerCreateTrainingJob(
        scope,
        id_,
        training_job_name=sfn.JsonPath.format(f"{model}-{{}}", sfn.JsonPath.string_at("$.run_id")),
        role=training.roles[model],
        algorithm_specification=tasks.AlgorithmSpecification(
            training_image=tasks.DockerImage.from_registry(training.image_uri),
            training_input_mode=tasks.InputMode.FILE,
        ),
        hyperparameters=training_hyperparameters(
            model, settings, training.bundles[model].s3_object_url
        ),
        input_data_config=channels,
        output_data_config=tasks.OutputDataConfig(
            s3_output_location=S3Uri(artifacts_bucket, f"{model_prefix(model)}/"),
            encryption_key=key,
        ),
        resource_config=tasks.ResourceConfig(
            instance_count=1,
            instance_type=_instance(settings.training_instance_type),
            volume_size=Size.gibibytes(settings.sagemaker_volume_gib),
            volume_encryption_key=key,
        ),
        stopping_condition=tasks.StoppingCondition(
            max_runtime=Duration.hours(settings.sagemaker_max_runtime_hours)
        ),
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        result_selector={
            "version": sfn.JsonPath.string_at("$.TrainingJobName"),
            "model_uri": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
        },
        result_path="$.training",
    )


def _s3_input(name: str, local_path: str, uri: str | Path_) -> dict[str, Any]:
    source = {"S3Uri.$": uri.path} if isinstance(uri, Path_) else {"S3Uri": uri}
    return {
        "InputName": name,
        "S3Input": {
            **source,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def processing_task(
    scope: Construct,
    id_: str,
    *,
    job: str,
    model: str,
    script: str,
    arguments: Sequence[str | Path_],
    inputs: Mapping[str, tuple[str, str | Path_]],
    output: str | Path_ | None,
    settings: EnvironmentSettings,
    training: Training,
    key: kms.IKey,
) -> sfn.CustomState:
    """A processing job `<model>-<job>-<run id>` running `script` of the model's bundle.

    `inputs`: name -> (local path, S3 URI or path to one); `output`: where `OUTPUT_DIR` goes.
    """
    if len(inputs) + 1 > MAX_PROCESSING_INPUTS:  # the bundle is an input too
        raise ValueError(
            f"{model}-{job}: {len(inputs) + 1} processing inputs; SageMaker takes at most "
            f"{MAX_PROCESSING_INPUTS}"
        )
    parameters: dict[str, Any] = {
        "ProcessingJobName.$": f"States.Format('{model}-{job}-{{}}', $.run_id)",
        "RoleArn": training.roles[model].role_arn,
        "AppSpecification": {
            "ImageUri": training.image_uri,
            "ContainerEntrypoint": ["bash", "-c", ENTRYPOINT_SCRIPT, script],
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": settings.scoring_instance_type,
                "VolumeSizeInGB": settings.sagemaker_volume_gib,
                "VolumeKmsKeyId": key.key_arn,
            }
        },
        "ProcessingInputs": [
            _s3_input("code", CODE_DIR, training.bundles[model].s3_object_url),
            *(_s3_input(name, path, uri) for name, (path, uri) in inputs.items()),
        ],
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.sagemaker_max_runtime_hours * 3600},
    }
    if any(isinstance(a, Path_) for a in arguments):
        parameters["AppSpecification"]["ContainerArguments.$"] = states_array(arguments)
    else:
        parameters["AppSpecification"]["ContainerArguments"] = list(arguments)
    if output is not None:
        destination = {"S3Uri.$": output.path} if isinstance(output, Path_) else {"S3Uri": output}
        parameters["ProcessingOutputConfig"] = {
            "KmsKeyId": key.key_arn,
            "Outputs": [
                {
                    "OutputName": "output",
                    "S3Output": {
                        **destination,
                        "LocalPath": OUTPUT_DIR,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
        }
    return sfn.CustomState(
        scope,
        id_,
        state_json={
            "Type": "Task",
            "Resource": PROCESSING_JOB_SYNC,
            "Parameters": parameters,
            "ResultPath": None,
        },
    )
