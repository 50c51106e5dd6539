"""What the bench jobs share."""

from __future__ import annotations

import duckdb


def quiet_duckdb() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that draws no progress bar (it would end up in the JSON report)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con
