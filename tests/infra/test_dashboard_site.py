"""The staff dashboard's site: a private bucket read by CloudFront alone, security headers, the
API on the same origin under `/api/*`, the page's `config.json` and the sign-in redirects."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from exportintel.settings import DEV, PROD, EnvironmentSettings
from infra.application import cdk_json_context
from infra.dashboard_site import (
    API_REWRITE,
    CALLBACK_REWRITE,
    CONFIG_FILE,
    DashboardSite,
    site_content,
)
from infra.serving_stack import ServingStack
from infra.staff_sign_in import StaffSignIn
from tests.infra.support import (
    SynthesisedApp,
    joined,
    logical_id,
    of_type,
    properties,
)

# CloudFront's managed policies (fixed ids in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# Acknowledged on the site, each with its reason in `infra.dashboard_site`.
SITE_ACKNOWLEDGED = {"AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4",
                     "AwsSolutions-L1", "AwsSolutions-IAM5"}  # fmt: skip
WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/dashboard/abcd"


@dataclasses.dataclass(frozen=True)
class Probe:
    stack: cdk.Stack
    site: DashboardSite
    sign_in: StaffSignIn
    template: Template

    def site_id(self, construct: Any) -> str:
        return logical_id(self.stack, construct)


def _probe(
    tmp_path: Path, settings: EnvironmentSettings = DEV, web_acl_arn: str | None = None
) -> Probe:
    """The site in a bare stack with the sign-in, a one-method API and a one-page folder."""
    content = tmp_path / "site"
    content.mkdir()
    (content / "index.html").write_text("<!doctype html><title>probe</title>\n")
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(region=settings.region))
    sign_in = StaffSignIn(stack, "SignIn", settings=settings)
    api = apigw.RestApi(stack, "Api", deploy_options=apigw.StageOptions(stage_name="v1"))
    api.root.add_method("GET")
    site = DashboardSite(
        stack,
        "Site",
        settings=settings,
        sign_in=sign_in,
        rest_api=api,
        content=content,
        web_acl_arn=web_acl_arn,
    )
    return Probe(stack=stack, site=site, sign_in=sign_in, template=Template.from_stack(stack))


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    return _probe(tmp_path_factory.mktemp("dashboard"))


def _distribution_config(probe: Probe) -> dict[str, Any]:
    config: dict[str, Any] = properties(probe.template, probe.site_id(probe.site.distribution))[
        "DistributionConfig"
    ]
    return config


def _api_behaviour(probe: Probe) -> dict[str, Any]:
    (behaviour,) = _distribution_config(probe)["CacheBehaviors"]
    assert behaviour["PathPattern"] == "/api/*"
    return dict(behaviour)


def _origin(probe: Probe, origin_id: str) -> dict[str, Any]:
    (origin,) = [o for o in _distribution_config(probe)["Origins"] if o["Id"] == origin_id]
    return dict(origin)


def _run_function(code: str, uri: str) -> str:
    """The URI a CloudFront Function's handler leaves on a viewer request (run by Node)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"{code}\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    completed = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return completed.stdout.strip()


# --- the bucket ----------------------------------------------------------------------------


def test_the_site_bucket_is_private_encrypted_versioned_and_logged(probe: Probe) -> None:
    bucket = properties(probe.template, probe.site_id(probe.site.bucket))
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    logs_id = probe.site_id(probe.site.logs_bucket)
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "s3/"
    assert "WebsiteConfiguration" not in bucket


