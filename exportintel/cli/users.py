"""`exportintel users add`: invite a staff member to the serving API's sign-in (Cognito).

Nobody signs up on their own: an administrator invites each staff member by e-mail address.
Cognito e-mails a temporary password; at the first sign-in the staff member chooses a password
and sets up an authenticator app (MFA is required). The address counts as verified, since the
administrator vouches for it, so password resets can go to it from the start.

The user pool is found from the serving stack's `UserPoolId` output (`--stack Dev-Serving`)
or given directly (`--user-pool-id`). Real AWS credentials apply.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from exportintel.resources import output_key
from exportintel.settings import DEFAULT_REGION

# Enough to catch a name or a typo given instead of an address; Cognito checks the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_pool_id_from_stack(cloudformation: Any, stack_name: str) -> str:
    """The `UserPoolId` output of a deployed serving stack."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    key = output_key("user_pool_id")
    if key not in outputs:
        raise LookupError(
            f"stack {stack_name} has no {key} output: give the serving stack "
            "(Dev-Serving, Prod-Serving)"
        )
    return outputs[key]


def invite(
    cognito: Any,
    user_pool_id: str,
    email: str,
    *,
    name: str | None = None,
    resend: bool = False,
) -> dict[str, Any]:
    """Create the user and have Cognito e-mail the invitation; the user as Cognito returns it.

    `resend` sends the invitation of an existing user again, with a new temporary password
    (the first one expired unused).
    """
    if not _EMAIL.match(email):
        raise ValueError(f"{email!r} is not an e-mail address")
    request: dict[str, Any] = {
        "UserPoolId": user_pool_id,
        # The pool signs in by e-mail address: the address is the user name.
        "Username": email,
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if resend:
        request["MessageAction"] = "RESEND"
    else:
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ]
        if name:
            attributes.append({"Name": "name", "Value": name})
        request["UserAttributes"] = attributes
    user: dict[str, Any] = cognito.admin_create_user(**request)["User"]
    return user


def _session(region: str | None) -> Any:
    import boto3

    session = boto3.session.Session(region_name=region)
    if session.region_name is None:
        session = boto3.session.Session(region_name=DEFAULT_REGION)
    return session


def _add(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    session = _session(args.region)
    try:
        user_pool_id = args.user_pool_id or user_pool_id_from_stack(
            session.client("cloudformation"), args.stack
        )
        user = invite(
            session.client("cognito-idp"),
            user_pool_id,
            args.email.strip(),
            name=args.name,
            resend=args.resend,
        )
    except (ValueError, LookupError) as error:
        print(error, file=sys.stderr)
        return 2
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "UsernameExistsException":
            message += "; --resend sends the invitation again"
        print(f"{code}: {message}", file=sys.stderr)
        return 1
    action = "invitation sent again to" if args.resend else "invited"
    print(f"{action} {args.email.strip()} in {user_pool_id} (status {user['UserStatus']})")
    return 0


def register(commands: Any) -> None:
    users = commands.add_parser("users", help="staff accounts of the serving API (Cognito)")
    actions = users.add_subparsers(dest="users_command", required=True)
    add = actions.add_parser(
        "add", help="invite a staff member: Cognito e-mails a temporary password"
    )
    add.add_argument("email", help="the staff member's e-mail address (their user name)")
    add.add_argument("--name", help="full name, shown in the dashboard")
    pool = add.add_mutually_exclusive_group(required=True)
    pool.add_argument("--stack", help="deployed serving stack: Dev-Serving or Prod-Serving")
    pool.add_argument("--user-pool-id", help="the user pool itself")
    add.add_argument("--region", help=f"AWS region (default: the profile's, else {DEFAULT_REGION})")
    add.add_argument(
        "--resend",
        action="store_true",
        help="send an existing user's invitation again (the temporary password expired)",
    )
    add.set_defaults(run=_add)
