"""How verbs print: a readable table for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from pbc.errors import PbcError
from pbc.money import pounds

__all__ = ["check_output", "json_option", "pounds", "print_json", "print_table", "say", "write_table"]

OUTPUT_SUFFIXES = (".csv", ".parquet")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    return value


def check_output(out: Path) -> None:
    """Refuse an output file pbc cannot write, before any work is done."""
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise PbcError(f"--out {out}: name a .csv or .parquet file")


def write_table(table: pa.Table, out: Path) -> None:
    """Write a table as CSV or Parquet, chosen by the file's suffix."""
    check_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table, out)


def print_json(data: Any) -> None:
    """Print data as indented JSON (dates as ISO strings)."""
    click.echo(json.dumps(data, indent=2, default=_plain))


def print_table(rows: Sequence[dict[str, Any]], title: str | None = None, columns: Sequence[str] | None = None) -> None:
    """Print rows as a text table."""
    console = Console(soft_wrap=True)
    if not rows:
        console.print(f"{title}: none" if title else "none")
        return
    table = Table(title=title, title_justify="left")
    names = list(columns or rows[0].keys())
    for name in names:
        table.add_column(name.replace("_", " "))
    for row in rows:
        table.add_row(*("" if row.get(n) is None else str(_plain(row.get(n))) for n in names))
    console.print(table)


def say(message: str) -> None:
    """Print a line of progress or summary text."""
    Console(soft_wrap=True).print(message, highlight=False)
