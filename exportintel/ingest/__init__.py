"""Ingestion into the raw zone: the clickstream stream, the feeds Firehose and extract files.

`layout` states where records land, `delivery` puts records with retries and dead letters,
`runner.ingest` sends a folder of JSON Lines dataset by dataset (`exportintel ingest`).
"""
