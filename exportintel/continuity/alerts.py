"""Risk-group changes: the firms that entered or left the risk group, published to SNS.

Each export-support officer follows the firms of a region or an HS chapter. After a scoring
run, the pipeline's alert step compares the risk group of the newest scored year with the one
that served before the run, writes the changes to S3 as JSON (`to_json`), and a second step
publishes them to the risk topic (`from_json`, `publish_changes`). Every message carries the
attributes `region`, `hs_chapter`, `change` and `size_band`, so each officer's subscription
filter policy (`filter_policy`, `exportintel alerts subscribe`) lets only their firms through.

A first run (nothing served before) yields no changes: without a previous group every risk firm
would "enter" at once, which is the dashboard's job, not an alert's. `compare` says so
(`RiskChanges.first_run`).

Messages (`MessageStructure="json"`): e-mail and every protocol without a key of its own get a
plain-text body in Korean and English (`message_text`); SQS, Lambda and HTTP(S) subscribers get
the change as one JSON object (`change_record`, the record of the S3 file), so programs never
parse prose. The Subject is ASCII and short: SNS refuses Subjects of 100 characters or more,
and e-mail relays have been known to mangle non-ASCII ones; the Korean text is in the body.

Only `compare` and `risk_changes` need pandas (imported when called): publishing runs with
boto3 and the standard library, so a small function can do it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from exportintel.contracts.continuity import RISK_FACTOR_COUNT, SIZE_BANDS
from exportintel.contracts.datasets import KOREAN_REGIONS

if TYPE_CHECKING:
    import pandas as pd

Change = Literal["entered", "left"]
CHANGES: tuple[Change, ...] = get_args(Change)
# Layout of the JSON between the two pipeline steps; bump when a field changes meaning.
SCHEMA = "continuity-risk-changes/1"
BATCH_SIZE = 10  # the most PublishBatch takes
ATTRIBUTES = ("region", "hs_chapter", "change", "size_band")
# SNS counts a filter policy's size as the product of its value lists and refuses above 150.
MAX_POLICY_COMBINATIONS = 150
SUBJECT_MAX = 99

_CHANGE_TEXT: dict[str, tuple[str, str]] = {
    "entered": ("수출 지속성 위험군 진입", "Entered the export continuity risk group"),
    "left": ("수출 지속성 위험군 이탈", "Left the export continuity risk group"),
}
_SIZE_TEXT = {"small": "소기업", "medium": "중기업", "large": "대기업"}


@dataclass(frozen=True)
class RiskChange:
    """One firm entering or leaving the risk group between two scorings."""

    firm_id: str
    change: Change
    year: int  # the newest scored year of this run
    continuity_index: float | None  # now; None when the firm is no longer scored
    previous_index: float | None  # in the index that served before; None for a new firm
    region: str | None
    hs_chapter: str | None
    size_band: str | None
    risk_factors_ko: tuple[str, ...]
    risk_factors_en: tuple[str, ...]
    model_version: str
    # False: the firm left the group because this run no longer scores it (it stopped
    # exporting, or has no feature row for the year), not because its index rose.
    scored: bool = True
    name: str | None = None


@dataclass(frozen=True)
class RiskChanges:
    """The changes of one run and what they compare: the payload written between two steps."""

    changes: tuple[RiskChange, ...]
    year: int | None
    model_version: str | None
    previous_year: int | None = None
    previous_version: str | None = None
    # True when nothing served before: no changes, on purpose.
    first_run: bool = False

    run_id: str | None = None  # the pipeline run that compared them, when known

    def counts(self) -> dict[str, int]:
        return {c: sum(1 for x in self.changes if x.change == c) for c in CHANGES}

    def render(self) -> str:
        if self.first_run:
            return f"first scoring ({self.year}, {self.model_version}): no earlier group, no alerts"
        counts = self.counts()
        return (
            f"{counts['entered']} entered, {counts['left']} left the risk group in {self.year} "
            f"({self.model_version}; before: {self.previous_year}, {self.previous_version})"
        )


@dataclass(frozen=True)
class PublishFailure:
    firm_id: str
    change: Change
    code: str
    message: str


@dataclass
class PublishSummary:
    sent: int = 0
    failed: int = 0
    calls: int = 0  # PublishBatch requests, retries included
    failures: list[PublishFailure] = field(default_factory=list)

    def render(self) -> str:
        return f"{self.sent} sent, {self.failed} failed in {self.calls} requests"


# --- comparing two scorings (pandas) ---------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    return None if _missing(value) or str(value) == "" else str(value)


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _texts(value: Any) -> tuple[str, ...]:
    # Parquet lists come back as numpy arrays, hand-made frames as lists; both iterate.
    if value is None or isinstance(value, str | bytes):
        return ()
    try:
        items = list(value)
    except TypeError:  # NaN or pd.NA: no factors
        return ()
    return tuple(str(v) for v in items if not _missing(v))[:RISK_FACTOR_COUNT]


def _newest(frame: pd.DataFrame, what: str) -> tuple[pd.DataFrame, int, str]:
    """The rows of the newest year of the newest model version in `frame`, by firm id.

    The `continuity_index` table keeps every version's rows; what serves is the newest version
    (versions sort by their timestamp prefix, as the serving load reads them).
    """
    missing = {"firm_id", "year", "continuity_index", "risk_group", "model_version"} - set(
        frame.columns
    )
    if missing:
        raise ValueError(f"the {what} index lacks the columns {', '.join(sorted(missing))}")
    version = str(sorted(frame["model_version"].astype(str).unique())[-1])
    rows = frame[frame["model_version"].astype(str) == version]
    year = int(rows["year"].max())
    rows = rows[rows["year"] == year]
    duplicated = rows["firm_id"][rows["firm_id"].duplicated()]
    if not duplicated.empty:
        raise ValueError(
            f"the {what} index has firm {duplicated.iloc[0]} twice in {year} ({version})"
        )
    return rows.set_index(rows["firm_id"].astype(str)), year, version


def _in_group(rows: pd.DataFrame) -> set[str]:
    flags = rows["risk_group"].map(lambda v: False if _missing(v) else bool(v))
    return set(rows.index[flags.to_numpy(dtype=bool)])


def _sort_key(change: RiskChange) -> tuple[Any, ...]:
    # Firms without a region or chapter come after the others of their change.
    return (
        CHANGES.index(change.change),
        change.region is None,
        change.region or "",
        change.hs_chapter is None,
        change.hs_chapter or "",
        change.firm_id,
    )


def compare(previous: pd.DataFrame | None, current: pd.DataFrame) -> RiskChanges:
    """The risk-group changes between the index that served before (`previous`, None on a
    first run) and this run's (`current`), each at its newest scored year.

    `entered`: in the group now and not before (including firms scored for the first time);
    `left`: in the group before and not now, including firms this run no longer scores
    (`scored=False`, no index now). Attributes and risk factors come from the current row,
    from the previous one for firms no longer scored. A `name` column, if present, is kept.
    """
    if current.empty:
        raise ValueError("the current index is empty: nothing was scored")
    now, year, version = _newest(current, "current")
    if previous is None or previous.empty:
        return RiskChanges(changes=(), year=year, model_version=version, first_run=True)
    before, previous_year, previous_version = _newest(previous, "previous")
    group_now, group_before = _in_group(now), _in_group(before)

    def change(firm_id: str, kind: Change) -> RiskChange:
        scored = firm_id in now.index
        row = now.loc[firm_id] if scored else before.loc[firm_id]
        earlier = before.loc[firm_id] if firm_id in before.index else None
        return RiskChange(
            firm_id=firm_id,
            change=kind,
            year=year,
            continuity_index=_number(row["continuity_index"]) if scored else None,
            previous_index=None if earlier is None else _number(earlier["continuity_index"]),
            region=_text(row.get("region")),
            hs_chapter=_text(row.get("hs_chapter")),
            size_band=_text(row.get("size_band")),
            risk_factors_ko=_texts(row.get("risk_factors_ko")) if scored else (),
            risk_factors_en=_texts(row.get("risk_factors_en")) if scored else (),
            model_version=version,
            scored=scored,
            name=_text(row.get("name"))
            or (None if earlier is None else _text(earlier.get("name"))),
        )

    changes = [change(f, "entered") for f in group_now - group_before]
    changes += [change(f, "left") for f in group_before - group_now]
    return RiskChanges(
        changes=tuple(sorted(changes, key=_sort_key)),
        year=year,
        model_version=version,
        previous_year=previous_year,
        previous_version=previous_version,
    )


def risk_changes(previous: pd.DataFrame | None, current: pd.DataFrame) -> list[RiskChange]:
    """`compare(...).changes` as a list: empty on a first run (see `is_first_run`)."""
    return list(compare(previous, current).changes)


def is_first_run(previous: pd.DataFrame | None) -> bool:
    """Nothing served before: `risk_changes` gives no changes by design, not for lack of any."""
    return previous is None or previous.empty


# --- the JSON between the pipeline steps -----------------------------------------------------


def change_record(change: RiskChange) -> dict[str, Any]:
    """One change as a JSON object (lists for the risk factors)."""
    record = asdict(change)
    record["risk_factors_ko"] = list(change.risk_factors_ko)
    record["risk_factors_en"] = list(change.risk_factors_en)
    return record


def _change_from_record(record: Mapping[str, Any]) -> RiskChange:
    if record.get("change") not in CHANGES:
        raise ValueError(f"unknown change {record.get('change')!r} of {record.get('firm_id')!r}")
    values = dict(record)
    values["risk_factors_ko"] = tuple(values.get("risk_factors_ko") or ())
    values["risk_factors_en"] = tuple(values.get("risk_factors_en") or ())
    known = set(RiskChange.__dataclass_fields__)
    return RiskChange(**{k: v for k, v in values.items() if k in known})


def to_json(changes: RiskChanges | Sequence[RiskChange], *, run_id: str | None = None) -> str:
    """The JSON object written between the steps. A bare list of changes takes its year and
    model version from its first change (and has no previous version)."""
    report = changes if isinstance(changes, RiskChanges) else _report_of(changes)
    document = {
        "schema": SCHEMA,
        "run_id": run_id or report.run_id,
        "year": report.year,
        "model_version": report.model_version,
        "previous_year": report.previous_year,
        "previous_version": report.previous_version,
        "first_run": report.first_run,
        "counts": report.counts(),
        "changes": [change_record(c) for c in report.changes],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def _report_of(changes: Sequence[RiskChange]) -> RiskChanges:
    first = changes[0] if changes else None
    return RiskChanges(
        changes=tuple(changes),
        year=first.year if first else None,
        model_version=first.model_version if first else None,
    )


def report_from_json(text: str | bytes) -> RiskChanges:
    """The whole payload back, checked: the schema it was written with and each change."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"not a {SCHEMA} document (schema {found!r})")
    return RiskChanges(
        changes=tuple(_change_from_record(r) for r in document.get("changes", [])),
        year=document.get("year"),
        model_version=document.get("model_version"),
        previous_year=document.get("previous_year"),
        previous_version=document.get("previous_version"),
        first_run=bool(document.get("first_run", False)),
        run_id=document.get("run_id"),
    )


