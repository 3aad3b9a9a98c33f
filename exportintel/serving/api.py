"""What every API function shares: a validating resolver whose errors are clear JSON, the caller's
identity from the authorizer, the reply language.

Every failure a client can cause answers 4xx with `{"error": code, "message": text}`: a
validation failure (wrong type, out of range, malformed JSON) is 400 with the offending fields,
an unknown id 404, an unknown route 404. Only a fault of ours is 5xx.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"  # the agency's staff work in Korean


class ApiError(Exception):
    """A request we refuse, with the status and a message the caller can act on."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    pass


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class PayloadTooLarge(ApiError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_default)


def json_response(status: int, body: Any) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=to_json(body)
    )


def error_response(status: int, code: str, message: str, **extra: Any) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=to_json({"error": code, "message": message, **extra}),
    )


def _location(loc: Any) -> str:
    parts = [str(p) for p in (loc or ())]
    return ".".join(parts) if parts else "request"


def make_app() -> APIGatewayRestResolver:
    """The resolver of one function, with validation on and the JSON error replies."""
    app = APIGatewayRestResolver(enable_validation=True, serializer=to_json)

    @app.exception_handler(ApiError)
    def refused(error: ApiError) -> Response[str]:
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response[str]:
        details = [
            {"field": _location(e.get("loc")), "message": str(e.get("msg", "invalid"))}
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return error_response(
            HTTPStatus.BAD_REQUEST, "invalid_request", summary or "invalid request", details=details
        )

    @app.not_found
    def no_route(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(
            HTTPStatus.NOT_FOUND, "no_route", f"no route {event.http_method} {event.path}"
        )

    return app


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _refusal(status: HTTPStatus, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": to_json({"error": code, "message": message}),
        "isBase64Encoded": False,
    }


def _body_problem(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Why a request body cannot be JSON, before anything parses it: another media type is
    a 415, bytes that are not UTF-8 a 400."""
    body = event.get("body")
    if not body:
        return None
    content_type = (_header(event, "content-type") or "application/json").lower()
    media_type = content_type.split(";")[0].strip()
    if media_type not in ("application/json", "text/json"):
        return _refusal(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"send the body as application/json, not {media_type[:80]!r}",
        )
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return _refusal(HTTPStatus.BAD_REQUEST, "invalid_request", "the body is not UTF-8 JSON")
    return None


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The handler's entry: the body checked, then the resolver routes, validates, answers."""
    problem = _body_problem(event)
    if problem is not None:
        return problem
    result: dict[str, Any] = app.resolve(event, context)
    return result


def caller(event: Mapping[str, Any]) -> str:
    """Who calls: the Cognito subject (a staff member) or the app client (another system)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    for name in ("sub", "client_id", "username"):
        if claims.get(name):
            return str(claims[name])
    identity = context.get("identity") or {}
    return str(identity.get("userArn") or identity.get("caller") or "unknown")


def language(accept_language: str | None) -> str:
    """`ko` or `en` from an Accept-Language header, by its quality values; Korean by default."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES and primary != "*":
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = (DEFAULT_LANGUAGE if primary == "*" else primary), q
    return best
