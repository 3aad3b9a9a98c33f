"""What the SageMaker script-mode contract asks of every job: paths from `SM_*`, failures
reported where SageMaker looks for them.

Read at call time, never at import: the same scripts run in SageMaker (the toolkit sets the
variables), locally in a subprocess with the variables pointing at folders, and in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def sm_path(variable: str, fallback: str) -> str:
    """The path SageMaker gives in `variable`, or its standard location in the container."""
    return os.environ.get(variable) or fallback


def training_paths(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """`--train`, `--model-dir`, `--output-data-dir` of a training job, defaulting to the
    SageMaker environment; the group is returned for the job's own file names."""
    paths = parser.add_argument_group("paths (default: the SageMaker environment)")
    paths.add_argument("--train", default=sm_path("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    paths.add_argument("--model-dir", default=sm_path("SM_MODEL_DIR", "/opt/ml/model"))
    paths.add_argument(
        "--output-data-dir", default=sm_path("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    )
    return paths


def scoring_paths(
    parser: argparse.ArgumentParser, channels: Sequence[str] = ()
) -> argparse._ArgumentGroup:
    """`--<channel>` per data channel, `--model-dir` (the `model` channel: a training job's
    model folder or its model.tar.gz) and `--output-dir` of a scoring job."""
    paths = parser.add_argument_group("paths (default: the SageMaker environment)")
    for channel in channels:
        paths.add_argument(
            f"--{channel}",
            default=sm_path(f"SM_CHANNEL_{channel.upper()}", f"/opt/ml/input/data/{channel}"),
        )
    paths.add_argument(
        "--model-dir", default=sm_path("SM_CHANNEL_MODEL", "/opt/ml/input/data/model")
    )
    paths.add_argument("--output-dir", default=sm_path("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    return paths


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)


def report_failure(message: str) -> None:
    """On stderr, and in `<SM_OUTPUT_DIR>/failure`, which SageMaker shows as the job's
    FailureReason (first 1024 characters)."""
    print(f"error: {message}", file=sys.stderr)
    output = Path(sm_path("SM_OUTPUT_DIR", "/opt/ml/output"))
    if output.is_dir():
        # The message is on stderr already; a read-only folder must not hide it.
        with contextlib.suppress(OSError):
            (output / "failure").write_text(message[:1024] + "\n", encoding="utf-8")


def run_script(
    job: Callable[[argparse.Namespace], object],
    parse_args: Callable[[Sequence[str] | None], argparse.Namespace],
    argv: Sequence[str] | None,
) -> int:
    """A script's `main`: logging on, arguments parsed, the job run; bad data becomes the
    job's failure reason and exit code 1 (argparse exits 2 on bad arguments by itself)."""
    from exportintel.models.tabular import DataError

    configure_logging()
    args = parse_args(argv)
    try:
        job(args)
    except DataError as error:
        report_failure(str(error))
        return 1
    return 0


def exit_process(code: int) -> NoReturn:
    """End a script with `code`, its output flushed, without the interpreter's teardown.

    Arrow's Parquet scan threads can still be winding down when a job fails right after reading
    its channel; tearing them down at interpreter exit then aborts the process (SIGABRT, "terminate
    called without an active exception", apache/arrow#39862), and SageMaker would see a crash
    instead of the job's own exit code and failure reason. Everything a job writes is closed
    before `main` returns, so skipping the teardown loses nothing."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
