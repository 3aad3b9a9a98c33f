"""The synthetic data generator: every contract dataset, realistic and reproducible per seed.

    from exportintel.generate import generate
    summary = generate(scale="small", seed=7, out=Path("data/generated"))
    print(summary.render())

Writes `OUT/<dataset>/<dataset>-00000.jsonl` for each contract, `OUT/manifest.json` and the
hidden truth under `OUT/ground_truth/` (see docs/ground-truth.md).
"""

from exportintel.generate.common import SCALES, TODAY, Scale
from exportintel.generate.run import GenerateSummary, generate, is_current
from exportintel.generate.writer import DatasetSummary

__all__ = [
    "SCALES",
    "TODAY",
    "DatasetSummary",
    "GenerateSummary",
    "Scale",
    "generate",
    "is_current",
]
