"""The offline platform: a moto server standing in for AWS, provisioned from the single sources.

- `emulation`: `LocalEmulation` (in-process server), `EmulatedAws` (clients on an endpoint),
  `environ()` (what points boto3 at it);
- `server`: the detached server behind `exportintel local up|down|status`;
- `provision`: buckets, stream, delivery streams, Glue tables and the key secret;
- `pump`: Kinesis -> Firehose and stream consumers, which moto does not run;
- `raw_layout`: files Firehose output under `<dataset>/dt=.../` as AWS does;
- `state`: the state folder (`.local/`) and the persisted pseudonymisation key.

Nothing here is imported by the core package, and moto is imported only when a server starts.
"""
