"""SageMaker processing job: load a market scoring run into the market_suggestions table and
the DynamoDB markets table (the pipeline's load step; see exportintel/pipeline/load_job.py).

Arguments: --scores (the version's scores/ prefix, downloaded by the job), --model-version,
--run-id, --environment (dev or prod settings), --curated-bucket, --artifacts-bucket,
--firms-table, --matches-table, --continuity-table, --markets-table. Failures: message on
stderr and in SM_OUTPUT_DIR/failure, exit code 1.
"""

from __future__ import annotations

import sys

from exportintel.models.jobenv import exit_process
from exportintel.pipeline.load_job import main

if __name__ == "__main__":
    exit_process(main("markets", sys.argv[1:]))
