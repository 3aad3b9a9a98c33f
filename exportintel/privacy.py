"""Personal-data treatment before the curated zone: keyed pseudonyms and free-text scrubbing.

Pseudonyms are HMAC-SHA256 with a secret key (held in Secrets Manager, stable over time), so
the same person maps to the same token in every batch: joins and dedupe keep working, while
nobody without the key can reverse or recompute them. The patterns are plain regular
expressions so Spark (`regexp_replace`) and Python apply exactly the same rules.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# E-mail first: an address may contain digit runs that the phone pattern would also match.
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# International (+82 10 1234 5678), Korean mobile/landline (010-1234-5678, 02-123-4567) and
# plain 9-11 digit runs; separators: space, dot, hyphen, parentheses.
PHONE_PATTERN = r"(?:\+\d{1,3}[\s.\-]?)?(?:\(?\d{2,4}\)?[\s.\-]?)\d{3,4}[\s.\-]?\d{4}(?!\d)"
EMAIL_TOKEN = "[EMAIL]"
PHONE_TOKEN = "[PHONE]"
PSEUDONYM_PREFIX = "p_"

_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)


def pseudonymise(value: str | None, key: bytes) -> str | None:
    """A stable keyed pseudonym of `value` (None stays None)."""
    if value is None:
        return None
    if len(key) < 32:
        raise ValueError("the pseudonymisation key must be at least 32 bytes")
    digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest


def scrub(text: str | None) -> str | None:
    """Free text without e-mail addresses and phone numbers (replaced by tokens)."""
    if text is None:
        return None
    return _PHONE.sub(PHONE_TOKEN, _EMAIL.sub(EMAIL_TOKEN, text))
