"""Money for people: integer pence shown as pounds, exactly (no float ever touches a figure on its way out)."""

from __future__ import annotations


def pounds(pence: int | None) -> str:
    """Integer pence as '£1,234.56' (or '-£...'); blank for no figure."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def plain_pounds(pence: int | None) -> str:
    """Integer pence as '1234.56' (or '-1234.56'): for files and spreadsheets; blank for no figure."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"
