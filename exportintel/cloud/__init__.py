"""What acts on AWS itself rather than on the local emulation: training on SageMaker
(`exportintel.cloud.sagemaker_train`, with the optional `[sagemaker]` extra)."""
