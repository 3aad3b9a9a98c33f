"""The export continuity index: export status, the target, the features and their screening.

- `status`: the three-year rule (continuing, discontinued, pending) and the novice flag, as a
  pure function and as a Spark function that applies the very same rule at scale;
- `target`: the label the index predicts, stated once;
- `features`: leak-free firm-year features at the end of a year, over the curated tables;
- `screening`: the Pearson screening report of the feature table;
- `tables`: reading curated tables and writing derived ones as their contracts declare;
- `derive`: the bodies of the status and feature Glue jobs;
- `index`: the `continuity_index` table from the scoring job's rows;
- `groups`, `report`: the risk group against continuing firms, and the HTML report;
- `local`: derive, train, score and report on the local emulation.

Nothing is imported here: `status` and `target` work without Spark (the API labels one firm),
the Spark functions import PySpark only when called.
"""
