"""Scripted stand-ins for the Kinesis, Firehose and S3 clients: partial failures on demand.

moto accepts every record, so retries and dead letters are exercised against these. A script
is a list, one entry per call: a dict {record index: error code} of records to fail, or an
exception to raise for the whole call; calls past the end of the script succeed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

Step = Mapping[int, str] | Exception


def client_error(code: str, operation: str = "PutRecords") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (scripted)"}}, operation)


class _Scripted:
    def __init__(self, script: Sequence[Step] = (), *, always_fail: Mapping[bytes, str] = {}):
        self.script = list(script)
        self.always_fail = dict(always_fail)  # record data -> error code, on every call
        self.calls: list[list[bytes]] = []

    def _answer(self, data: list[bytes]) -> list[str | None]:
        self.calls.append(data)
        step: Step = self.script.pop(0) if self.script else {}
        if isinstance(step, Exception):
            raise step
        return [step.get(i, self.always_fail.get(d)) for i, d in enumerate(data)]


class ScriptedKinesis(_Scripted):
    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        errors = self._answer([r["Data"] for r in Records])
        return {
            "FailedRecordCount": sum(e is not None for e in errors),
            "Records": [
                {"ErrorCode": e, "ErrorMessage": "scripted"}
                if e
                else {"SequenceNumber": str(i), "ShardId": "shardId-000000000000"}
                for i, e in enumerate(errors)
            ],
        }


class ScriptedFirehose(_Scripted):
    def put_record_batch(
        self, *, DeliveryStreamName: str, Records: list[dict[str, Any]]
    ) -> dict[str, Any]:
        errors = self._answer([r["Data"] for r in Records])
        return {
            "FailedPutCount": sum(e is not None for e in errors),
            "Encrypted": False,
            "RequestResponses": [
                {"ErrorCode": e, "ErrorMessage": "scripted"} if e else {"RecordId": str(i)}
                for i, e in enumerate(errors)
            ],
        }


class ScriptedS3:
    """upload_file fails with the scripted error codes, in order, then succeeds."""

    def __init__(self, failures: Mapping[str, Sequence[str]] | None = None) -> None:
        self.failures = {name: list(codes) for name, codes in (failures or {}).items()}
        self.uploads: dict[str, bytes] = {}
        self.attempts: list[str] = []

    def upload_file(self, filename: str, bucket: str, key: str, **_: Any) -> None:
        name = Path(filename).name
        self.attempts.append(key)
        pending = self.failures.get(name, [])
        if pending:
            code = pending.pop(0)
            raise S3UploadFailedError(
                f"Failed to upload {filename} to {bucket}/{key}: An error occurred ({code}) "
                "when calling the PutObject operation: scripted"
            )
        self.uploads[key] = Path(filename).read_bytes()
