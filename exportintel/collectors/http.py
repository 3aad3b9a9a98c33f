"""HTTPS GET with retries: backoff on 429 and 5xx, honouring Retry-After, then a clear error."""

from __future__ import annotations

import urllib3
from urllib3.util.retry import Retry

from exportintel.collectors.feeds import FeedError, Request

RETRY = Retry(
    total=4,
    backoff_factor=1.0,  # 0, 2, 4, 8 seconds
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=frozenset({"GET"}),
    respect_retry_after_header=True,
    raise_on_status=False,
)
TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)


def https_get(request: Request, *, pool: urllib3.PoolManager | None = None) -> bytes:
    """The body of a successful answer; FeedError for anything else, after retries."""
    manager = pool or urllib3.PoolManager(retries=RETRY, timeout=TIMEOUT)
    try:
        response = manager.request("GET", request.url, fields=request.params,
                                   headers=request.headers)  # fmt: skip
    except urllib3.exceptions.HTTPError as error:
        raise FeedError(f"GET {request.url} failed: {error}") from None
    if response.status >= 400:
        raise FeedError(f"GET {request.url} answered {response.status}: {response.data[:200]!r}")
    body: bytes = response.data
    return body
