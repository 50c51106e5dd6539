"""A practice's monthly information report: the referrals it made, the activity charged to it, and their validation.

This is the report the data validation LES pays for (DOMAIN.md sections 6 and 7): every month a practice sees
every referral it made and every attendance and admission attributed to it, checks them, and challenges what is
wrong. For a practice and month it shows:

- referrals made (by referral date): by specialty and urgency, and by provider;
- activity charged (costed lines of the month, by discharge, appointment or arrival as pbc counts every monthly
  figure): lines, activity and money by POD and by provider, at Payment by Results prices;
- validation status: per data set, the lines the quality rules flagged and the rules that flagged them, the
  practice's challenges on the month's lines by state (open, accepted, rejected; accepted lines leave its spend at
  the next monthly run), and whether its report for the month was recorded as delivered;
- where the year is monitored, its budget position for the month and the year to date.

The workbook (XLSX) carries the same tables and the flagged lines themselves, as a worklist to validate. Patients
appear only as the provider's record key: a practice looks its own patients up with `pbc quality practice`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pbc.activity import loaded
from pbc.challenges import ACCEPTED, OPEN, REJECTED
from pbc.charts import pod_label
from pbc.costed import all_costed_lines
from pbc.errors import NotLoadedError, PbcError
from pbc.ingest.contracts import load_contracts
from pbc.quality.attribution import attribute
from pbc.quality.rules import catalogue
from pbc.reports.monitoring import monitoring
from pbc.reports.render import check_out, display_name, render, write
from pbc.reports.tables import DATASET_LABELS, pod_rank, share, year_of_month
from pbc.tariff.model import has_tariff

if TYPE_CHECKING:
    from pbc.reports.sources import Sources

TEMPLATE = "reports/practice_monthly.html.jinja"
MARKING = "NHS CONFIDENTIAL: for the practice and the commissioner"
SUFFIXES = (".pdf", ".html", ".xlsx")
PRIORITIES = {"1": ("ROUTINE", "Routine"), "2": ("URGENT", "Urgent"), "3": ("TWO_WEEK_WAIT", "Two-week wait")}
REFERRALS = "referrals"


def parse_month(text: str) -> dt.date:
    """A month written YYYY-MM as its first day; anything else is an error that shows the form."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise PbcError(f"{text!r} is not a month: write it like 2007-10") from None


def _practice_known(sources: Sources, practice: str) -> str:
    """The practice's name; an error when the reference data does not know the code."""
    name = sources.names().get(practice)
    if name is None:
        raise PbcError(f"{practice!r} is not a practice code pbc knows: `pbc orgs --commissioner CODE` lists them")
    return name


def _charged(sources: Sources, practice: str, month: dt.date) -> pa.Table:
    """The practice's costed lines of the month, accepted challenges included (they are marked, not hidden)."""
    if not has_tariff(sources.warehouse):
        raise NotLoadedError("no tariff is loaded: ingest the tariff files (pbc ingest) before monthly reports")
    lines = all_costed_lines(sources.con, sources.warehouse)
    lines = lines.filter((lines.PRACTICE == practice) & (lines.MONTH.cast("date") == month))
    return lines.select(
        "DATASET",
        "PROCODE",
        "RECORD_KEY",
        "LOCALITY",
        "COMMISSIONER",
        "POD",
        "SPECIALTY",
        "COUNTED",
        "PRICED",
        "PRICE_PENCE",
        "TARIFF_YEAR",
    ).to_pyarrow()


def _referrals(sources: Sources, practice: str, month: dt.date) -> pa.Table | None:
    """The referrals the practice made in the month (by referral date), or None if none have been ingested."""
    if not loaded(sources.warehouse, REFERRALS):
        return None
    lines = attribute(sources.con, sources.warehouse, REFERRALS)
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    key = load_contracts()[REFERRALS].key
    lines = lines.filter((lines.PRACTICE == practice) & (lines.ACTIVITY_DATE >= month) & (lines.ACTIVITY_DATE < end))
    return lines.select(
        RECORD_KEY=lines[key].cast("string"),
        PROCODE=lines.PROCODE,
        SPECIALTY=lines.TRETSPEF.cast("string"),
        PRIORITY=lines.PRIORITY.cast("string"),
        REFERRAL_DATE=lines.ACTIVITY_DATE.cast("date"),
        LOCALITY=lines.LOCALITY,
        COMMISSIONER=lines.COMMISSIONER,
    ).to_pyarrow()


def _flags(sources: Sources) -> dict[tuple[str, str, str], list[str]]:
    """Each flagged line's rules, by (data set, provider, record key)."""
    found = sources.findings()
    rules: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    if found is None:
        return rules
    for r in found.select(["DATASET", "PROCODE", "RECORD_KEY", "RULE_ID"]).to_pylist():
        rules[(r["DATASET"], r["PROCODE"], r["RECORD_KEY"])].append(r["RULE_ID"])
    return rules