def test_only_cloudfront_for_this_distribution_may_read_the_bucket(probe: Probe) -> None:
    bucket_id = probe.site_id(probe.site.bucket)
    (policy,) = [
        p
        for p in of_type(probe.template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    readers = [s for s in allows if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert len(readers) == 1
    (reader,) = readers
    assert reader["Action"] == "s3:GetObject"
    distribution_id = probe.site_id(probe.site.distribution)
    source_arn = joined(reader["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source_arn.endswith(f":distribution/<{distribution_id}>")
    # Everything else that is allowed is CDK's own clean-up on stack deletion (dev only).
    others = [s for s in allows if s is not reader]
    assert all("CustomS3AutoDeleteObjects" in json.dumps(s["Principal"]) for s in others)
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Origin access control, not the legacy identity.
    (oac,) = of_type(probe.template, "AWS::CloudFront::OriginAccessControl").values()
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert of_type(probe.template, "AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}


def test_the_logs_bucket_takes_cloudfront_logs_and_expires_them(probe: Probe) -> None:
    logs_bucket = properties(probe.template, probe.site_id(probe.site.logs_bucket))
    # CloudFront's standard logs are delivered with an ACL grant: ACLs on, owner preferred.
    assert logs_bucket["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerPreferred"}
    ]
    assert logs_bucket["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    (rule,) = logs_bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == DEV.access_log_retention_days
    logging = _distribution_config(probe)["Logging"]
    assert logging == {
        "Bucket": {"Fn::GetAtt": [probe.site_id(probe.site.logs_bucket), "RegionalDomainName"]},
        "Prefix": "cloudfront/",
    }


# --- the distribution ----------------------------------------------------------------------


def test_the_page_is_served_over_https_from_the_bucket_with_index_html_at_the_root(
    probe: Probe,
) -> None:
    config = _distribution_config(probe)
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    site_origin = _origin(probe, default["TargetOriginId"])
    assert site_origin["DomainName"] == {
        "Fn::GetAtt": [probe.site_id(probe.site.bucket), "RegionalDomainName"]
    }
    assert "OriginAccessControlId" in site_origin
    # Error responses would apply to /api/* as well and hide the API's JSON errors.
    assert "CustomErrorResponses" not in config
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert association["FunctionARN"] == {
        "Fn::GetAtt": [probe.site_id(probe.site.callback_rewrite), "FunctionARN"]
    }


def test_tls_default_certificate_acknowledged_and_tls_1_2_towards_the_api(probe: Probe) -> None:
    config = _distribution_config(probe)
    # The default *.cloudfront.net certificate: CloudFront fixes its policy (CFR4 below).
    assert "ViewerCertificate" not in config
    api_origin = _origin(probe, _api_behaviour(probe)["TargetOriginId"])
    assert api_origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    assert config["HttpVersion"] == "http2and3"


def test_security_headers_on_every_response(probe: Probe) -> None:
    policy_id = probe.site_id(probe.site.headers_policy)
    headers = properties(probe.template, policy_id)["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    csp = joined(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    domain_id = logical_id(probe.stack, probe.sign_in.domain)
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": f"'self' https://<{domain_id}>.auth.{DEV.region}.amazoncognito.com",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 63072000,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    config = _distribution_config(probe)
    for behaviour in (config["DefaultCacheBehavior"], *config["CacheBehaviors"]):
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_api_calls_go_uncached_to_the_stage_with_the_viewers_headers(probe: Probe) -> None:
    behaviour = _api_behaviour(probe)
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert set(behaviour["AllowedMethods"]) == {
        "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"
    }  # fmt: skip
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    # With caching disabled, this policy forwards the Authorization header too.
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    (association,) = behaviour["FunctionAssociations"]
    assert association == {
        "EventType": "viewer-request",
        "FunctionARN": {"Fn::GetAtt": [probe.site_id(probe.site.api_rewrite), "FunctionARN"]},
    }
    origin = _origin(probe, behaviour["TargetOriginId"])
    assert origin["OriginPath"] == "/v1"
    host = json.dumps(origin["DomainName"])
    assert ".execute-api." in host and "ApiF70053CD" in host


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/api/firms/search", "/firms/search"),
        ("/api/exporters/E1/matches", "/exporters/E1/matches"),
        ("/api/", "/"),
        ("/api", "/"),
        ("/apiary/x", "/apiary/x"),
    ],
)
def test_the_api_function_strips_the_prefix(uri: str, expected: str) -> None:
    assert _run_function(API_REWRITE, uri) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/auth/callback", "/index.html"),
        ("/auth/callback/", "/index.html"),
        ("/app.js", "/app.js"),
        ("/", "/"),
    ],
)
def test_the_sign_in_callback_is_the_page(uri: str, expected: str) -> None:
    assert _run_function(CALLBACK_REWRITE, uri) == expected


def test_functions_run_on_the_javascript_2_runtime(probe: Probe) -> None:
    for function in (probe.site.api_rewrite, probe.site.callback_rewrite):
        config = properties(probe.template, probe.site_id(function))["FunctionConfig"]
        assert config["Runtime"] == "cloudfront-js-2.0"


def test_a_web_acl_is_attached_when_given_and_cfr2_is_then_not_acknowledged(
    probe: Probe, tmp_path: Path
) -> None:
    assert "WebACLId" not in _distribution_config(probe)
    with_acl = _probe(tmp_path, web_acl_arn=WEB_ACL)
    assert _distribution_config(with_acl)["WebACLId"] == WEB_ACL
    rules = _acknowledged(with_acl.site.distribution)
    assert "AwsSolutions-CFR2" not in rules and "AwsSolutions-CFR1" in rules
    assert "AwsSolutions-CFR2" in _acknowledged(probe.site.distribution)


# --- content and sign-in -------------------------------------------------------------------


def test_the_deployment_uploads_the_site_and_its_config_then_invalidates(probe: Probe) -> None:
    (deployment,) = of_type(probe.template, "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": probe.site_id(probe.site.bucket)}
    assert props["DistributionId"] == {"Ref": probe.site_id(probe.site.distribution)}
    assert props["DistributionPaths"] == ["/*"]
    assert props["Prune"] is True
    assert len(props["SourceObjectKeys"]) == 2  # the folder and config.json
    # config.json is written at deploy time: its markers stand for the deployed values.
    markers = {k: joined(v) for k, v in props["SourceMarkers"][1].items()}
    distribution_id = probe.site_id(probe.site.distribution)
    client_id = logical_id(probe.stack, probe.sign_in.staff_client)
    domain_id = logical_id(probe.stack, probe.sign_in.domain)
    assert set(markers.values()) == {
        f'"https://<{domain_id}>.auth.{DEV.region}.amazoncognito.com"',
        f'"<{client_id}>"',
        f'"https://<{distribution_id}.DomainName>/auth/callback"',
        f'"https://<{distribution_id}.DomainName>/"',
    }
    config = _config_file(probe, props["SourceObjectKeys"][1], markers)
    assert config == {
        "apiBase": "/api",
        "auth": {
            "kind": "cognito",
            "domain": f"https://<{domain_id}>.auth.{DEV.region}.amazoncognito.com",
            "clientId": f"<{client_id}>",
            "scopes": ["exportintel/read", "exportintel/write", "exportintel/events"],
            "redirectUri": f"https://<{distribution_id}.DomainName>/auth/callback",
            "logoutUri": f"https://<{distribution_id}.DomainName>/",
        },
    }


def _config_file(probe: Probe, object_key: str, markers: dict[str, str]) -> Any:
    """config.json as the deployment writes it, the markers replaced by their values."""
    outdir = Path(cdk.Stage.of(probe.stack).outdir)  # type: ignore[union-attr]
    asset = outdir / f"asset.{object_key.removesuffix('.zip')}" / CONFIG_FILE
    if not asset.exists():
        cdk.Stage.of(probe.stack).synth()  # type: ignore[union-attr]
    text = asset.read_text()
    for marker, value in markers.items():
        text = text.replace(marker, value)
    return json.loads(text)


def test_the_staff_client_sends_people_back_to_the_distribution(probe: Probe) -> None:
    client = properties(probe.template, logical_id(probe.stack, probe.sign_in.staff_client))
    distribution_id = probe.site_id(probe.site.distribution)
    callbacks = [joined(url) for url in client["CallbackURLs"]]
    logouts = [joined(url) for url in client["LogoutURLs"]]
    assert callbacks == [
        *DEV.staff_callback_urls,
        f"https://<{distribution_id}.DomainName>/auth/callback",
    ]
    assert logouts == [*DEV.staff_logout_urls, f"https://<{distribution_id}.DomainName>/"]


def test_the_deployment_function_writes_its_own_log_group_with_no_managed_policy(
    probe: Probe,
) -> None:
    role_id = probe.site_id(probe.site.deployment_role)
    assert "ManagedPolicyArns" not in properties(probe.template, role_id)
    (function,) = [
        f
        for f in of_type(probe.template, "AWS::Lambda::Function").values()
        if f["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    ]
    log_group_id = probe.site_id(probe.site.deployment_log_group)
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
    retention = properties(probe.template, log_group_id)["RetentionInDays"]
    assert retention == DEV.log_retention_days
    assert role_id not in function["DependsOn"]


def test_prod_retains_the_buckets_and_dev_deletes_them(tmp_path: Path) -> None:
    prod = _probe(tmp_path, settings=PROD)
    for bucket in (prod.site.bucket, prod.site.logs_bucket):
        found = prod.template.to_json()["Resources"][prod.site_id(bucket)]
        assert found["DeletionPolicy"] == "Retain"
    assert of_type(prod.template, "Custom::S3AutoDeleteObjects") == {}


def test_the_probe_stack_has_no_unacknowledged_findings(probe: Probe) -> None:
    """The site's own resources; the probe's bare API stands in for the real one."""
    report = AwsSolutionsChecks().validate_scope(probe.stack)
    site_findings = [
        (resource.construct_path, violation.rule_name)
        for violation in report.violations
        for resource in violation.violating_resources
        if "/Site/" in (resource.construct_path or "")
        or "CDKBucketDeployment" in (resource.construct_path or "")
    ]
    assert site_findings == []
    assert report.violations, "the bare API's findings show that the checks ran"


def _acknowledged(construct: Any) -> set[str]:
    return {
        rule.split("::", 1)[-1]
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    }


# --- the site in the whole app -------------------------------------------------------------


def test_the_serving_stack_outputs_the_dashboards_address_bucket_and_distribution(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    outputs = dev_serving_template.to_json()["Outputs"]
    site = dev_serving_stack.site
    distribution_id = logical_id(dev_serving_stack, site.distribution)
    assert joined(outputs["DashboardUrl"]["Value"]) == f"https://<{distribution_id}.DomainName>/"
    assert outputs["DashboardBucket"]["Value"] == {
        "Ref": logical_id(dev_serving_stack, site.bucket)
    }
    assert outputs["DashboardDistributionId"]["Value"] == {"Ref": distribution_id}


def test_the_app_routes_api_calls_to_the_serving_api(
    dev_serving_stack: ServingStack, dev_serving_template: Template
) -> None:
    config = properties(
        dev_serving_template, logical_id(dev_serving_stack, dev_serving_stack.site.distribution)
    )["DistributionConfig"]
    (behaviour,) = config["CacheBehaviors"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    rest_api_id = logical_id(dev_serving_stack, dev_serving_stack.api.rest_api)
    assert f'"Ref": "{rest_api_id}"' in json.dumps(origin["DomainName"])
    assert origin["OriginPath"] == "/v1"


def test_the_serving_stacks_site_acknowledgements(synthesised: SynthesisedApp) -> None:
    assert synthesised.error is None, str(synthesised.error)
    found: dict[str, set[str]] = {}
    for construct in synthesised.app.node.find_all():
        path = construct.node.path
        if "/Serving/" not in path or not (
            "/Serving/Site" in path or "/Serving/Custom::CDKBucketDeployment" in path
        ):
            continue
        for rule in _acknowledged(construct):
            found.setdefault(rule.split("[")[0], set()).add(path)
    assert set(found) == SITE_ACKNOWLEDGED


def test_the_built_site_folder_is_reused_and_holds_no_config(tmp_path: Path) -> None:
    first = site_content(tmp_path)
    assert first.name.startswith("site-")
    assert (first / "index.html").is_file()
    assert (first / "vendor" / "chart.umd.min.js").is_file()
    assert not (first / CONFIG_FILE).exists()
    assert site_content(tmp_path) == first
    assert [p.name for p in tmp_path.iterdir()] == [first.name]
    # A build of earlier sources goes once nobody has used it for a while.
    earlier = tmp_path / "site-0000000000000000"
    earlier.mkdir()
    assert site_content(tmp_path) == first and earlier.is_dir()
    os.utime(earlier, (0, 0))
    site_content(tmp_path)
    assert not earlier.exists()
