"""Finish what moto's Firehose leaves undone: put delivered objects where AWS would put them.

moto writes every `PutRecordBatch` as one object at `<Prefix>YYYY/MM/DD/HH/<name>`, with the
prefix taken literally: `!{timestamp:...}` and `!{partitionKeyFromQuery:...}` are not
evaluated, and dynamic partitioning is ignored. `normalise_delivery` reads the delivery
stream's own configuration (so it follows whatever was provisioned) and re-keys each such
object the way Firehose names its output:

- `!{timestamp:<format>}` becomes the object's arrival time (from moto's object name, UTC,
  shifted to the stream's `CustomTimeZone` when one is set), as Firehose formats it;
- with dynamic partitioning, the object is split record by record by the
  `MetadataExtractionQuery` (a `{"key": .field}` object; the subset of JQ the platform uses),
  one object per partition value, under the same object name; records whose key cannot be
  extracted go to the `ErrorOutputPrefix` with `!{firehose:error-output-type}` =
  `processing-failed`, where AWS would put them too;
- the stream's `FileExtension`, if any, is appended.

Record bytes are kept as delivered; when splitting, each record is written newline-terminated
(what the feeds stream's `AppendDelimiterToRecord` processor guarantees; AWS would double the
producers' own newline into a blank line, which the ETL skips either way).
Re-keyed objects no longer match moto's pattern, so running it again does nothing: it is
safe after every pump pass and after every ingestion.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

_EXPRESSION = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
_MOTO_SUFFIX = re.compile(
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/"
    r"(?P<name>[^/]+-(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[^/]+)$"
)
# Firehose's timestamp patterns are Java DateTimeFormatter patterns; these are the fields a
# prefix uses.
_DATE_TOKENS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_DATE_TOKEN = re.compile("|".join(_DATE_TOKENS))
_QUERY_ENTRY = re.compile(r'^\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*:\s*\.([A-Za-z_][\w.]*)\s*$')
PROCESSING_FAILED = "processing-failed"


@dataclass
class NormaliseResult:
    objects: int = 0  # moto objects re-keyed
    written: int = 0  # objects written in their place
    records: int = 0  # records of split objects
    errors: int = 0  # records sent to the error prefix

    def add(self, other: NormaliseResult) -> None:
        self.objects += other.objects
        self.written += other.written
        self.records += other.records
        self.errors += other.errors


def java_time_format(pattern: str, moment: dt.datetime) -> str:
    """A Firehose `!{timestamp:...}` pattern (yyyy, MM, dd, HH, mm, ss) applied to `moment`."""
    return moment.strftime(_DATE_TOKEN.sub(lambda m: _DATE_TOKENS[m.group(0)], pattern))


def render_prefix(
    template: str,
    arrival: dt.datetime,
    partition_keys: Mapping[str, str] | None = None,
    error_output_type: str | None = None,
) -> str:
    """A Firehose prefix with its `!{namespace:expression}` parts evaluated."""

    def evaluate(match: re.Match[str]) -> str:
        namespace, expression = match.group(1), match.group(2)
        if namespace == "timestamp":
            return java_time_format(expression, arrival)
        if namespace == "partitionKeyFromQuery" and partition_keys is not None:
            return partition_keys[expression]
        if namespace == "firehose" and expression == "error-output-type" and error_output_type:
            return error_output_type
        raise ValueError(f"cannot evaluate !{{{namespace}:{expression}}} in {template!r}")

    return _EXPRESSION.sub(evaluate, template)


def parse_extraction_query(query: str) -> dict[str, list[str]]:
    """`{"dataset":._dataset}` -> {"dataset": ["_dataset"]} (objects of field paths only)."""
    body = query.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"unsupported MetadataExtractionQuery {query!r}")
    keys: dict[str, list[str]] = {}
    for entry in body[1:-1].split(","):
        match = _QUERY_ENTRY.match(entry)
        if match is None:
            raise ValueError(f"unsupported MetadataExtractionQuery {query!r}")
        keys[match.group(1)] = match.group(2).split(".")
    return keys


def extract_keys(record: bytes, query: Mapping[str, list[str]]) -> dict[str, str] | None:
    """The partition keys of one record, or None where JQ would yield no usable value."""
    try:
        value: Any = json.loads(record)
    except ValueError:
        return None
    keys: dict[str, str] = {}
    for name, path in query.items():
        current = value
        for part in path:
            current = current.get(part) if isinstance(current, dict) else None
        if current is None or isinstance(current, dict | list) or current == "":
            return None
        keys[name] = current if isinstance(current, str) else json.dumps(current)
    return keys


def split_records(body: bytes) -> Iterator[bytes]:
    """The records of a delivered object: newline-delimited, or JSON values run together."""
    decoder = json.JSONDecoder()
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        text = line.decode("utf-8", errors="surrogateescape")
        pieces: list[str] = []
        position = 0
        try:
            while position < len(text):
                _, end = decoder.raw_decode(text, position)
                pieces.append(text[position:end])
                while end < len(text) and text[end].isspace():
                    end += 1
                position = end
        except ValueError:
            # Not JSON: one record, kept as it came (it will fail extraction, not vanish).
            yield line
            continue
        for piece in pieces:
            yield piece.encode("utf-8", errors="surrogateescape")


@dataclass(frozen=True)
class _Destination:
    bucket: str
    prefix: str
    error_prefix: str
    time_zone: dt.tzinfo
    extension: str
    query: dict[str, list[str]] | None


def _destination(firehose: Any, delivery_stream: str) -> _Destination:
    description = firehose.describe_delivery_stream(DeliveryStreamName=delivery_stream)
    destination = description["DeliveryStreamDescription"]["Destinations"][0]
    s3 = destination.get("ExtendedS3DestinationDescription") or destination.get(
        "S3DestinationDescription", {}
    )
    query = None
    if s3.get("DynamicPartitioningConfiguration", {}).get("Enabled"):
        for processor in s3.get("ProcessingConfiguration", {}).get("Processors", []):
            if processor.get("Type") != "MetadataExtraction":
                continue
            for parameter in processor.get("Parameters", []):
                if parameter["ParameterName"] == "MetadataExtractionQuery":
                    query = parse_extraction_query(parameter["ParameterValue"])
    zone = s3.get("CustomTimeZone")
    return _Destination(
        bucket=s3["BucketARN"].split(":::", 1)[-1],
        prefix=s3.get("Prefix", ""),
        error_prefix=s3.get("ErrorOutputPrefix", ""),
        time_zone=ZoneInfo(zone) if zone else dt.UTC,
        extension=s3.get("FileExtension", ""),
        query=query,
    )


def normalise_delivery(s3: Any, firehose: Any, delivery_stream: str) -> NormaliseResult:
    """Re-key the objects moto delivered for one delivery stream (see the module docstring)."""
    destination = _destination(firehose, delivery_stream)
    result = NormaliseResult()
    if "!{" not in destination.prefix:
        return result  # a plain prefix: moto's YYYY/MM/DD/HH/ layout is Firehose's own
    for key in _delivered_keys(s3, destination):
        match = _MOTO_SUFFIX.fullmatch(key[len(destination.prefix) :])
        if match is None:
            continue
        arrival = dt.datetime.strptime(match["ts"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=dt.UTC)
        arrival = arrival.astimezone(destination.time_zone)
        name = match["name"] + destination.extension
        result.objects += 1
        if destination.query is None:
            target = render_prefix(destination.prefix, arrival) + name
            s3.copy_object(
                Bucket=destination.bucket,
                Key=target,
                CopySource={"Bucket": destination.bucket, "Key": key},
            )
            result.written += 1
        else:
            body = s3.get_object(Bucket=destination.bucket, Key=key)["Body"].read()
            groups, error_target = _partition(body, destination, arrival, name)
            for target, records in groups.items():
                s3.put_object(
                    Bucket=destination.bucket,
                    Key=target,
                    Body=b"".join(record + b"\n" for record in records),
                )
                result.written += 1
                result.records += len(records)
                if target == error_target:
                    result.errors += len(records)
        s3.delete_object(Bucket=destination.bucket, Key=key)
    return result


def _partition(
    body: bytes, destination: _Destination, arrival: dt.datetime, name: str
) -> tuple[dict[str, list[bytes]], str]:
    """Records grouped by target key, and the key of the group that failed extraction."""
    assert destination.query is not None
    groups: dict[str, list[bytes]] = {}
    error_target = (
        render_prefix(destination.error_prefix, arrival, error_output_type=PROCESSING_FAILED) + name
    )
    for record in split_records(body):
        keys = extract_keys(record, destination.query)
        target = (
            error_target
            if keys is None
            else render_prefix(destination.prefix, arrival, partition_keys=keys) + name
        )
        groups.setdefault(target, []).append(record)
    return groups, error_target


def _delivered_keys(s3: Any, destination: _Destination) -> list[str]:
    # moto writes the template literally, so its objects all start with the template itself.
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=destination.bucket, Prefix=destination.prefix
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def normalise_raw_layout(
    s3: Any, firehose: Any, delivery_streams: Sequence[str]
) -> NormaliseResult:
    """Normalise the output of each of `delivery_streams`."""
    total = NormaliseResult()
    for name in delivery_streams:
        total.add(normalise_delivery(s3, firehose, name))
    return total
