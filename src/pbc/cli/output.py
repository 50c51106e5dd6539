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
from pbc.finance.variance import Position
from pbc.money import pounds

__all__ = [
    "check_output",
    "json_option",
    "position_line",
    "pounds",
    "print_json",
    "print_table",
    "say",
    "variance_rows",
    "write_table",
]

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


def position_line(year: str, where: Position, detail: str = "") -> str:
    """'2007/08 as at September 2007 (...); final through ...; provisional: ...' for monitoring commands."""
    final = f"{where.final_through:%B %Y}" if where.final_through else "no month yet"
    provisional = ", ".join(f"{m:%b %Y}" for m in where.provisional)
    return (
        f"{year} as at {where.as_at:%B %Y}{f', {detail}' if detail else ''} ({where.elapsed} months); "
        f"final through {final}" + (f"; provisional: {provisional}" if provisional else "")
    )


def variance_rows(
    result: pa.Table, by: Sequence[str], plan: str, forecasts: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """Monitoring rows (`pbc.finance.variance.summarise`) for people: the month, the year to date and forecasts."""
    rows = []
    for r in result.to_pylist():
        pct = r["YTD_VARIANCE_PERCENT"]
        rows.append(
            {
                **{k.lower(): r[k] for k in by},
                f"month {plan}": pounds(r["MONTH_PLAN_PENCE"]),
                "month actual": pounds(r["MONTH_ACTUAL_PENCE"]),
                f"ytd {plan}": pounds(r["YTD_PLAN_PENCE"]),
                "ytd actual": pounds(r["YTD_ACTUAL_PENCE"]),
                "ytd variance": pounds(r["YTD_VARIANCE_PENCE"]) + ("" if pct is None else f" ({pct:+.1f}%)"),
                f"annual {plan}": pounds(r["ANNUAL_PLAN_PENCE"]),
                **{f"forecast ({label})": pounds(r[column]) for column, label in forecasts},
            }
        )
    return rows
