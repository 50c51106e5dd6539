"""Tables on pages: one definition renders as HTML and downloads as CSV or XLSX (every table downloads)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook

from pbc.money import plain_pounds, pounds


@dataclass(frozen=True)
class Column:
    """A column: the row key, the heading, and how to show it (text, number, money, percent)."""

    key: str
    label: str
    kind: str = "text"

    def show(self, value: Any) -> str:
        """The value as people read it."""
        if value is None:
            return ""
        if self.kind == "money":
            return pounds(int(value))
        if self.kind == "number":
            return f"{value:,}"
        if self.kind == "percent":
            return f"{value:+.1f}%"
        return str(value)


@dataclass
class Table:
    """A titled table of rows, with a name to download it by."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # column key -> URL pattern with {value}

    def cells(self) -> list[list[tuple[str, str | None, bool]]]:
        """Each row's cells as (text, link, numeric) for the template."""
        out = []
        for row in self.rows:
            cells = []
            for c in self.columns:
                link = self.links[c.key].format(value=row.get(c.key)) if c.key in self.links else None
                cells.append((c.show(row.get(c.key)), link, c.kind in ("number", "money", "percent")))
            out.append(cells)
        return out

    def download(self, kind: str) -> HttpResponse:
        """The table as CSV or XLSX: money in pounds with pence as numbers, so a spreadsheet can add them up."""
        header = [c.label for c in self.columns]
        values = [[_plain(c, row.get(c.key)) for c in self.columns] for row in self.rows]
        if kind == "xlsx":
            book = Workbook()
            sheet = book.active
            sheet.title = self.name[:31]
            sheet.append(header)
            for line in values:
                sheet.append(line)
            buffer = io.BytesIO()
            book.save(buffer)
            response = HttpResponse(
                buffer.getvalue(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(header)
            writer.writerows(values)
            response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.name}.{"xlsx" if kind == "xlsx" else "csv"}"'
        return response


def _plain(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind == "money":
        return plain_pounds(int(value))
    return value
