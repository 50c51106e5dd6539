"""Data quality status for a report: which months are final, how many lines the rules flagged, where challenges stand.

Practices trust their figures only when they can see how sound the data under them is (DOMAIN.md section 6), so
every report says it: the months whose freeze date has passed (final) and those still open to resubmission
(provisional); per data set, the lines attributed to the practices and those with a quality finding
(`pbc quality run` keeps both per practice and month); and the practices' challenges in the ledger by state.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pbc.challenges import ACCEPTED, OPEN, REJECTED
from pbc.indicators.disclosure import DisclosureRule
from pbc.reports.tables import DATASET_LABELS, protected, rows_where, share, summed

if TYPE_CHECKING:
    from pbc.finance.variance import Position
    from pbc.reports.sources import Sources


@dataclass(frozen=True)
class QualityStatus:
    """The data quality status of a set of practices over a set of months."""

    ran: bool
    final_through: dt.date | None
    provisional: tuple[dt.date, ...]
    datasets: list[dict[str, Any]]
    total: dict[str, Any]
    challenges: dict[str, int | float | None]
    notes: tuple[str, ...] = field(default=())


def quality_status(
    sources: Sources,
    practices: Iterable[str],
    months: Sequence[dt.date],
    where: Position | None = None,
    rule: DisclosureRule | None = None,
) -> QualityStatus:
    """Lines and flagged lines per data set over the months, and the practices' challenges by state."""
    chosen = set(practices)
    notes = []
    table = sources.quality_months()
    rows: list[dict[str, Any]] = []
    if table is None:
        notes.append("the data quality rules have not been run: run `pbc quality run`")
    elif table.num_rows:
        mine = rows_where(rows_where(table, "PRACTICE", sorted(chosen)), "MONTH", [f"{m:%Y-%m}" for m in months])
        rows = summed(mine, ["DATASET"], ["LINES", "FLAGGED"])
    order = list(DATASET_LABELS)
    datasets = []
    for r in sorted(rows, key=lambda r: order.index(r["DATASET"]) if r["DATASET"] in order else len(order)):
        lines, flagged = protected(rule, r["LINES"]), protected(rule, r["FLAGGED"])
        datasets.append(
            {
                "DATASET": r["DATASET"],
                "LABEL": DATASET_LABELS.get(r["DATASET"], r["DATASET"]),
                "LINES": lines,
                "FLAGGED": flagged,
                "PERCENT": share(flagged, lines),
            }
        )
    lines = protected(rule, sum(r["LINES"] for r in rows))
    flagged = protected(rule, sum(r["FLAGGED"] for r in rows))
    states = Counter(c.status for c in sources.challenges() if c.practice in chosen)
    return QualityStatus(
        ran=table is not None,
        final_through=None if where is None else where.final_through,
        provisional=() if where is None else tuple(where.provisional),
        datasets=datasets,
        total={"LINES": lines, "FLAGGED": flagged, "PERCENT": share(flagged, lines)},
        challenges={state: protected(rule, states.get(state, 0)) for state in (OPEN, ACCEPTED, REJECTED)},
        notes=tuple(notes),
    )