def from_json(text: str | bytes) -> list[RiskChange]:
    """The changes of a `to_json` document."""
    return list(report_from_json(text).changes)


# --- messages -------------------------------------------------------------------------------


def message_attributes(change: RiskChange) -> dict[str, dict[str, str]]:
    """The attributes subscription filter policies match on; a missing value is left out
    (SNS refuses empty strings), so a filter on it does not match the message."""
    values = {
        "region": change.region,
        "hs_chapter": change.hs_chapter,
        "change": change.change,
        "size_band": change.size_band,
    }
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in values.items()
        if value
    }


def subject(change: RiskChange) -> str:
    """e.g. `Risk group: EXP000123 entered (Busan, HS 85, 2024)`; ASCII, under 100."""
    where = ", ".join(
        p for p in (change.region, change.hs_chapter and f"HS {change.hs_chapter}") if p
    )
    text = f"Risk group: {change.firm_id} {change.change} ({where + ', ' if where else ''}"
    text += f"{change.year})"
    text = text.encode("ascii", "replace").decode("ascii")
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."


def _index_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def message_text(change: RiskChange) -> str:
    """The body a person reads: Korean and English, line by line."""
    title_ko, title_en = _CHANGE_TEXT[change.change]
    firm = change.firm_id + (f" ({change.name})" if change.name else "")
    size = change.size_band
    lines = [
        f"[{title_ko}] {title_en}",
        "",
        f"기업 / Firm: {firm}",
        f"지역 / Region: {change.region or '–'}",
        f"HS 류 / HS chapter: {change.hs_chapter or '–'}",
        f"규모 / Size: {_SIZE_TEXT.get(size or '', '–')} / {size or '–'}",
        f"연도 / Year: {change.year}",
    ]
    if change.scored:
        lines.append(
            f"수출 지속성 지수 / Continuity index: {_index_text(change.continuity_index)} "
            f"(이전 / before: {_index_text(change.previous_index)})"
        )
    else:
        lines += [
            f"이전 지수 / Index before: {_index_text(change.previous_index)}",
            "이번 평가에서 지수가 산출되지 않았습니다 (수출 중단 또는 자료 없음).",
            "Not scored in this run (stopped exporting, or no data for the year).",
        ]
    if change.risk_factors_ko or change.risk_factors_en:
        lines += ["", "주요 위험 요인 / Top risk factors:"]
        ko, en = list(change.risk_factors_ko), list(change.risk_factors_en)
        for rank in range(max(len(ko), len(en))):
            pair = [t for t in (ko[rank : rank + 1] + en[rank : rank + 1]) if t]
            lines.append(f"{rank + 1}. " + " / ".join(pair))
    lines += ["", f"모델 / Model: {change.model_version}"]
    return "\n".join(lines)


