"""Spark ETL functions shared by the Glue job entry points and the local runner."""
