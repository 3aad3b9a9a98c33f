"""Exporter-buyer matching: the model's inputs, the recommender and its serving.

- `interactions`: pair interactions weighted by the behaviour scoring of events (web events
  and match history, both sides), as pure functions and as a Spark function applying the same
  rule at scale, and the time decay applied at training time;
- `sides`: one row of side features per exporter and per buyer, as of a date (Spark);
- `derive`: the matching-inputs Glue job's body;
- `data`: reading and checking a training channel; `collaborative`: ALS candidates;
  `content`: content candidates and pair fits; `features`: snapshots and pair features;
  `ranker`, `reciprocal`: the two-sided LambdaMART rankers; `exploration`: Gumbel top-k;
  `reasons`: reason codes in Korean and English; `training`, `scoring`, `evaluation`: the
  jobs' protocol and the held-out comparison with the baselines.

Nothing is imported here: the Lambdas and the training scripts import the modules they need
(`interactions` imports neither PySpark nor numpy until a function needs them; `sides` is
Spark through and through).
"""
