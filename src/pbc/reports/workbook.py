"""The practice monthly report as an Excel workbook: the same tables as the PDF, and the lines to validate.

Practices work through their validation in a spreadsheet, so the workbook keeps every figure as a number a
formula can use: counts as integers, money as exact decimal pounds (written from integer pence, never through a
float) in a pounds format. One sheet per table, with a header row, frozen panes and filters, and a Lines sheet
that is the month's worklist of flagged or challenged lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

POUNDS_FORMAT = '"£"#,##0.00;-"£"#,##0.00'


def _pounds(pence: int | None) -> Decimal | None:
    """Integer pence as exact decimal pounds for a cell (None stays empty)."""
    return None if pence is None else Decimal(pence).scaleb(-2)


def _sheet(
    book: Workbook, title: str, columns: Sequence[tuple[str, str]], rows: Sequence[dict[str, Any]], money: set[str]
) -> Worksheet:
    """A sheet of rows under a bold header; `columns` are (key, heading); keys in `money` are pence."""
    sheet = book.create_sheet(title)
    sheet.append([heading for _, heading in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_pounds(row.get(key)) if key in money else row.get(key) for key, _ in columns])
    for index, (key, heading) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        width = max([len(heading), *(len(str(row.get(key) or "")) for row in rows)]) + 2
        sheet.column_dimensions[letter].width = min(max(width, 10), 60)
        if key in money:
            for cell in sheet[letter][1:]:
                cell.number_format = POUNDS_FORMAT
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = sheet.dimensions
    return sheet


def write_workbook(context: dict[str, Any], out: Path) -> Path:
    """Write the monthly report's tables (`practice_monthly.month_context`) to an XLSX workbook."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    total = context["activity_total"]
    delivered = context["delivered"]
    facts: list[tuple[str, Any]] = [
        ("Practice", f"{context['name']} ({context['practice']})"),
        ("Month", context["month"].strftime("%B %Y")),
        ("Cluster", context["cluster"] or ""),
        ("Commissioner", context["commissioner"] or ""),
        ("Referrals made", context["referral_count"] if context["referrals_loaded"] else "not loaded"),
        ("Lines charged", total["LINES"]),
        ("Activity charged", total["ACTIVITY"]),
        ("Cost at tariff (£)", _pounds(total["PENCE"])),
        ("Cost after accepted challenges (£)", _pounds(total["CHARGED_PENCE"])),
        ("Lines flagged", total["FLAGGED"]),
        ("Challenges open", context["challenges"]["open"]),
        ("Challenges accepted", context["challenges"]["accepted"]),
        ("Challenges rejected", context["challenges"]["rejected"]),
        ("Report delivered", str(delivered["delivered_on"]) if delivered else "not recorded"),
    ]
    for label, value in facts:
        summary.append([label, value])
        if isinstance(value, Decimal):
            summary.cell(row=summary.max_row, column=2).number_format = POUNDS_FORMAT
    for cell in summary["A"]:
        cell.font = Font(bold=True)
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 48

    _sheet(
        book,
        "Validation",
        [
            ("LABEL", "Data set"),
            ("LINES", "Lines"),
            ("FLAGGED", "Flagged"),
            ("TO_CHECK", "To check"),
            ("OPEN", "Challenges open"),
            ("ACCEPTED", "Accepted"),
            ("REJECTED", "Rejected"),
        ],
        context["validation"],
        set(),
    )
    _sheet(
        book,
        "Rules",
        [("RULE", "Rule"), ("TITLE", "Finding"), ("DATASET", "Data set"), ("LINES", "Lines")],
        context["rules"],
        set(),
    )
    _sheet(
        book,
        "Activity",
        [
            ("POD", "POD"),
            ("LABEL", "Point of delivery"),
            ("LINES", "Lines"),
            ("ACTIVITY", "Activity"),
            ("PENCE", "Cost at tariff"),
            ("UNPRICED", "Not priced"),
            ("FLAGGED", "Flagged"),
            ("CHALLENGED", "Challenged"),
            ("ACCEPTED", "Accepted"),
        ],
        context["activity_by_pod"],
        {"PENCE"},
    )
    _sheet(
        book,
        "Providers",
        [
            ("PROCODE", "Provider"),
            ("NAME", "Name"),
            ("ACTIVITY", "Activity"),
            ("PENCE", "Cost"),
            ("FLAGGED", "Flagged"),
        ],
        context["activity_by_provider"],
        {"PENCE"},
    )
    _sheet(
        book,
        "Referrals",
        [
            ("SPECIALTY", "Specialty"),
            ("NAME", "Name"),
            ("ROUTINE", "Routine"),
            ("URGENT", "Urgent"),
            ("TWO_WEEK_WAIT", "Two-week wait"),
            ("TOTAL", "All"),
            ("FLAGGED", "Flagged"),
        ],
        context["referrals_by_specialty"],
        set(),
    )
    _sheet(
        book,
        "Lines",
        [
            ("DATASET", "Data set"),
            ("PROCODE", "Provider"),
            ("RECORD_KEY", "Record key"),
            ("POD", "POD"),
            ("SPECIALTY", "Specialty"),
            ("PENCE", "Cost at tariff"),
            ("FLAGS", "Rules"),
            ("CHALLENGE", "Challenge"),
        ],
        context["flagged_lines"],
        {"PENCE"},
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out
