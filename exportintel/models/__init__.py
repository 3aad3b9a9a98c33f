"""Generic binary models over firm-year tables: any numeric or categorical feature columns.

The SageMaker jobs under `sagemaker_jobs/` are thin script-mode wrappers over these modules:

- `tabular`: which columns are features and of which kind, one cleaning for training and
  scoring, and the split of labelled years into train, validation and held-out test years;
- `estimators`: logistic regression (a scikit-learn pipeline) and gradient-boosted trees
  (xgboost), their calibration, per-feature contributions, saving and loading;
- `metrics`: AUC, KS, Brier score and calibration error with firm-clustered bootstrap intervals;
- `training`: fit both models, pick one on the validation years, evaluate on the test years;
- `scoring`: the index, the risk group and the reason codes for every firm-year;
- `reasons`: the Korean/English reason-code catalogue.

Nothing is imported here: numpy, pandas, scikit-learn and xgboost load only when a job needs
them (the Lambdas and the CLI import the core package without those).
"""
