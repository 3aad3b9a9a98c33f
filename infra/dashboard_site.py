"""The staff dashboard in AWS: a private site bucket behind CloudFront, the API on the same origin.

The page (`exportintel.web.site.build_site`) is static: CloudFront serves it from a private
bucket through origin access control and routes `/api/*` to the serving API's regional stage,
so the page calls `/api/...` on its own origin everywhere (locally the server strips `/api`
the same way) and the API needs no CORS. Staff sign in on Cognito's hosted pages
(authorization code + PKCE); the deployment writes the page's `config.json` with the hosted
domain, the staff client and the redirect addresses on this distribution, which the staff
client accepts (`StaffSignIn.add_staff_redirects`).

Security headers come from one response headers policy: HSTS, a content security policy that
lets the page talk to its own origin and the sign-in domain only, no framing, no sniffing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, cast

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from exportintel.serving.functions import RESOURCE_SERVER, SCOPES
from exportintel.settings import EnvironmentSettings
from exportintel.web.site import CHART_BUNDLE, WEB_SOURCE, build_site
from infra.api import STAGE_NAME
from infra.bundling import build_once, prune_builds
from infra.nag import acknowledge, flatten_reference, wildcard_action
from infra.removal import data_removal_policy
from infra.serving_function import set_retention
from infra.staff_sign_in import StaffSignIn

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_BUILD_DIR = REPO_ROOT / "build" / "site"
CONFIG_FILE = "config.json"
API_PREFIX = "/api"
CALLBACK_PATH = "/auth/callback"
INDEX = "index.html"
# Multipart uploads that never complete still cost storage; S3 cleans them up after this.
_ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(7)
# Two years, the value HSTS preload lists ask for: browsers never try plain HTTP again.
_HSTS_MAX_AGE = Duration.days(730)

# Viewer request: `/api/x` -> `/x`; the origin path (`/v1`, the stage) is added by CloudFront.
API_REWRITE = """\
function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/^\\/api(?=\\/|$)/, '') || '/';
  return request;
}
"""
# Viewer request: the sign-in callback is the page itself (Cognito appends ?code=&state=).
CALLBACK_REWRITE = f"""\
function handler(event) {{
  var request = event.request;
  if (request.uri === '{CALLBACK_PATH}' || request.uri === '{CALLBACK_PATH}/') {{
    request.uri = '/{INDEX}';
  }}
  return request;
}}
"""


def site_content(build_dir: Path = SITE_BUILD_DIR) -> Path:
    """`build/site/site-<hash>/`: `build_site` output, named by a hash of its sources.

    Built through a temporary sibling and renamed, never rebuilt in place: another synth in
    the same work tree (a second test session) may be staging the folder as an asset.
    """
    sources = sorted(
        p
        for p in WEB_SOURCE.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
    )
    digest = hashlib.sha256()
    for path in [*sources, CHART_BUNDLE]:
        name = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else path
        digest.update(f"{name}\0".encode() + hashlib.sha256(path.read_bytes()).digest())
    target = build_once(build_dir / f"site-{digest.hexdigest()[:16]}", build_site)
    prune_builds(build_dir, "site", target)
    return target


class DashboardSite(Construct):
    """Site bucket, its logs bucket, the distribution (site + `/api/*`) and the deployment."""

    bucket: s3.Bucket
    logs_bucket: s3.Bucket
    headers_policy: cloudfront.ResponseHeadersPolicy
    api_rewrite: cloudfront.Function
    callback_rewrite: cloudfront.Function
    distribution: cloudfront.Distribution
    deployment: s3_deployment.BucketDeployment
    deployment_role: iam.Role
    deployment_log_group: logs.LogGroup

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: EnvironmentSettings,
        sign_in: StaffSignIn,
        rest_api: apigw.RestApi,
        content: Path,
        web_acl_arn: str | None = None,
    ) -> None:
        """`content`: the built site folder (`site_content()`); `web_acl_arn`: a CloudFront
        (us-east-1) web ACL to attach, which this region's stack cannot create itself."""
        super().__init__(scope, id_)
        self.settings = settings
        self._removal = data_removal_policy(settings)
        self._buckets()
        self._distribution(sign_in, rest_api, web_acl_arn)
        self._deployment(sign_in, content)
        sign_in.add_staff_redirects(callback_url=self.callback_url, logout_url=self.url)

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name

    @property
    def url(self) -> str:
        """`https://<distribution domain>/`: the page, and where staff land after signing out."""
        return f"https://{self.domain_name}/"

    @property
    def callback_url(self) -> str:
        return f"https://{self.domain_name}{CALLBACK_PATH}"

    def _buckets(self) -> None:
        settings = self.settings
        noncurrent = Duration.days(settings.noncurrent_version_retention_days)
        # The site bucket's server access logs and CloudFront's standard logs. CloudFront
        # writes its logs with an ACL grant (awslogsdelivery), so this bucket keeps ACLs on
        # with the bucket owner preferred; S3 delivers its logs by bucket policy. Public
        # access stays blocked. A bucket of its own: the lake's access-logs bucket is in the
        # platform stack, whose policy would then name this stack's bucket (a reference cycle).
        self.logs_bucket = s3.Bucket(
            self,
            "LogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption log delivery takes
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-dashboard-logs",
                    expiration=Duration.days(settings.access_log_retention_days),
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
            removal_policy=self._removal,
            auto_delete_objects=not settings.retain_data,
        )
        # SSE-S3, not the lake key: the page is public once signed in anyway, and CloudFront's
        # origin access control would need a grant in the platform stack's key policy.
        self.bucket = s3.Bucket(
            self,
            "SiteBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-site-versions",
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=_ABORT_INCOMPLETE_UPLOADS_AFTER,
                )
            ],
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix="s3/",
            target_object_key_format=s3.TargetObjectKeyFormat.partitioned_prefix(
                s3.PartitionDateSource.EVENT_TIME
            ),
            removal_policy=self._removal,
            auto_delete_objects=not settings.retain_data,
        )

    def _distribution(
        self, sign_in: StaffSignIn, rest_api: apigw.RestApi, web_acl_arn: str | None
    ) -> None:
        settings = self.settings
        # The local server's policy (`exportintel.local.api.SITE_HEADERS`), so the browser
        # tests meet the same rules, plus the sign-in domain, where the page exchanges the
        # sign-in code for tokens.
        csp = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self' data:",
                f"connect-src 'self' https://{sign_in.auth_domain}",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"Export Intelligence dashboard ({settings.name}): security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=_HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER,
                    override=True,
                ),
            ),
        )
        self.api_rewrite = cloudfront.Function(
            self,
            "ApiRewrite",
            comment="/api/x -> /x: the API's routes sit at the stage's root",
            code=cloudfront.FunctionCode.from_inline(API_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.callback_rewrite = cloudfront.Function(
            self,
            "CallbackRewrite",
            comment=f"{CALLBACK_PATH} -> /{INDEX}: the page finishes the sign-in itself",
            code=cloudfront.FunctionCode.from_inline(CALLBACK_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        # No custom error responses (403/404 -> index.html): they apply to every behaviour, and
        # would turn the API's JSON errors into the page. The one path the page answers besides
        # its files, the sign-in callback, is rewritten by a function instead.
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Export Intelligence dashboard ({settings.name})",
            default_root_object=INDEX,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.callback_rewrite,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            ),
            additional_behaviors={
                f"{API_PREFIX}/*": cloudfront.BehaviorOptions(
                    origin=origins.RestApiOrigin(rest_api, origin_path=f"/{STAGE_NAME}"),
                    # Not a redirect: a browser follows one with a GET, dropping a POST's body.
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    # Never cached: answers depend on the caller's token. With caching off,
                    # the all-viewer policy forwards the Authorization header as well.
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=(
                        cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
                    ),
                    response_headers_policy=self.headers_policy,
                    function_associations=[
                        cloudfront.FunctionAssociation(
                            function=self.api_rewrite,
                            event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        )
                    ],
                )
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Edge locations in Asia (Korea included), North America and Europe.
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            enable_logging=True,
            log_bucket=self.logs_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,
        )
        self._acknowledge_distribution(web_acl_arn is not None)

    def _acknowledge_distribution(self, has_web_acl: bool) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: the agency's staff work in Korea, but the same origin serves "
            "the API that the fair site's exhibitors and buyers reach from every country; "
            "every page and API call needs a Cognito sign-in instead.",
        )
        if not has_web_acl:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "A CloudFront web ACL must be created in us-east-1, which this stack (in the "
                "environment's region) cannot hold; the distribution takes one by ARN when a "
                "separate us-east-1 stack provides it. Until then: every API call needs a "
                "Cognito token with a scope and the API stage is throttled.",
            )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Served on the default *.cloudfront.net certificate, for which CloudFront fixes the "
            "viewer security policy (TLSv1); a minimum of TLS 1.2 needs a custom domain with an "
            "ACM certificate in us-east-1. Browsers in use negotiate TLS 1.2 or 1.3 anyway.",
        )

    def _config(self, sign_in: StaffSignIn) -> dict[str, Any]:
        """The page's `config.json` in AWS (the contract of issue 8, section 2)."""
        return {
            "apiBase": API_PREFIX,
            "auth": {
                "kind": "cognito",
                "domain": f"https://{sign_in.auth_domain}",
                "clientId": sign_in.staff_client.user_pool_client_id,
                "scopes": [f"{RESOURCE_SERVER}/{spec.name}" for spec in SCOPES],
                "redirectUri": self.callback_url,
                "logoutUri": self.url,
            },
        }

    def _deployment(self, sign_in: StaffSignIn, content: Path) -> None:
        settings = self.settings
        self.deployment_log_group = logs.LogGroup(
            self, "DeploymentLogs", removal_policy=self._removal
        )
        set_retention(self.deployment_log_group, settings.log_retention_days)
        # An explicit role: the default one carries the AWSLambdaBasicExecutionRole managed
        # policy (logs on every group); this one writes to its own log group only.
        self.deployment_role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Dashboard site deployment ({settings.name}): copies the site, "
            "invalidates the distribution",
        )
        self.deployment_log_group.grant_write(self.deployment_role)
        self.deployment = s3_deployment.BucketDeployment(
            self,
            "Deployment",
            sources=[
                s3_deployment.Source.asset(str(content)),
                s3_deployment.Source.json_data(CONFIG_FILE, self._config(sign_in)),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            role=self.deployment_role,
            log_group=self.deployment_log_group,
        )
        self._acknowledge_deployment()

    def _deployment_function(self) -> lambda_.Function:
        """The deployment's handler: one function per stack, made by CDK at the stack's root."""
        stack = Stack.of(self)
        found = [
            child
            for child in stack.node.children
            if isinstance(child, lambda_.Function)
            and child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        if len(found) != 1:
            raise ValueError(f"{len(found)} BucketDeployment handlers in {stack.stack_name}")
        return found[0]

    def _acknowledge_deployment(self) -> None:
        function = self._deployment_function()
        # Depend on the role's policy only: the role is a dependency through Fn::GetAtt
        # already (cfn-lint W3005), the policy must exist before the first deployment.
        policy = self.deployment_role.node.try_find_child("DefaultPolicy")
        if policy is not None and isinstance(policy.node.default_child, CfnResource):
            cast(lambda_.CfnFunction, function.node.default_child).add_override(
                "DependsOn", [Stack.of(self).get_logical_id(policy.node.default_child)]
            )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler: aws-cdk-lib picks its Python runtime together "
            "with the AWS CLI layer it runs; it moves when aws-cdk-lib is upgraded.",
        )
        role = self.deployment_role
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "CDK's BucketDeployment grants cloudfront:CreateInvalidation and GetInvalidation "
            "on every distribution; the handler invalidates only the one it is given.",
        )
        stack = Stack.of(self)
        site_objects = flatten_reference(stack.resolve(self.bucket.arn_for_objects("*")))
        default_policy = role.node.try_find_child("DefaultPolicy")
        assert isinstance(default_policy, iam.Policy)
        statements = stack.resolve(default_policy.document.to_json())["Statement"]
        for statement in statements:
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                arn = flatten_reference(resource)
                if not arn.endswith("/*"):
                    continue
                reason = (
                    "The deployment replaces the whole site: every object of the site bucket."
                    if arn == site_objects
                    else "The deployment reads the site's files from the CDK asset bucket, "
                    "where CDK stages them under names it chooses at synth."
                )
                acknowledge(role, f"AwsSolutions-IAM5[Resource::{arn}]", reason)
        for action, why in {
            "s3:GetObject*": "reads the site's asset and the bucket's objects",
            "s3:GetBucket*": "reads the asset and site buckets' properties",
            "s3:List*": "lists the asset and site buckets to sync them",
            "s3:DeleteObject*": "removes files no longer in the site (prune)",
            "s3:Abort*": "aborts its own failed multipart uploads",
        }.items():
            acknowledge(
                role,
                wildcard_action(action),
                f"From CDK's BucketDeployment grants on the asset and site buckets: {why}, "
                "those two buckets only.",
            )
