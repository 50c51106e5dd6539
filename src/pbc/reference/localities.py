"""Loader for locality (cluster) memberships: which practice belonged to which cluster, and when.

Practices move between clusters, open, close and merge, so every membership has effective dates; activity is
attributed to the cluster a practice belonged to on the activity date. A file names each practice and locality
by code (see `pbc orgs` for the codes); a membership of an unknown practice or locality, dates that run
backwards, or two memberships of one practice that overlap in time are refused.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from itertools import pairwise
from pathlib import Path

import pyarrow as pa

from pbc.errors import InputError, Problem
from pbc.reference.records import Column, read_csv

MEMBERSHIPS = (
    Column("practice_code", "practice_code", required=True, pattern=r"[A-Z0-9]{3,6}", describe="practice code"),
    Column("locality_code", "locality_code", required=True),
    Column("effective_from", "effective_from", kind="date", required=True, date_formats=("%Y-%m-%d",)),
    Column("effective_to", "effective_to", kind="date", date_formats=("%Y-%m-%d",)),
)

_END_OF_TIME = dt.date.max


def read_locality_memberships(
    path: Path, known_practices: Collection[str], known_localities: Collection[str]
) -> pa.Table:
    """Read and check a locality membership file."""

    def dates_forward(rec: dict[str, object]) -> list[tuple[str, str]]:
        start, end = rec["effective_from"], rec["effective_to"]
        if end is not None and end < start:  # type: ignore[operator]
            return [("effective_to", f"{end} is before effective_from {start}")]
        return []

    parsed = read_csv(path, MEMBERSHIPS, header=True, row_check=dates_forward)
    problems: list[Problem] = []
    spans: dict[str, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for row, rec in parsed.rows():
        practice, locality = str(rec["practice_code"]), str(rec["locality_code"])
        if practice not in known_practices:
            problems.append(Problem(parsed.file, row, "practice_code", f"unknown practice {practice!r}"))
        if locality not in known_localities:
            problems.append(Problem(parsed.file, row, "locality_code", f"unknown locality {locality!r}"))
        end = rec["effective_to"] or _END_OF_TIME
        spans[practice].append((rec["effective_from"], end, row))  # type: ignore[arg-type]
    for practice, periods in spans.items():
        periods.sort()
        for (_, end, first_row), (start, _, row) in pairwise(periods):
            if start <= end:
                problems.append(
                    Problem(
                        parsed.file,
                        row,
                        "effective_from",
                        f"practice {practice} is already in a locality on {start} (row {first_row})",
                    )
                )
    if problems:
        raise InputError(problems)
    return parsed.to_arrow()
