"""Loaders for the NHS Organisation Data Service (ODS) extracts: GP practices (`epraccur`) and trusts (`etr`).

Both files come without a header, with fields numbered as in the ODS documentation. The practice file holds every
prescribing cost centre in England, open or closed; a GP practice is one whose prescribing setting is 4, and an
active one has status A. Closed practices keep their open and close dates, because activity from before they
closed still belongs to them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pbc.reference.records import Column, read_csv

GP_PRACTICE_SETTING = 4

STATUSES = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}

PRESCRIBING_SETTINGS = {
    0: "Other",
    1: "WIC Practice",
    2: "OOH Practice",
    3: "WIC + OOH Practice",
    4: "GP Practice",
    8: "Public Health Service",
    9: "Community Health Service",
    10: "Hospital Service",
    11: "Optometry Service",
    12: "Urgent & Emergency Care",
    13: "Hospice",
    14: "Care Home / Nursing Home",
    15: "Border Force",
    16: "Young Offender Institution",
    17: "Secure Training Centre",
    18: "Secure Children's Home",
    19: "Immigration Removal Centre",
    20: "Court",
    21: "Police Custody",
    22: "Sexual Assault Referral Centre",
    24: "Other - Justice Estate",
    25: "Prison",
}

_ORG_CODE = r"[A-Z0-9]{3,6}"
_POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"
_FLAG = frozenset({"0", "1"})

# Fields 2-10 mean the same in every ODS organisation file: name, groupings, address and postcode.
_NAME_AND_ADDRESS = (
    Column("name", 2, required=True),
    Column("national_grouping", 3),
    Column("health_geography", 4),
    *(Column(f"address_{i}", 4 + i) for i in range(1, 6)),
    Column("postcode", 10, pattern=_POSTCODE, describe="postcode"),
)

EPRACCUR_FIELDS = 27
EPRACCUR = (
    Column("code", 1, required=True, pattern=_ORG_CODE, describe="organisation code"),
    *_NAME_AND_ADDRESS,
    Column("open_date", 11, kind="date", required=True),
    Column("close_date", 12, kind="date"),
    Column("status", 13, required=True, choices=frozenset(STATUSES)),
    Column("subtype", 14),
    Column("commissioner_code", 15, pattern=_ORG_CODE, describe="commissioner code"),
    Column("join_date", 16, kind="date"),
    Column("left_date", 17, kind="date"),
    Column("phone", 18),
    Column("amended", 22, choices=_FLAG),
    Column("provider_purchaser", 24),
    Column(
        "prescribing_setting",
        26,
        kind="int",
        required=True,
        choices=frozenset(str(k) for k in PRESCRIBING_SETTINGS),
    ),
)

ETR_FIELDS = 24
ETR = (
    Column("code", 1, required=True, pattern=r"[A-Z0-9]{3}", describe="trust code"),
    *_NAME_AND_ADDRESS,
    Column("open_date", 11, kind="date"),  # two trusts in the published file have none
    Column("close_date", 12, kind="date"),
    Column("phone", 18),
    Column("amended", 22, choices=_FLAG),
    Column("gor_code", 24),
)


def _dated(record: dict[str, object], start: str, end: str) -> list[tuple[str, str]]:
    begun, ended = record[start], record[end]
    if begun is not None and ended is not None and ended < begun:  # type: ignore[operator]
        return [(end, f"{ended} is before the {start.replace('_', ' ')} {begun}")]
    return []


def _practice_rules(record: dict[str, object]) -> list[tuple[str, str]]:
    found = _dated(record, "open_date", "close_date") + _dated(record, "join_date", "left_date")
    if record["status"] == "C" and record["close_date"] is None:
        found.append(("close_date", "a closed organisation (status C) must have a close date"))
    if record["status"] == "A" and record["close_date"] is not None:
        found.append(("close_date", "an active organisation (status A) cannot have a close date"))
    return found


def read_epraccur(path: Path) -> pa.Table:
    """Read an ODS `epraccur.csv` into a practices table, with `is_gp_practice` and `is_active` derived."""
    parsed = read_csv(
        path,
        EPRACCUR,
        header=False,
        expected_fields=EPRACCUR_FIELDS,
        encoding="latin-1",
        unique=("code",),
        row_check=_practice_rules,
    )
    table = parsed.to_arrow()
    is_gp = pc.equal(table["prescribing_setting"], GP_PRACTICE_SETTING)
    table = table.append_column("is_gp_practice", is_gp)
    return table.append_column("is_active", pc.equal(table["status"], "A"))


def read_etr(path: Path) -> pa.Table:
    """Read an ODS `etr.csv` (NHS trusts) into a trusts table."""
    parsed = read_csv(
        path,
        ETR,
        header=False,
        expected_fields=ETR_FIELDS,
        encoding="latin-1",
        unique=("code",),
        row_check=lambda r: _dated(r, "open_date", "close_date"),
    )
    return parsed.to_arrow()
