"""The data lake unit: key, zone buckets, access logs, lifecycle and removal per environment."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from exportintel.resources import ZONES
from exportintel.settings import DEV, PROD, EnvironmentSettings
from infra.platform_stack import PlatformStack
from tests.infra.support import get_att_arn, logical_id, of_type, properties, resource


def _zone_bucket_ids(stack: PlatformStack) -> dict[str, str]:
    return {
        zone: logical_id(stack, bucket) for zone, bucket in stack.data_lake.zone_buckets.items()
    }


def _lifecycle_rules(template: Template, bucket_id: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = properties(template, bucket_id)["LifecycleConfiguration"]["Rules"]
    return rules


def test_the_key_is_customer_managed_rotated_and_has_no_alias(dev_template: Template) -> None:
    dev_template.resource_count_is("AWS::KMS::Key", 1)
    dev_template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    # Aliases are physical names; environments share an account.
    dev_template.resource_count_is("AWS::KMS::Alias", 0)


def test_every_zone_bucket_is_encrypted_with_the_lake_key_and_bucket_keys(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    key_id = logical_id(dev_stack, dev_stack.data_lake.key)
    assert set(dev_stack.data_lake.zone_buckets) == set(ZONES)
    for zone, bucket_id in _zone_bucket_ids(dev_stack).items():
        encryption = properties(dev_template, bucket_id)["BucketEncryption"]
        assert encryption["ServerSideEncryptionConfiguration"] == [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": get_att_arn(key_id),
                },
            }
        ], zone


def test_access_logs_bucket_uses_s3_managed_keys_and_no_acls(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    # S3 server access logging cannot deliver to an SSE-KMS bucket.
    props = properties(dev_template, logical_id(dev_stack, dev_stack.data_lake.access_logs_bucket))
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "LoggingConfiguration" not in props
    assert _lifecycle_rules(
        dev_template, logical_id(dev_stack, dev_stack.data_lake.access_logs_bucket)
    )[0]["ExpirationInDays"] == (DEV.access_log_retention_days)


def test_all_buckets_block_public_access_and_are_versioned(dev_template: Template) -> None:
    buckets = of_type(dev_template, "AWS::S3::Bucket")
    assert len(buckets) == len(ZONES) + 1  # plus the access-logs bucket
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, bucket_id
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, bucket_id


def test_every_bucket_policy_denies_requests_without_tls(dev_template: Template) -> None:
    buckets = of_type(dev_template, "AWS::S3::Bucket")
    policies = of_type(dev_template, "AWS::S3::BucketPolicy")
    protected = set()
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Principal"] == {"AWS": "*"}
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ):
            protected.add(policy["Properties"]["Bucket"]["Ref"])
    assert protected == set(buckets)


def test_zone_buckets_send_access_logs_to_the_access_logs_bucket(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    logs_id = logical_id(dev_stack, dev_stack.data_lake.access_logs_bucket)
    prefixes = set()
    for zone, bucket_id in _zone_bucket_ids(dev_stack).items():
        logging = properties(dev_template, bucket_id)["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": logs_id}, zone
        prefixes.add(logging["LogFilePrefix"])
    assert len(prefixes) == len(ZONES)  # one prefix per zone, no mixing
    # Delivery by bucket policy (no ACLs): the logging service may write under those prefixes.
    dev_template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logs_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:PutObject",
                                "Effect": "Allow",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                            }
                        )
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize(("env", "settings"), [("dev", DEV), ("prod", PROD)])
def test_raw_and_quarantine_expire_after_the_environments_raw_retention(
    env: str, settings: EnvironmentSettings, request: pytest.FixtureRequest
) -> None:
    stack: PlatformStack = request.getfixturevalue(f"{env}_stack")
    template: Template = request.getfixturevalue(f"{env}_template")
    for bucket in (stack.data_lake.raw_bucket, stack.data_lake.quarantine_bucket):
        (rule,) = _lifecycle_rules(template, logical_id(stack, bucket))
        assert rule["Status"] == "Enabled"
        assert rule["ExpirationInDays"] == settings.raw_retention_days
        assert rule["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": settings.noncurrent_version_retention_days
        }
    assert DEV.raw_retention_days != PROD.raw_retention_days  # the parametrisation means it


def test_curated_moves_to_infrequent_access_and_never_expires(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    (rule,) = _lifecycle_rules(
        dev_template, logical_id(dev_stack, dev_stack.data_lake.curated_bucket)
    )
    assert rule["Transitions"] == [
        {
            "StorageClass": "STANDARD_IA",
            "TransitionInDays": DEV.curated_infrequent_access_after_days,
        }
    ]
    assert "ExpirationInDays" not in rule
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": DEV.noncurrent_version_retention_days
    }


def test_athena_results_expire_and_artifacts_keep_only_current_versions(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    lake = dev_stack.data_lake
    (results,) = _lifecycle_rules(dev_template, logical_id(dev_stack, lake.athena_results_bucket))
    assert results["ExpirationInDays"] == DEV.athena_results_retention_days
    (artifacts,) = _lifecycle_rules(dev_template, logical_id(dev_stack, lake.artifacts_bucket))
    assert "ExpirationInDays" not in artifacts
    assert artifacts["NoncurrentVersionExpiration"]["NoncurrentDays"] == (
        DEV.noncurrent_version_retention_days
    )


def test_every_bucket_aborts_incomplete_multipart_uploads(dev_template: Template) -> None:
    for bucket_id, bucket in of_type(dev_template, "AWS::S3::Bucket").items():
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]:
            assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] > 0, bucket_id


def test_dev_destroys_data_with_the_stack_and_empties_buckets_first(
    dev_stack: PlatformStack, dev_template: Template
) -> None:
    for bucket_id in of_type(dev_template, "AWS::S3::Bucket"):
        assert resource(dev_template, bucket_id)["DeletionPolicy"] == "Delete"
    key = resource(dev_template, logical_id(dev_stack, dev_stack.data_lake.key))
    assert key["DeletionPolicy"] == "Delete"
    assert key["Properties"]["PendingWindowInDays"] == 7
    dev_template.resource_count_is("Custom::S3AutoDeleteObjects", len(ZONES) + 1)


def test_prod_retains_buckets_and_key_and_never_auto_deletes(prod_template: Template) -> None:
    for type_ in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource_id, found in of_type(prod_template, type_).items():
            assert found["DeletionPolicy"] == "Retain", resource_id
            assert found["UpdateReplacePolicy"] == "Retain", resource_id
    prod_template.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    # No auto-delete provider function either (the collectors are the stack's only functions).
    functions = of_type(prod_template, "AWS::Lambda::Function")
    assert not [f for f in functions if f.startswith("CustomS3AutoDeleteObjects")]
