"""Serving: what the API and the live counters share (tables, routes, matching and continuity
reads, event intake, live counters). Pure Python over boto3: no pandas or numpy, so the API
functions stay small and start fast."""
