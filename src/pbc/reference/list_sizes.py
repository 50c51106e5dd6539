"""Loader for NHS Digital's quinary registered-list file: patients per practice by sex and five-year age band.

The published file repeats each practice's figures as totals (SEX or AGE_GROUP_5 of ALL). pbc keeps the detailed
rows only, and checks that the totals the file gives agree with them: a file whose totals do not add up is
refused, because budgets and rates built on it would not add up either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import pyarrow as pa

from pbc.errors import InputError, Problem
from pbc.reference.records import Column, read_csv

AGE_BANDS: tuple[str, ...] = (*(f"{lo}_{lo + 4}" for lo in range(0, 95, 5)), "95+")
SEXES = {"MALE": "M", "FEMALE": "F"}

QUINARY = (
    Column("publication", "PUBLICATION"),
    Column(
        "extract_date",
        "EXTRACT_DATE",
        kind="date",
        required=True,
        date_formats=("%Y-%m-%d", "%d%b%Y", "%d/%m/%Y"),
    ),
    Column("org_type", "ORG_TYPE", required=True, choices=frozenset({"GP"})),
    Column("practice_code", "ORG_CODE", required=True, pattern=r"[A-Z0-9]{3,6}", describe="practice code"),
    Column("ons_code", "ONS_CODE"),
    Column("postcode", "POSTCODE"),
    Column("sex", "SEX", required=True, choices=frozenset({*SEXES, "ALL"})),
    Column("age_band", "AGE_GROUP_5", required=True, choices=frozenset({*AGE_BANDS, "ALL"})),
    Column("patients", "NUMBER_OF_PATIENTS", kind="int", required=True, minimum=0),
)


def read_quinary(path: Path, known_practices: Collection[str]) -> pa.Table:
    """Read a quinary list-size file into (extract_date, practice_code, sex, age_band, patients) rows."""
    parsed = read_csv(path, QUINARY, header=True, unique=("extract_date", "practice_code", "sex", "age_band"))
    problems: list[Problem] = []
    detail: dict[str, list[object]] = {k: [] for k in ("extract_date", "practice_code", "sex", "age_band", "patients")}
    sums: dict[tuple[object, ...], int] = defaultdict(int)
    totals: dict[tuple[object, ...], tuple[int, int]] = {}
    for row, rec in parsed.rows():
        code = rec["practice_code"]
        if code not in known_practices:
            problems.append(Problem(parsed.file, row, "ORG_CODE", f"unknown practice {code!r}: not in the ODS file"))
            continue
        date, sex, band, patients = rec["extract_date"], rec["sex"], rec["age_band"], int(rec["patients"])  # type: ignore[arg-type]
        if sex != "ALL" and band != "ALL":
            for key in ((date, code, sex), (date, code, "ALL")):
                sums[key] += patients
            detail["extract_date"].append(date)
            detail["practice_code"].append(code)
            detail["sex"].append(SEXES[str(sex)])
            detail["age_band"].append(band)
            detail["patients"].append(patients)
        elif band == "ALL":
            totals[(date, code, sex)] = (patients, row)
        else:
            problems.append(Problem(parsed.file, row, "SEX", "SEX ALL is only used with AGE_GROUP_5 ALL"))
    for key, (given, row) in totals.items():
        added = sums.get(key, 0)
        if added != given:
            problems.append(
                Problem(
                    parsed.file,
                    row,
                    "NUMBER_OF_PATIENTS",
                    f"total {given} for {key[1]} sex {key[2]} does not equal the sum of its age bands ({added})",
                )
            )
    if problems:
        raise InputError(problems)
    return pa.table(
        {
            "extract_date": pa.array(detail["extract_date"], pa.date32()),
            "practice_code": pa.array(detail["practice_code"], pa.string()),
            "sex": pa.array(detail["sex"], pa.string()),
            "age_band": pa.array(detail["age_band"], pa.string()),
            "patients": pa.array(detail["patients"], pa.int64()),
        }
    )