def message(change: RiskChange) -> str:
    """The `Message` of `MessageStructure="json"`: text for people, JSON for programs."""
    record = json.dumps(change_record(change), ensure_ascii=False, sort_keys=True)
    text = message_text(change)
    return json.dumps(
        {
            "default": text,
            "email": text,
            "sqs": record,
            "lambda": record,
            "http": record,
            "https": record,
        },
        ensure_ascii=False,
    )


def batch_entry(entry_id: str, change: RiskChange) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "Message": message(change),
        "MessageStructure": "json",
        "Subject": subject(change),
        "MessageAttributes": message_attributes(change),
    }


# --- publishing ------------------------------------------------------------------------------


def publish_changes(
    sns_client: Any,
    topic_arn: str,
    changes: Iterable[RiskChange],
    *,
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> PublishSummary:
    """Publish the changes in batches of 10; retry the entries SNS failed for its own reasons.

    A failed entry is tried up to `attempts` times in all (entries failed for the sender's
    fault, a bad attribute for instance, are not retried: they would fail again) and then
    counted in `failed`, never raised. Errors of the whole request (the topic does not exist,
    access denied) raise: nothing of the batch was published.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    summary = PublishSummary()
    pending = list(changes)
    for start in range(0, len(pending), BATCH_SIZE):
        batch = {str(i): c for i, c in enumerate(pending[start : start + BATCH_SIZE])}
        for attempt in range(1, attempts + 1):
            response = sns_client.publish_batch(
                TopicArn=topic_arn,
                PublishBatchRequestEntries=[batch_entry(i, c) for i, c in batch.items()],
            )
            summary.calls += 1
            summary.sent += len(response.get("Successful", []))
            retry: dict[str, RiskChange] = {}
            for failure in response.get("Failed", []):
                change = batch[failure["Id"]]
                if failure.get("SenderFault") or attempt == attempts:
                    summary.failures.append(
                        PublishFailure(
                            firm_id=change.firm_id,
                            change=change.change,
                            code=str(failure.get("Code", "")),
                            message=str(failure.get("Message", "")),
                        )
                    )
                else:
                    retry[failure["Id"]] = change
            if not retry:
                break
            batch = retry
            sleep(backoff_seconds * 2 ** (attempt - 1))
    summary.failed = len(summary.failures)
    return summary


# --- officers' subscriptions -----------------------------------------------------------------


def _hs_chapter(value: str | int) -> str:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise ValueError(f"{value!r} is not an HS chapter (01-99)")
    return f"{int(text):02d}"


def filter_policy(
    regions: Iterable[str] = (),
    hs_chapters: Iterable[str | int] = (),
    changes: Iterable[str] = (),
    size_bands: Iterable[str] = (),
) -> dict[str, list[str]]:
    """A subscription filter policy (scope: message attributes) for an officer's firms.

    Lists are OR within an attribute and AND across them; an empty argument does not filter.
    A firm with no region (or chapter) reaches only subscriptions that do not filter on it.
    """
    policy: dict[str, list[str]] = {}
    given: list[tuple[str, list[str], tuple[str, ...] | None]] = [
        ("region", sorted(set(regions)), KOREAN_REGIONS),
        ("hs_chapter", sorted({_hs_chapter(c) for c in hs_chapters}), None),
        ("change", sorted(set(changes)), CHANGES),
        ("size_band", sorted(set(size_bands)), SIZE_BANDS),
    ]
    for name, values, allowed in given:
        unknown = [v for v in values if allowed is not None and v not in allowed]
        if allowed is not None and unknown:
            raise ValueError(f"unknown {name} {', '.join(unknown)}; one of {', '.join(allowed)}")
        if values:
            policy[name] = values
    combinations = math.prod(len(v) for v in policy.values())
    if combinations > MAX_POLICY_COMBINATIONS:
        raise ValueError(
            f"the filter has {combinations} combinations of values; SNS allows "
            f"{MAX_POLICY_COMBINATIONS}: subscribe twice with fewer regions or chapters each"
        )
    return policy
