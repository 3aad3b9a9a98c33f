"""The staff dashboard: the static site in `web/` assembled for serving (locally or from S3)."""
