"""`exportintel pipeline run` (the step graph on the emulation), `pipeline steps`, and
`exportintel versions list|rollback <model>` (which model version serves)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exportintel.cli import target
from exportintel.pipeline.graph import MODELS, MODES


def render_step(result: Any) -> str:
    """One line per step, as the run goes."""
    mark = {"done": "ok  ", "skipped": "-   ", "failed": "FAIL"}[result.status]
    took = f"{result.seconds:7.1f} s" if result.status != "skipped" else " " * 9
    first = result.detail.splitlines()[0] if result.detail else ""
    return f"{mark} {result.step.name:<34}{took}  {first}"


def _run(args: argparse.Namespace) -> int:
    from exportintel.local.session import bring_up
    from exportintel.local.state import load_or_create_key
    from exportintel.pipeline.local import LocalPipeline

    state = target.state_dir()
    emulation = bring_up(state, point_boto3=True)
    workdir = Path(args.workdir) if args.workdir else state / "work"
    pipeline = LocalPipeline(
        emulation.aws,
        workdir,
        load_or_create_key(state),
        on_step=lambda r: print(render_step(r), flush=True),
    )
    modes = {model: getattr(args, model) for model in MODELS}
    print(f"modes: {', '.join(f'{m} {mode}' for m, mode in modes.items())}", flush=True)
    run = pipeline.run(modes)
    if not run.ok:
        print(f"\nthe pipeline stopped: {run.failure}", file=sys.stderr)
        print("the alert went to the pipeline-alerts topic; the serving models did not change")
        return 1
    print(f"\nrun {run.run_id} done")
    return 0


def _steps(args: argparse.Namespace) -> int:
    from exportintel.pipeline.graph import steps

    for step in steps():
        modes = "/".join(sorted(step.runs_when))
        when = "always" if step.model is None else f"{step.model}: {modes}"
        print(f"{step.name:<34} {when}")
    return 0


def _artifacts(args: argparse.Namespace) -> tuple[Any, str]:
    import boto3

    resources = target.resolve(args.stack_outputs)
    return boto3.client("s3"), resources.artifacts_bucket


def _list(args: argparse.Namespace) -> int:
    from exportintel.pipeline import versions

    s3, bucket = _artifacts(args)
    current = versions.current(s3, bucket, args.model)
    print(f"serving: {current['model_version'] if current else 'nothing yet'}")
    for record in versions.promotions(s3, bucket, args.model):
        print(f"{record['promoted_at']}  {record['model_version']:<34} {record['reason']}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from exportintel.pipeline import versions

    s3, bucket = _artifacts(args)
    try:
        record = versions.rollback(s3, bucket, args.model)
    except versions.NoVersion as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{args.model} {record['model_version']} is current again ({record['reason']})")
    if args.stack_outputs:
        print("re-score to serve it: start the pipeline's state machine with the input "
              f"'{{\"modes\": {{\"{args.model}\": \"score\"}}}}'")  # fmt: skip
    else:
        others = " ".join(f"--{model} skip" for model in MODELS if model != args.model)
        print(f"re-score to serve it: exportintel pipeline run --{args.model} score {others}")
    return 0


def register(commands: Any) -> None:
    pipeline = commands.add_parser("pipeline", help="the ML pipeline's step graph on the emulation")
    actions = pipeline.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="run the step graph (curate, derive, train, gate, ...)")
    for model in MODELS:
        run.add_argument(
            f"--{model}", choices=MODES, default="train", help=f"what to do with {model}"
        )
    run.add_argument("--workdir", help="local staging folder (default: .local/work)")
    run.set_defaults(run=_run)
    listed = actions.add_parser("steps", help="the steps in order, and when each runs")
    listed.set_defaults(run=_steps)

    versions = commands.add_parser("versions", help="model versions: which serves, roll-back")
    verbs = versions.add_subparsers(dest="action", required=True)
    for name, run_it, text in (
        ("list", _list, "the serving version and every promotion"),
        ("rollback", _rollback, "make the previous version current again"),
    ):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("model", choices=MODELS)
        verb.add_argument(
            "--stack-outputs", help="`cdk deploy --outputs-file` of a stage (default: local)"
        )
        verb.set_defaults(run=run_it)
