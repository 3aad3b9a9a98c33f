"""Pseudonyms are stable and keyed; scrubbing removes contact details and keeps the words."""

from __future__ import annotations

import pytest

from exportintel.privacy import pseudonymise, scrub

KEY = bytes(range(32))


def test_pseudonyms_are_stable_keyed_and_opaque() -> None:
    first = pseudonymise("kim.minji@example.co.kr", KEY)
    assert first == pseudonymise("kim.minji@example.co.kr", KEY)
    assert first != pseudonymise("kim.minji@example.co.kr", bytes(reversed(range(32))))
    assert first != pseudonymise("lee.minji@example.co.kr", KEY)
    assert first is not None and "kim" not in first and len(first) == 2 + 64
    assert pseudonymise(None, KEY) is None


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        pseudonymise("x", b"short")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 010-1234-5678 for samples", "call [PHONE] for samples"),
        ("+82 10 9876 5432 cosmetics", "[PHONE] cosmetics"),
        ("office 02-123-4567", "office [PHONE]"),
        ("mail buyer@shop.com.vn please", "mail [EMAIL] please"),
        ("01098765432", "[PHONE]"),
        ("(+1) 415 555 0100", "(+1) [PHONE]"),
    ],
)
def test_scrub_removes_phones_and_emails(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text", ["HS 850440 transformers", "red ginseng 2024", "ISO 9001 certified", "size 1200x800"]
)
def test_scrub_keeps_product_words_and_codes(text: str) -> None:
    assert scrub(text) == text
