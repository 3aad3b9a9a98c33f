"""Who may call the serving API: the Cognito user pool, its scopes, app clients and domain.

A unit of its own because it outlives the API's shape: the pool holds the staff accounts
(`exportintel users add` invites them into it) and its scopes are the API's, while routes and
functions come and go. `infra.api` only takes the pool, for its authorizer.

Who calls: staff through the dashboard (authorization code flow with PKCE on a public client,
MFA required) and other agency systems (client credentials, with the scopes in
`EnvironmentSettings.systems_client_scopes`). Staff are invited by an administrator; nobody
signs up. The scopes are `exportintel.serving.functions.SCOPES`, on the resource server
`RESOURCE_SERVER`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from aws_cdk import Aws, Duration, Fn, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from exportintel.serving.functions import RESOURCE_SERVER, SCOPES
from exportintel.settings import PROJECT, EnvironmentSettings
from infra.removal import data_removal_policy

# Invited staff sign in within this many days, or an administrator invites them again.
TEMPORARY_PASSWORD_DAYS = 7
PASSWORD_MIN_LENGTH = 12
# A working day: staff sign in again (with MFA) each morning.
STAFF_SESSION = Duration.hours(12)
TOKEN_VALIDITY = Duration.hours(1)
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class StaffSignIn(Construct):
    """The staff user pool, the API's resource server and scopes, both app clients, the domain."""

    user_pool: cognito.UserPool
    scopes: dict[str, cognito.ResourceServerScope]  # by name
    resource_server: cognito.UserPoolResourceServer
    staff_client: cognito.UserPoolClient
    systems_client: cognito.UserPoolClient
    domain: cognito.UserPoolDomain

    def __init__(self, scope: Construct, id_: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, id_)
        self.settings = settings
        self._user_pool()
        self._clients()

    @property
    def auth_domain(self) -> str:
        """The host name of the hosted sign-in (`<prefix>.auth.<region>.amazoncognito.com`)."""
        return f"{self.domain.domain_name}.auth.{Stack.of(self).region}.amazoncognito.com"

    def add_staff_redirects(self, *, callback_url: str, logout_url: str) -> None:
        """Let Cognito send staff back to one more address of the dashboard (tokens are fine).

        For the CloudFront distribution, built after this unit (its security headers name the
        sign-in domain): its address joins the settings' callback and logout URLs.
        """
        cfn_client = cast(cognito.CfnUserPoolClient, self.staff_client.node.default_child)
        cfn_client.callback_ur_ls = [*(cfn_client.callback_ur_ls or []), callback_url]
        cfn_client.logout_ur_ls = [*(cfn_client.logout_ur_ls or []), logout_url]

    def _user_pool(self) -> None:
        settings = self.settings
        removal = data_removal_policy(settings)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Staff accounts are created by an administrator (`exportintel users add`), who
            # checks the person works at the agency; nobody can sign up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # An address change takes effect only once the new address is verified.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            # An authenticator app (TOTP) for everyone: no SMS role, no per-message cost.
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Plus: threat protection blocks sign-ins with leaked credentials and risky ones.
            # Charged per monthly active user, and the users are the agency's staff: a few
            # hundred at most.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=f"Export Intelligence Platform ({settings.name}): your account",
                email_body=(
                    f"You are invited to the Export Intelligence Platform ({settings.name}). "
                    "Sign in with {username} and the temporary password {####} within "
                    f"{TEMPORARY_PASSWORD_DAYS} days; you will then choose your own password "
                    "and set up an authenticator app."
                ),
            ),
            removal_policy=removal,
            deletion_protection=settings.retain_data,
        )
        self.scopes = {
            spec.name: cognito.ResourceServerScope(
                scope_name=spec.name, scope_description=spec.description
            )
            for spec in SCOPES
        }
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer",
            identifier=RESOURCE_SERVER,
            user_pool_resource_server_name="Export Intelligence API",
            scopes=list(self.scopes.values()),
        )
        prefix = settings.auth_domain_prefix
        if prefix is not None and not _DOMAIN_PREFIX.match(prefix):
            raise ValueError(f"auth_domain_prefix {prefix!r}: lower-case letters, digits, '-'")
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=prefix if prefix is not None else self._generated_domain_prefix()
            ),
        )

    def _generated_domain_prefix(self) -> str:
        """`exportintel-<env>-` and the first group of the stack id's UUID (8 hex digits).

        Domain prefixes are unique among all accounts of a region; the stack id is generated
        by CloudFormation, so the prefix is neither a hard-coded name nor the account number,
        and stays the same for the stack's life.
        """
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return Fn.join("-", [PROJECT, self.settings.name, Fn.select(0, Fn.split("-", stack_uuid))])

    def _clients(self) -> None:
        settings = self.settings
        unknown = set(settings.systems_client_scopes) - set(self.scopes)
        if unknown:
            raise ValueError(
                f"systems_client_scopes {sorted(unknown)}: not in {sorted(self.scopes)}"
            )
        if not settings.staff_callback_urls:
            raise ValueError("staff_callback_urls: the staff client needs a callback URL")

        def scopes(names: Sequence[str]) -> list[cognito.OAuthScope]:
            return [
                cognito.OAuthScope.resource_server(self.resource_server, self.scopes[name])
                for name in names
            ]

        # Public client (no secret: the dashboard runs in a browser or on a staff member's
        # machine); sign-in through the hosted pages only, where MFA and threat protection
        # apply. Cognito accepts PKCE on this flow and the dashboard sends it.
        self.staff_client = self.user_pool.add_client(
            "StaffClient",
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    *scopes([spec.name for spec in SCOPES]),
                ],
                callback_urls=list(settings.staff_callback_urls),
                logout_urls=list(settings.staff_logout_urls),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY,
            id_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=STAFF_SESSION,
        )
        # Another agency system: client id and generated secret, handed over by an operator.
        self.systems_client = self.user_pool.add_client(
            "SystemsClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=scopes(settings.systems_client_scopes),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY,
        )
        for client in (self.staff_client, self.systems_client):
            # No password, SRP or custom flows through the API (Cognito's defaults when none
            # are listed): staff sign in on the hosted pages, systems by client credentials.
            cfn_client = cast(cognito.CfnUserPoolClient, client.node.default_child)
            cfn_client.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]
