"""One way to get a Spark session, in Glue and on a laptop."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def spark_session(app_name: str) -> SparkSession:
    """Glue (spark-submit) sets the master; run by hand or in tests, use local cores."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).config("spark.sql.session.timeZone", "UTC")
    if not SparkConf().contains("spark.master"):
        builder = (
            builder.master(os.environ.get("EXPORTINTEL_SPARK_MASTER", "local[2]"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={LOG_CONFIG}")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", os.environ.get("EXPORTINTEL_SPARK_MEMORY", "2g"))
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "5000")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