def _states(sources: Sources, practice: str) -> dict[tuple[str, str, str], str]:
    """The state of the practice's challenge on each line it challenged."""
    return {(c.dataset, c.procode, c.record_key): c.status for c in sources.challenges() if c.practice == practice}


def month_context(sources: Sources, practice: str, month: dt.date) -> dict[str, Any]:
    """Everything the monthly report shows for a practice and month."""
    name = _practice_known(sources, practice)
    year = year_of_month(month)
    charged = _charged(sources, practice, month).to_pylist()
    referral_table = _referrals(sources, practice, month)
    referrals = [] if referral_table is None else referral_table.to_pylist()
    flags = _flags(sources)
    states = _states(sources, practice)
    titles = {r.id: r.title for r in catalogue()}
    specialties = sources.specialty_names()
    for line in charged:
        key = (line["DATASET"], line["PROCODE"], line["RECORD_KEY"])
        line["FLAGS"] = sorted(flags.get(key, []))
        line["CHALLENGE"] = states.get(key)
    for line in referrals:
        key = (REFERRALS, line["PROCODE"], line["RECORD_KEY"])
        line["FLAGS"] = sorted(flags.get(key, []))
        line["CHALLENGE"] = states.get(key)
    if not charged and not referrals:
        raise PbcError(
            f"no activity or referrals of {practice} are held for {month:%B %Y}: check the month, or ingest it first"
        )
    places = [(r["LOCALITY"], r["COMMISSIONER"]) for r in (*charged, *referrals) if r["COMMISSIONER"]]
    locality, commissioner = Counter(places).most_common(1)[0][0] if places else (None, None)
    budget = None
    if commissioner and sources.optional_mart("budget_monitoring", year) is not None:
        try:
            seen = monitoring(sources, year, practices=[practice], as_at=month)
        except PbcError:
            seen = None
        if seen is not None:
            budget = {
                "where": seen.where,
                "pods": [{**r, "LABEL": pod_label(r["POD"])} for r in seen.pods],
                "total": {**seen.total, "LABEL": "All PODs"},
            }
    delivered = next(
        (d for d in sources.deliveries() if d.get("practice") == practice and d.get("month") == f"{month:%Y-%m}"),
        None,
    )
    return {
        "title": f"{display_name(name)} ({practice}): monthly information, {month:%B %Y}",
        "marking": MARKING,
        "practice": practice,
        "name": display_name(name),
        "cluster": sources.name_of(locality) if locality else None,
        "commissioner": sources.name_of(commissioner) if commissioner else None,
        "month": month,
        "year": year,
        "referrals_by_specialty": _referral_rows(referrals, specialties),
        "referrals_by_provider": _by_provider(referrals, sources, money=False),
        "referral_count": len(referrals),
        "referrals_loaded": referral_table is not None,
        "activity_by_pod": _pod_rows(charged),
        "activity_by_provider": _by_provider(charged, sources, money=True),
        "activity_total": _totals(charged),
        "validation": _validation(charged, referrals),
        "rules": _rule_rows(charged, referrals, titles),
        "flagged_lines": _flagged_lines(charged, referrals, specialties),
        "challenges": _challenge_counts(charged, referrals),
        "delivered": delivered,
        "budget": budget,
        "quality_run": sources.findings() is not None,
    }


