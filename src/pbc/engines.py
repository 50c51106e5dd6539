"""The analytical engine: one ibis connection, DuckDB (embedded, the default) or PySpark (national scale).

Pipelines are written once as ibis expressions and run unchanged on either engine (docs/adr/0001-engines.md). To
stay portable they avoid what one engine lacks: no `asof_join`, no seeded `sample`, no raw SQL, and large results
are written with `to_parquet` rather than collected. With the pinned ibis 12.0 and duckdb 2.0, `con.sql()` and
`to_pyarrow_batches()` are broken on DuckDB, so pbc never uses them.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from pbc.errors import SettingsError
from pbc.settings import Settings, load_settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from pyspark.sql import SparkSession


def connect(settings: Settings | None = None) -> BaseBackend:
    """An ibis connection for the configured engine (`PBC_ENGINE`)."""
    settings = settings or load_settings()
    if settings.engine == "pyspark":
        return ibis.pyspark.connect(spark_session(settings.spark_master, settings.spark_driver_memory))
    config: dict[str, object] = {}
    if settings.duckdb_threads:
        config["threads"] = settings.duckdb_threads
    if settings.duckdb_memory_limit:
        config["memory_limit"] = settings.duckdb_memory_limit
    con = ibis.duckdb.connect(**config)
    con.raw_sql("SET enable_progress_bar = false")  # pbc reports progress itself; no bars in its output
    return con


@cache
def spark_session(master: str = "local[2]", driver_memory: str = "4g") -> SparkSession:
    """A Spark session for this process, created once (starting Spark takes seconds)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SettingsError(
            "PBC_ENGINE=pyspark needs the spark extra: install pbc with `pip install 'pbc[spark]'` "
            "(`make test` installs it), or set PBC_ENGINE=duckdb"
        ) from None
    if shutil.which("java") is None:
        raise SettingsError(
            "PBC_ENGINE=pyspark needs Java 17 or later on PATH "
            "(on Debian: apt-get install openjdk-17-jre-headless), or set PBC_ENGINE=duckdb"
        )
    session = (
        SparkSession.builder.master(master)
        .appName("pbc")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def read_table(con: BaseBackend, path: Path, name: str) -> ibis.Table:
    """Expose a warehouse Parquet file to the engine under a name."""
    return con.read_parquet(str(path), table_name=name)


def read_parquet_files(con: BaseBackend, paths: list[Path], name: str) -> ibis.Table:
    """Expose several Parquet files (of one schema) as one table.

    ibis passes a list of paths to Spark as one string, so for Spark the session reads them directly.
    """
    if not paths:
        raise ValueError(f"no Parquet files for {name}")
    if con.name == "pyspark":
        frame = con._session.read.parquet(*(str(p) for p in paths))
        frame.createOrReplaceTempView(name)
        return con.table(name)
    return con.read_parquet([str(p) for p in paths], table_name=name)
