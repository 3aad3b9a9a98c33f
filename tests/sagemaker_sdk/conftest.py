"""The SageMaker SDK's environment (`make test-sagemaker`): moto stands in for AWS.

Fake credentials and a region are set before any client is made; every test runs inside
`mock_aws`, with the platform's two buckets created.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="ap-northeast-2",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from moto import mock_aws

from exportintel.cloud.sagemaker_train import SageMakerTarget, xgboost_image_uri

REGION = "ap-northeast-2"
ROLE_ARN = "arn:aws:iam::123456789012:role/ContinuityJobs"
BUNDLE_URI = "s3://exportintel-dev-artifacts/code/continuity/0123456789abcdef/sourcedir.tar.gz"


@pytest.fixture
def aws() -> Iterator[Any]:
    import boto3

    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        s3 = session.client("s3")
        for bucket in ("exportintel-dev-artifacts", "exportintel-dev-curated"):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        yield session


@pytest.fixture
def target() -> SageMakerTarget:
    return SageMakerTarget(
        region=REGION,
        artifacts_bucket="exportintel-dev-artifacts",
        curated_bucket="exportintel-dev-curated",
        role_arn=ROLE_ARN,
        image_uri=xgboost_image_uri(REGION),
        bundle_uri=BUNDLE_URI,
    )