def _referral_rows(referrals: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    by: dict[str, Counter[str]] = defaultdict(Counter)
    flagged: Counter[str] = Counter()
    for r in referrals:
        by[r["SPECIALTY"]][r["PRIORITY"]] += 1
        flagged[r["SPECIALTY"]] += bool(r["FLAGS"])
    rows = []
    for specialty, counts in sorted(by.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        rows.append(
            {
                "SPECIALTY": specialty,
                "NAME": names.get(specialty, ""),
                **{column: counts.get(code, 0) for code, (column, _) in PRIORITIES.items()},
                "TOTAL": sum(counts.values()),
                "FLAGGED": flagged[specialty],
            }
        )
    return rows


def _by_provider(lines: list[dict[str, Any]], sources: Sources, money: bool) -> list[dict[str, Any]]:
    by: dict[str, dict[str, int]] = defaultdict(lambda: {"LINES": 0, "ACTIVITY": 0, "PENCE": 0, "FLAGGED": 0})
    for line in lines:
        row = by[line["PROCODE"]]
        row["LINES"] += 1
        row["ACTIVITY"] += line.get("COUNTED", 1)
        row["PENCE"] += (line.get("PRICE_PENCE") or 0) if money else 0
        row["FLAGGED"] += bool(line["FLAGS"])
    ordered = sorted(by.items(), key=lambda kv: (-(kv[1]["PENCE"] if money else kv[1]["LINES"]), kv[0]))
    return [{"PROCODE": code, "NAME": sources.name_of(code), **row} for code, row in ordered]


def _pod_rows(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for line in lines:
        row = by.setdefault(
            line["POD"],
            {
                "POD": line["POD"],
                "LABEL": pod_label(line["POD"]),
                "LINES": 0,
                "ACTIVITY": 0,
                "PENCE": 0,
                "UNPRICED": 0,
                "FLAGGED": 0,
                "CHALLENGED": 0,
                "ACCEPTED": 0,
            },
        )
        row["LINES"] += 1
        row["ACTIVITY"] += line["COUNTED"]
        row["PENCE"] += line["PRICE_PENCE"] or 0
        row["UNPRICED"] += not line["PRICED"]
        row["FLAGGED"] += bool(line["FLAGS"])
        row["CHALLENGED"] += line["CHALLENGE"] is not None
        row["ACCEPTED"] += line["CHALLENGE"] == ACCEPTED
    return sorted(by.values(), key=lambda r: pod_rank(r["POD"]))


def _totals(lines: list[dict[str, Any]]) -> dict[str, int]:
    charged = [line for line in lines if line["CHALLENGE"] != ACCEPTED]
    return {
        "LINES": len(lines),
        "ACTIVITY": sum(line["COUNTED"] for line in lines),
        "PENCE": sum(line["PRICE_PENCE"] or 0 for line in lines),
        "CHARGED_PENCE": sum(line["PRICE_PENCE"] or 0 for line in charged),
        "FLAGGED": sum(bool(line["FLAGS"]) for line in lines),
    }


def _validation(charged: list[dict[str, Any]], referrals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in charged:
        by_dataset[line["DATASET"]].append(line)
    by_dataset[REFERRALS] = referrals
    for dataset, label in DATASET_LABELS.items():
        lines = by_dataset.get(dataset, [])
        if not lines:
            continue
        flagged = sum(bool(line["FLAGS"]) for line in lines)
        states = Counter(line["CHALLENGE"] for line in lines if line["CHALLENGE"])
        rows.append(
            {
                "DATASET": dataset,
                "LABEL": label,
                "LINES": len(lines),
                "FLAGGED": flagged,
                "PERCENT": share(flagged, len(lines)),
                "OPEN": states.get(OPEN, 0),
                "ACCEPTED": states.get(ACCEPTED, 0),
                "REJECTED": states.get(REJECTED, 0),
                "TO_CHECK": sum(1 for line in lines if line["FLAGS"] and not line["CHALLENGE"]),
            }
        )
    return rows


def _rule_rows(
    charged: list[dict[str, Any]], referrals: list[dict[str, Any]], titles: dict[str, str]
) -> list[dict[str, Any]]:
    counted: Counter[tuple[str, str]] = Counter()
    for line in (*charged, *referrals):
        for rule in line["FLAGS"]:
            counted[(line.get("DATASET", REFERRALS), rule)] += 1
    return [
        {"RULE": rule, "TITLE": titles.get(rule, rule), "DATASET": DATASET_LABELS.get(dataset, dataset), "LINES": n}
        for (dataset, rule), n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _flagged_lines(
    charged: list[dict[str, Any]], referrals: list[dict[str, Any]], names: dict[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for line in charged:
        if line["FLAGS"] or line["CHALLENGE"]:
            rows.append(
                {
                    "DATASET": line["DATASET"],
                    "PROCODE": line["PROCODE"],
                    "RECORD_KEY": line["RECORD_KEY"],
                    "POD": line["POD"],
                    "SPECIALTY": f"{line['SPECIALTY'] or ''} {names.get(line['SPECIALTY'] or '', '')}".strip(),
                    "PENCE": line["PRICE_PENCE"],
                    "FLAGS": ", ".join(line["FLAGS"]),
                    "CHALLENGE": line["CHALLENGE"] or "",
                }
            )
    for line in referrals:
        if line["FLAGS"] or line["CHALLENGE"]:
            rows.append(
                {
                    "DATASET": REFERRALS,
                    "PROCODE": line["PROCODE"],
                    "RECORD_KEY": line["RECORD_KEY"],
                    "POD": "",
                    "SPECIALTY": f"{line['SPECIALTY'] or ''} {names.get(line['SPECIALTY'] or '', '')}".strip(),
                    "PENCE": None,
                    "FLAGS": ", ".join(line["FLAGS"]),
                    "CHALLENGE": line["CHALLENGE"] or "",
                }
            )
    return sorted(rows, key=lambda r: (r["DATASET"], r["PROCODE"], r["RECORD_KEY"]))


def _challenge_counts(charged: list[dict[str, Any]], referrals: list[dict[str, Any]]) -> dict[str, int]:
    states = Counter(line["CHALLENGE"] for line in (*charged, *referrals) if line["CHALLENGE"])
    return {state: states.get(state, 0) for state in (OPEN, ACCEPTED, REJECTED)}


def practice_monthly(sources: Sources, practice: str, month: dt.date, out: Path) -> Path:
    """Write a practice's monthly report to PDF, HTML or an XLSX workbook, by the file's suffix."""
    check_out(out, SUFFIXES)
    context = month_context(sources, practice.strip().upper(), month)
    if out.suffix.lower() == ".xlsx":
        from pbc.reports.workbook import write_workbook

        return write_workbook(context, out)
    return write(render(TEMPLATE, **context), out)
