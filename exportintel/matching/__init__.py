"""Exporter-buyer matching: the model's inputs, the recommender and its serving.

- `interactions`: pair interactions weighted by the behaviour scoring of events (web events
  and match history, both sides), as pure functions and as a Spark function applying the same
  rule at scale, and the time decay applied at training time;
- `sides`: one row of side features per exporter and per buyer, as of a date (Spark).

Nothing is imported here: the Lambdas and the training scripts import the modules they need
(`interactions` imports neither PySpark nor numpy until a function needs them; `sides` is
Spark through and through).
"""
