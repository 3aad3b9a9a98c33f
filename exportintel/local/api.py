"""The API on one machine: the Lambda handlers behind a small HTTP adapter on 127.0.0.1.

Each request is checked the way API Gateway would check it (a bearer token, the route's OAuth
scope), turned into the REST API proxy event the handler receives in AWS, and handed to the
same `lambda_handler`; the handler's reply becomes the HTTP response. The token is the local
development token of the state folder (`exportintel serve` prints it): without it, 401.

Routes come from `exportintel.serving.functions`, the declaration the CDK app builds API
Gateway from, and handlers are loaded from `lambdas/api/<unit>/handler.py` as the Lambda
runtime loads them. A handler serves one request at a time (a Lambda instance does too: the
Powertools resolver keeps the current event in module state). `/openapi.json` is the OpenAPI
document generated from the handlers' routes and models, and needs no token.

With a built site (`exportintel.web.site.build_site`) the same server is the dashboard's
origin, as CloudFront is in AWS: the static files at `/` (with the security headers CloudFront
adds there), `/config.json` naming the development token (the server binds loopback only), and
the API under `/api/...` as well as at the root.
"""

from __future__ import annotations

import base64
import hmac
import importlib.util
import json
import re
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from exportintel.serving.functions import API_FUNCTIONS, SCOPES, FunctionSpec, Route

LOCAL_SUBJECT = "local-developer"
MAX_BODY_BYTES = 10 * 1024**2  # API Gateway's payload limit
OPENAPI_PATH = "/openapi.json"
API_PREFIX = "/api"  # the dashboard's apiBase: CloudFront routes /api/* to API Gateway in AWS
CONFIG_PATH = "/config.json"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
# What CloudFront's response headers policy sets on the site in AWS: scripts and styles from
# the site alone (no inline script), no framing, no sniffing, no referrer to other origins.
SITE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
_PARAMETER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class CompiledRoute:
    function: FunctionSpec
    route: Route
    pattern: re.Pattern[str]


def _compile(function: FunctionSpec, route: Route) -> CompiledRoute:
    """`/a/{x}/b` -> `^/a/(?P<x>[^/]+)/b$`, the literal parts escaped."""
    pieces = _PARAMETER.split(route.path)  # literal, name, literal, name, ..., literal
    regex = "".join(
        re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>[^/]+)" for i, piece in enumerate(pieces)
    )
    return CompiledRoute(function, route, re.compile(f"^{regex}$"))


ROUTES = tuple(_compile(f, r) for f in API_FUNCTIONS for r in f.routes)


def match(method: str, path: str) -> tuple[CompiledRoute | None, dict[str, str], bool]:
    """The route of a request, its path parameters, and whether the path exists at all."""
    path_known = False
    for compiled in ROUTES:
        found = compiled.pattern.match(path)
        if found is None:
            continue
        path_known = True
        if compiled.route.method == method:
            return compiled, found.groupdict(), True
    return None, {}, path_known


def import_handler(path: Path, name: str) -> ModuleType:
    """A Lambda `handler.py`, imported once as the Lambda runtime imports it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: the resolver reads the route functions' annotations through it.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def drop_metrics(handler: ModuleType) -> None:
    """Locally metrics have nowhere to go (POWERTOOLS_METRICS_DISABLED): Powertools then keeps
    them, so they are dropped after each call instead of piling up."""
    metrics = getattr(handler, "metrics", None)
    if metrics is not None:
        metrics.clear_metrics()


def load_handler(function: FunctionSpec) -> ModuleType:
    return import_handler(function.handler_file, f"exportintel_api_{function.unit}_handler")


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """One OpenAPI document for every function: each handler's generated paths and schemas,
    with the bearer-token security every route requires."""
    document: dict[str, Any] = {}
    for function in API_FUNCTIONS:
        app = load_handler(function).app
        part = json.loads(
            app.get_openapi_json_schema(
                title="Export Intelligence Platform API",
                version="1.0.0",
                description="Matching, continuity, clickstream and live counters for staff.",
            )
        )
        if not document:
            document = part
            document.setdefault("components", {})
            continue
        document["paths"].update(part.get("paths", {}))
        for kind, entries in part.get("components", {}).items():
            document["components"].setdefault(kind, {}).update(entries)
    document["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A Cognito access token (locally: the development token)",
        }
    }
    document["security"] = [{"bearer": []}]
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def proxy_event(
    *,
    method: str,
    path: str,
    compiled: CompiledRoute,
    path_parameters: Mapping[str, str],
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """The API Gateway REST API proxy event of one request, with a Cognito authorizer's claims."""
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    request_id = str(uuid.uuid4())
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": compiled.route.path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {n: v[-1] for n, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": compiled.route.path,
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            "authorizer": {
                "claims": {
                    "sub": LOCAL_SUBJECT,
                    "client_id": "local",
                    "token_use": "access",
                    "scope": " ".join(s.full_name for s in SCOPES),
                }
            },
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


class LambdaContext:
    """What handlers read of the Lambda context."""

    function_name = "local"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    aws_request_id = "local"

    def __init__(self, function: FunctionSpec, request_id: str) -> None:
        self.function_name = f"exportintel-local-{function.unit}"
        self.invoked_function_arn = (
            f"arn:aws:lambda:ap-northeast-2:123456789012:function:{self.function_name}"
        )
        self.aws_request_id = request_id

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


