"""`exportintel train <model> --on sagemaker`: the training job in AWS, not on this machine.

The deployed platform stack says where things are: its outputs (`cdk deploy --outputs-file`,
or the stack read through CloudFormation) give the buckets, the model's SageMaker role and the
deployed source bundle. Without a deployed bundle (or with `--fresh-bundle`), the bundle is
built from this checkout and uploaded. Waiting, the command judges the job's metrics at the
quality gate and makes the version current if it passed; `--no-wait` returns once the job
has started. Real AWS credentials apply. Needs the `[sagemaker]` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from exportintel.settings import ENVIRONMENTS

INSTALL_HINT = "pip install '.[sagemaker]'"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The options of `train --on sagemaker` (ignored when training locally)."""
    group = command.add_argument_group("--on sagemaker")
    group.add_argument(
        "--environment", choices=sorted(ENVIRONMENTS), default="dev",
        help="settings of the deployed environment (instance type, hyperparameters, gate)",
    )  # fmt: skip
    where = group.add_mutually_exclusive_group()
    where.add_argument("--stack-outputs", help="`cdk deploy --outputs-file` JSON")
    where.add_argument("--stack", help="the deployed platform stack's name (e.g. Dev-Platform)")
    group.add_argument("--bundle-uri", help="s3:// URI of a sourcedir.tar.gz to run instead")
    group.add_argument(
        "--fresh-bundle", action="store_true",
        help="build the source bundle from this checkout and upload it",
    )  # fmt: skip
    group.add_argument(
        "--no-wait", dest="wait", action="store_false",
        help="return once the job has started (no gate, no promotion)",
    )  # fmt: skip


def stack_outputs(args: argparse.Namespace, region: str) -> dict[str, str]:
    """{output key: value} from the outputs file, or from the stack through CloudFormation."""
    if args.stack_outputs:
        stacks = json.loads(Path(args.stack_outputs).read_text(encoding="utf-8"))
        return {k: v for stack in stacks.values() for k, v in stack.items()}
    if not args.stack:
        raise SystemExit("give --stack-outputs (cdk deploy --outputs-file) or --stack NAME")
    import boto3

    cloudformation = boto3.session.Session(region_name=region).client("cloudformation")
    [stack] = cloudformation.describe_stacks(StackName=args.stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def render(run: Any) -> str:
    lines = [f"{run.model} {run.version}: {run.status}"]
    if run.console_url:
        lines.append(f"job: {run.console_url}")
    if run.failure_reason:
        lines.append(f"failure: {run.failure_reason}")
    if run.verdict is not None:
        word = "passed" if run.passed else "FAILED"
        lines.append(f"quality gate {word}" + "".join(f"\n  {f}" for f in run.verdict["failures"]))
        lines.append(
            f"{run.version} is now current: {run.model_uri}"
            if run.promoted
            else "the version serving before keeps serving"
        )
    return "\n".join(lines)


def train_remote(args: argparse.Namespace) -> int:
    """`args`: `model` and the options of `add_arguments`. 0 when the job started (`--no-wait`)
    or passed the gate, 1 when it failed or did not pass, 2 when it could not start."""
    try:
        import sagemaker.core  # noqa: F401  (the SDK the job is created with)
    except ImportError:
        print(f"training on SageMaker needs the SageMaker SDK: {INSTALL_HINT}", file=sys.stderr)
        return 2
    from exportintel.cloud.sagemaker_train import SageMakerTarget, train_on_sagemaker

    settings = ENVIRONMENTS[args.environment]
    try:
        target = SageMakerTarget.from_stack_outputs(
            stack_outputs(args, settings.region),
            model=args.model,
            region=settings.region,
            bundle_uri=args.bundle_uri,
        )
    except KeyError as error:
        print(f"{error.args[0]}: is the platform stack deployed?", file=sys.stderr)
        return 2
    if args.fresh_bundle:
        target = SageMakerTarget(**{**target.__dict__, "bundle_uri": None})
    if target.bundle_uri is None:
        print(f"building the {args.model} source bundle from this checkout", flush=True)
    run = train_on_sagemaker(args.model, settings=settings, target=target, wait=args.wait)
    print(render(run))
    if not args.wait:
        return 0
    return 0 if run.status == "Completed" and run.promoted else 1
