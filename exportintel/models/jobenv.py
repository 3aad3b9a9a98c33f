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

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def sm_path(variable: str, fallback: str) -> str:
    """The path SageMaker gives in `variable`, or its standard location in the container."""
    return os.environ.get(variable) or fallback


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
