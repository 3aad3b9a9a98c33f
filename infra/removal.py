"""What happens to stored data when a stack is deleted: one rule for every unit."""

from __future__ import annotations

from aws_cdk import RemovalPolicy

from exportintel.settings import EnvironmentSettings


def data_removal_policy(settings: EnvironmentSettings) -> RemovalPolicy:
    """Prod retains buckets, keys, tables and secrets; dev deletes them with the stack."""
    return RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY
