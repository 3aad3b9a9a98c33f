"""One collector run: fetch a feed for a day, parse it, put it on the feeds Firehose."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from exportintel.collectors.feeds import Feed, Record, Request
from exportintel.ingest.delivery import FIREHOSE_LIMITS, OutRecord, PutCall, deliver

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class CollectResult:
    feed: str
    dataset: str
    date: str
    records: int
    accepted: int
    retried: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def yesterday_in_seoul(now: dt.datetime | None = None) -> dt.date:
    """Feeds publish a day's values after it ends: collect the day before today in Seoul."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(SEOUL).date() - dt.timedelta(days=1)


def to_out_records(feed: Feed, day: dt.date, records: list[Record]) -> list[OutRecord]:
    """Newline-terminated JSON carrying `_dataset`, the key Firehose partitions raw by."""
    return [
        OutRecord(
            data=json.dumps(
                {**record, "_dataset": feed.dataset, "_feed": feed.name,
                 "_collected_for": day.isoformat()},
                ensure_ascii=False, sort_keys=True,
            ).encode("utf-8") + b"\n",
            source=f"{feed.name}/{day.isoformat()}",
        )
        for record in records
    ]  # fmt: skip


def collect(
    feed: Feed,
    day: dt.date,
    *,
    api_key: str | None,
    fetch: Callable[[Request], bytes],
    put: PutCall,
) -> CollectResult:
    """Fetch, parse and deliver; raises (and so is retried) unless every record is accepted."""
    if feed.needs_key and not api_key:
        raise ValueError(f"feed {feed.name} needs an API key and none was configured")
    records = feed.parse(fetch(feed.request(day, api_key)), day)
    # No dead-letter sink here: a failure raises, the invocation fails and Lambda retries it,
    # then hands the event to the on-failure destination. Re-sent records are deduplicated
    # by their natural key when curated.
    tally = deliver(to_out_records(feed, day, records), put, limits=FIREHOSE_LIMITS)
    return CollectResult(feed.name, feed.dataset, day.isoformat(), len(records),
                         tally.accepted, tally.retried)  # fmt: skip
