"""Contract validation at the boundaries: what is accepted, what is rejected and why."""

from __future__ import annotations

import pytest

from exportintel.contracts import Contract, Field, FieldType, get_contract
from exportintel.contracts.validation import validate_record


def _export(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "firm_id": "EXP000123",
        "year": 2024,
        "hs_code": "850440",
        "destination_country": "USA",
        "export_value_usd": 125_000.0,
    }
    record.update(overrides)
    return record


def codes(contract_name: str, record: dict[str, object]) -> list[tuple[str, str]]:
    result = validate_record(get_contract(contract_name), record)
    return [(v.field, v.code) for v in result.violations]


def test_a_good_record_passes_and_is_parsed() -> None:
    result = validate_record(get_contract("export_history"), _export())
    assert result.ok, result.reason
    assert result.record["year"] == 2024
    assert result.record["export_value_usd"] == 125_000.0


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(0.0, True), (0, True), (1e-9, True), (-0.01, False), (float("nan"), False)],
)
def test_minimum_is_inclusive(value: float, accepted: bool) -> None:
    assert (codes("export_history", _export(export_value_usd=value)) == []) is accepted


@pytest.mark.parametrize(
    ("level", "expected"),
    [(0, []), (4, []), (-1, [("advisory_level", "out_of_range")]),
     (5, [("advisory_level", "out_of_range")]), (2.5, [("advisory_level", "bad_type")]),
     (True, [("advisory_level", "bad_type")]), ("3", [("advisory_level", "bad_type")])],
)  # fmt: skip
def test_integer_range_and_type(level: object, expected: list[tuple[str, str]]) -> None:
    record = {"country_code": "UKR", "effective_date": "2022-02-24", "advisory_level": level,
              "cause": "war"}  # fmt: skip
    assert codes("country_risk", record) == expected


def test_a_whole_float_is_an_integer() -> None:
    assert codes("export_history", _export(year=2024.0)) == []


def test_missing_required_and_empty_text_are_rejected() -> None:
    record = _export()
    del record["hs_code"]
    assert codes("export_history", record) == [("hs_code", "missing_required")]
    assert codes("export_history", _export(firm_id="")) == [("firm_id", "missing_required")]


def test_optional_fields_may_be_absent_or_null() -> None:
    events = get_contract("web_events")
    record = {
        "event_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "event_time": "2026-05-01T10:00:00+09:00",
        "event_type": "page_view",
        "cookie_consent": False,
        "session_id": "s-1",
        "actor_type": "anonymous",
        "page": "/fair/booths",
        "user_id": None,
    }
    result = validate_record(events, record)
    assert result.ok, result.reason
    assert result.record["event_time"].isoformat() == "2026-05-01T01:00:00+00:00"


def test_timestamps_need_a_time_zone() -> None:
    record = {"event_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
              "event_time": "2026-05-01T10:00:00", "event_type": "login", "cookie_consent": True,
              "session_id": "s", "actor_type": "buyer", "page": "/"}  # fmt: skip
    assert codes("web_events", record) == [("event_time", "bad_format")]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("destination_country", "XXX", "bad_format"), ("destination_country", "usa", "bad_format"),
     ("hs_code", "8504", "bad_format"), ("firm_id", "BUY0000001", "bad_format"),
     ("year", 1899, "out_of_range"), ("year", 2101, "out_of_range")],
)  # fmt: skip
def test_formats_and_year_bounds(field: str, value: object, code: str) -> None:
    assert codes("export_history", _export(**{field: value})) == [(field, code)]


def test_enums_and_dates() -> None:
    good = {"evaluation_id": "E-1", "firm_id": "EXP000001", "evaluated_on": "2024-02-29",
            "grade": "BBB", "bureau": "NICE"}  # fmt: skip
    assert codes("credit_evaluations", good) == []
    assert codes("credit_evaluations", {**good, "grade": "E"}) == [("grade", "not_allowed")]
    assert codes("credit_evaluations", {**good, "evaluated_on": "2023-02-29"}) == [
        ("evaluated_on", "bad_type")
    ]


def test_array_items_are_checked_one_by_one() -> None:
    buyers = get_contract("buyers")
    assert buyers.field("hs_codes_wanted").format == "hs6"
    record = {"buyer_id": "BUY0000001", "hs_codes_wanted": ["850440", "85"]}
    result = validate_record(buyers, record)
    assert ("hs_codes_wanted", "bad_format") in [(v.field, v.code) for v in result.violations]
    assert "'85' is not a HS code, 6 digits" in result.reason


def test_every_violation_of_a_record_is_reported() -> None:
    record = _export(year="2024", export_value_usd=-5, destination_country=None)
    assert sorted(codes("export_history", record)) == [
        ("destination_country", "missing_required"),
        ("export_value_usd", "out_of_range"),
        ("year", "bad_type"),
    ]


def test_contract_declarations_are_checked() -> None:
    field = Field(name="a", type=FieldType.INT, description="a")
    with pytest.raises(ValueError, match="primary key"):
        Contract(name="x", description="x", origin="derived", fields=(field,), primary_key=("b",))
    with pytest.raises(ValueError, match="duplicated"):
        Contract(name="x", description="x", origin="derived", fields=(field, field),
                 primary_key=("a",))  # fmt: skip
    with pytest.raises(ValueError, match="minimum"):
        Field(name="b", type=FieldType.INT, description="b", minimum=2, maximum=1)
    with pytest.raises(ValueError, match="unknown format"):
        Field(name="c", type=FieldType.STRING, description="c", format="nope")


def test_reasons_never_quote_personal_values() -> None:
    buyers = get_contract("buyers")
    result = validate_record(buyers, {"contact_phone": "010-12", "contact_email": "@naver.com"})
    reasons = {v.field: v.message for v in result.violations}
    assert reasons["contact_phone"] == (
        "the value (withheld: personal data) is not a phone number, international or Korean "
        "domestic form"
    )
    assert "naver" not in result.reason and "010-12" not in result.reason
    assert "'XX' is not" in validate_record(buyers, {"country_code": "XX"}).reason