class LocalApi(ThreadingHTTPServer):
    """The HTTP server: one adapter for every function, a lock per function."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        token: str,
        *,
        log_requests: bool = True,
        site: Path | None = None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.token = token
        self.log_requests = log_requests
        self.site = site.resolve() if site is not None else None
        # Powertools warns when a refused request recorded no metric: expected, not news.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self.locks = {f.unit: threading.Lock() for f in API_FUNCTIONS}
        for function in API_FUNCTIONS:
            load_handler(function)  # import errors surface at start, not on the first call

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def invoke(self, compiled: CompiledRoute, event: dict[str, Any]) -> dict[str, Any]:
        handler = load_handler(compiled.function)
        context = LambdaContext(compiled.function, event["requestContext"]["requestId"])
        with self.locks[compiled.function.unit]:
            try:
                result: dict[str, Any] = handler.lambda_handler(event, context)
            finally:
                drop_metrics(handler)
        return result


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApi
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: with Nagle on, the body waits for the
    # client's delayed ACK (tens of ms per keep-alive request on loopback).
    disable_nagle_algorithm = True
    error_content_type = "application/json"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def __getattr__(self, name: str) -> Any:
        # Every method (`do_GET`, `do_TRACE`, any other verb) goes through the route table,
        # which answers 405 for a known path and 404 otherwise, as API Gateway would.
        if name.startswith("do_"):
            return lambda: self._serve(name[3:])
        raise AttributeError(name)

    def _reply(
        self, status: int, body: bytes, headers: Mapping[str, str | list[str]] | None = None
    ) -> None:
        self.send_response(status)
        sent = {k.lower() for k in (headers or {})}
        for name, value in (headers or {}).items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(name, str(item))
        if "content-type" not in sent:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": code, "message": message}).encode()
        extra = {"WWW-Authenticate": "Bearer"} if status == HTTPStatus.UNAUTHORIZED else {}
        self._reply(status, body, extra)

    def _site_file(self, path: str) -> Path | None:
        """The site's file for a URL path; None for anything outside the site, a directory
        (no listings) or a hidden file."""
        root = self.server.site
        assert root is not None
        relative = unquote(path).lstrip("/") or "index.html"
        parts = relative.split("/")
        if "\x00" in relative or "\\" in relative or any(p in ("", ".", "..") for p in parts):
            return None
        if any(p.startswith(".") for p in parts):
            return None
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    def _static(self, path: str) -> None:
        found = self._site_file(path)
        if found is None:
            body = json.dumps({"error": "not_found", "message": f"no page {path}"}).encode()
            self._reply(HTTPStatus.NOT_FOUND, body, SITE_HEADERS)
            return
        content_type = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
        self._reply(
            HTTPStatus.OK, found.read_bytes(), {**SITE_HEADERS, "Content-Type": content_type}
        )

    def _config(self) -> None:
        """The dashboard's settings with the development token: to this machine only."""
        if self.client_address[0] not in ("127.0.0.1", "::1"):
            self._error(HTTPStatus.FORBIDDEN, "forbidden", "the local config is for loopback only")
            return
        config = {"apiBase": API_PREFIX, "auth": {"kind": "token", "token": self.server.token}}
        headers = {**SITE_HEADERS, "Cache-Control": "no-store"}
        self._reply(HTTPStatus.OK, json.dumps(config).encode(), headers)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.server.token.encode()
        )

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        length_header = self.headers.get("Content-Length") or "0"
        try:
            length = int(length_header)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length is not a number")
            return
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", f"at most {MAX_BODY_BYTES} bytes"
            )
            return
        body = self.rfile.read(length) if length else b""
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            path = path[len(API_PREFIX) :] or "/"
        elif self.server.site is not None and method in ("GET", "HEAD"):
            if path == CONFIG_PATH:
                self._config()
                return
            if not match(method, path)[2] and path != OPENAPI_PATH:
                self._static(path)
                return
        if method == "GET" and path == OPENAPI_PATH:
            document = openapi_document(self.server.url)
            self._reply(HTTPStatus.OK, json.dumps(document, ensure_ascii=False).encode())
            return
        if not self._authorised():
            self._error(HTTPStatus.UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
            return
        compiled, parameters, path_known = match(method, path)
        if compiled is None:
            if path_known:
                self._error(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", f"no {method}")
            else:
                self._error(HTTPStatus.NOT_FOUND, "no_route", f"no route {method} {path}")
            return
        event = proxy_event(
            method=method,
            path=path,
            compiled=compiled,
            path_parameters=parameters,
            query=parts.query,
            headers={k: v for k, v in self.headers.items()},
            body=body,
            source_ip=self.client_address[0],
        )
        try:
            result = self.server.invoke(compiled, event)
        except Exception as error:  # a handler crash is what API Gateway reports as a 502
            sys.stderr.write(f"handler {compiled.function.unit} failed: {error!r}\n")
            self._error(HTTPStatus.BAD_GATEWAY, "internal_error", "the function failed")
            return
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        headers: dict[str, str | list[str]] = dict(result.get("headers") or {})
        headers.update(result.get("multiValueHeaders") or {})
        self._reply(int(result.get("statusCode", 200)), data, headers)


def serve(
    token: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_requests: bool = True,
    site: Path | None = None,
) -> LocalApi:
    """A started server (on a thread) answering at `.url`; `shutdown()` stops it. With `site`
    (a folder from `build_site`) it also serves the dashboard."""
    server = LocalApi((host, port), token, log_requests=log_requests, site=site)
    threading.Thread(target=server.serve_forever, name="local-api", daemon=True).start()
    return server
