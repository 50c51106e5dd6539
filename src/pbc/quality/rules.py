"""The data quality rules as ibis expressions over the warehouse, so they run on DuckDB and on Spark alike.

The catalogue (id, name, severity, who acts, description) is data in `rules.toml`; each rule's check is a function
here registered under the rule's name. A check returns findings: DATASET, PROCODE, RECORD_KEY, RULE, DETAIL.
Rules that need a step not yet run (costing for price checks) are listed as pending, not silently skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import ibis

from pbc.activity import loaded, registrations
from pbc.engines import read_table
from pbc.ingest.contracts import load_contracts
from pbc.orgs import covers
from pbc.quality.attribution import attribute
from pbc.reference.load import REFERENCE
from pbc.tariff.audit import claims_audit
from pbc.tariff.model import has_tariff
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

ELECTIVE = ("11", "12", "13")
FINDING_COLUMNS = ("DATASET", "PROCODE", "RECORD_KEY", "RULE", "DETAIL")


@dataclass(frozen=True)
class Rule:
    """A rule of the catalogue."""

    id: str
    name: str
    datasets: tuple[str, ...]
    severity: str
    acts: str
    title: str
    description: str
    fault: str | None = None


@cache
def catalogue() -> tuple[Rule, ...]:
    """The rules, checked: every rule has a check, every severity and actor is known."""
    data = tomllib.loads(resources.files("pbc.quality").joinpath("rules.toml").read_text(encoding="utf-8"))
    rules = []
    for raw in data["rule"]:
        rule = Rule(**{**raw, "datasets": tuple(raw["datasets"])})
        if rule.severity not in ("high", "medium", "low") or rule.acts not in ("provider", "practice", "commissioner"):
            raise ValueError(f"rules.toml: rule {rule.id} has an unknown severity or actor")
        if rule.name not in CHECKS:
            raise ValueError(f"rules.toml: rule {rule.id} ({rule.name}) has no check in pbc.quality.rules")
        rules.append(rule)
    return tuple(rules)


class Context:
    """The tables a run of the rules shares, read once."""

    def __init__(self, con: BaseBackend, warehouse: Warehouse) -> None:
        self.con, self.warehouse = con, warehouse
        self.datasets = [d for d in ("apc", "op", "ae", "referrals") if loaded(warehouse, d)]
        self._lines: dict[str, ibis.Table] = {}
        self.practices = read_table(con, warehouse.path(REFERENCE, "practices"), "practices")
        self.register = registrations(con, warehouse)
        self.pending: set[str] = set()

    def lines(self, dataset: str) -> ibis.Table:
        """A data set's attributed lines."""
        if dataset not in self._lines:
            self._lines[dataset] = attribute(self.con, self.warehouse, dataset)
        return self._lines[dataset]


def _findings(table: ibis.Table, dataset: str, rule: str, detail: ibis.Value | str) -> ibis.Table:
    key = load_contracts()[dataset].key
    return table.select(
        DATASET=ibis.literal(dataset),
        PROCODE=table.PROCODE,
        RECORD_KEY=table[key],
        RULE=ibis.literal(rule),
        DETAIL=detail if isinstance(detail, ibis.Value) else ibis.literal(detail),
    )


def _repeats(ctx: Context, dataset: str, rule: str, same: list[str], what: str) -> ibis.Table:
    lines = ctx.lines(dataset).filter(lambda t: t.PATIENT_ID.notnull())
    key = load_contracts()[dataset].key
    window = ibis.window(group_by=[lines[c] for c in same], order_by=[lines[key]])
    ranked = lines.mutate(REPEAT=ibis.row_number().over(window))
    return _findings(ranked.filter(ranked.REPEAT > 0), dataset, rule, f"repeats an earlier {what}")


def duplicate_spell(ctx: Context, dataset: str) -> ibis.Table:
    """DQ01."""
    same = ["PATIENT_ID", "PROCODE", "ADMIDATE", "DISDATE", "SUSHRG", "TRETSPEF"]
    return _repeats(ctx, dataset, "duplicate_spell", same, "spell of the same patient, dates and HRG")


def duplicate_attendance(ctx: Context, dataset: str) -> ibis.Table:
    """DQ02."""
    same = ["PATIENT_ID", "PROCODE", "APPTDATE", "TRETSPEF", "FIRSTATT", "ATTENDED"]
    return _repeats(ctx, dataset, "duplicate_attendance", same, "appointment of the same patient, day and specialty")


def repeated_ae_attendance(ctx: Context, dataset: str) -> ibis.Table:
    """DQ03."""
    same = ["PATIENT_ID", "PROCODE", "ARRIVALDATE", "ARRIVALTIME"]
    return _repeats(ctx, dataset, "repeated_ae_attendance", same, "attendance of the same patient and arrival time")


def invalid_nhs_number(ctx: Context, dataset: str) -> ibis.Table:
    """DQ04."""
    lines = ctx.lines(dataset)
    return _findings(
        lines.filter(~lines.NHS_VALID),
        dataset,
        "invalid_nhs_number",
        "the NHS number is missing or fails the Modulus 11 check",
    )


def _practice_status(ctx: Context, dataset: str) -> ibis.Table:
    lines = ctx.lines(dataset)
    practices = ctx.practices.select(
        P_CODE=ctx.practices.code, P_OPEN=ctx.practices.open_date, P_CLOSE=ctx.practices.close_date
    )
    return lines.left_join(practices, lines.PRACTICE == practices.P_CODE)


def unknown_or_closed_practice(ctx: Context, dataset: str) -> ibis.Table:
    """DQ05."""
    joined = _practice_status(ctx, dataset)
    unknown = joined.P_CODE.isnull()
    closed = joined.P_CLOSE.notnull() & (joined.P_CLOSE < joined.ACTIVITY_DATE)
    not_open = joined.P_OPEN.notnull() & (joined.P_OPEN > joined.ACTIVITY_DATE)
    detail = ibis.cases(
        (unknown, "the practice code is not in the ODS practice file"),
        (closed, "the practice had closed before the activity date"),
        else_="the practice had not opened by the activity date",
    )
    return _findings(joined.filter(unknown | closed | not_open), dataset, "unknown_or_closed_practice", detail)


def not_registered(ctx: Context, dataset: str) -> ibis.Table:
    """DQ06: only where the number is valid and the practice's register is held."""
    if ctx.register is None:
        return _findings(ctx.lines(dataset).limit(0), dataset, "not_registered", "")
    lines = ctx.lines(dataset)
    register = ctx.register
    held = register.select(H_PRACTICE=register.PRACTICE_CODE).distinct()
    candidates = lines.filter(lines.NHS_VALID).semi_join(held, lines.PRACTICE == held.H_PRACTICE)
    spans = register.select(
        R_PATIENT=register.PATIENT_ID,
        R_PRACTICE=register.PRACTICE_CODE,
        R_FROM=register.REGISTRATION_DATE,
        R_TO=register.DEREGISTRATION_DATE,
    )
    unregistered = candidates.anti_join(
        spans,
        [
            candidates.PATIENT_ID == spans.R_PATIENT,
            candidates.PRACTICE == spans.R_PRACTICE,
            covers(spans.R_FROM, spans.R_TO, candidates.ACTIVITY_DATE),
        ],
    )
    return _findings(
        unregistered,
        dataset,
        "not_registered",
        "the patient was not registered with this practice on the activity date",
    )


def followup_without_first(ctx: Context, dataset: str) -> ibis.Table:
    """DQ07: from a year after the earliest outpatient data."""
    lines = ctx.lines(dataset)
    start = lines.APPTDATE.min().as_scalar()
    follow_ups = lines.filter(
        lines.FIRSTATT.isin(["2", "4"]) & lines.NHS_VALID & (lines.APPTDATE >= start + ibis.interval(days=365))
    )
    firsts = lines.filter(lines.FIRSTATT.isin(["1", "3"])).select(
        F_PATIENT=lines.PATIENT_ID, F_PROCODE=lines.PROCODE, F_TFC=lines.TRETSPEF, F_DATE=lines.APPTDATE
    )
    orphans = follow_ups.anti_join(
        firsts,
        [
            follow_ups.PATIENT_ID == firsts.F_PATIENT,
            follow_ups.PROCODE == firsts.F_PROCODE,
            follow_ups.TRETSPEF == firsts.F_TFC,
            firsts.F_DATE <= follow_ups.APPTDATE,
        ],
    )
    return _findings(
        orphans,
        dataset,
        "followup_without_first",
        "no first attendance with this provider and specialty on or before this date",
    )


def daycase_as_ordinary(ctx: Context, dataset: str) -> ibis.Table:
    """DQ08."""
    lines = ctx.lines(dataset)
    same_day = lines.ADMIMETH.isin(ELECTIVE) & (lines.CLASSPAT == "1") & (lines.ADMIDATE == lines.DISDATE)
    return _findings(
        lines.filter(same_day),
        dataset,
        "daycase_as_ordinary",
        "an elective same-day spell coded as an ordinary admission",
    )


def activity_outside_period(ctx: Context, dataset: str) -> ibis.Table:
    """DQ09."""
    lines = ctx.lines(dataset)
    return _findings(
        lines.filter(lines.OUTSIDE_PERIOD),
        dataset,
        "activity_outside_period",
        "the activity is not in the month the file was submitted for",
    )


def commissioner_not_ours(ctx: Context, dataset: str) -> ibis.Table:
    """DQ10: ours are the commissioners whose patient registers are held."""
    lines = ctx.lines(dataset)
    if ctx.register is None:
        return _findings(lines.limit(0), dataset, "commissioner_not_ours", "")
    ours = ctx.register.select(O_CODE=ctx.register.COMMISSIONER_CODE).distinct()
    foreign = lines.anti_join(ours, lines.PURCODE == ours.O_CODE)
    return _findings(
        foreign, dataset, "commissioner_not_ours", "the commissioner code is not one whose register is held"
    )


def claimed_price_mismatch(ctx: Context, dataset: str) -> ibis.Table:
    """DQ11: the claims audit (claimed against pbc's price); nothing to report until a tariff is loaded."""
    lines = ctx.lines(dataset)
    if not has_tariff(ctx.warehouse):
        ctx.pending.add("DQ11")
        return _findings(lines.limit(0), dataset, "claimed_price_mismatch", "")
    audit = claims_audit(ctx.con, ctx.warehouse, dataset)
    return audit.select(
        DATASET=audit.DATASET,
        PROCODE=audit.PROCODE,
        RECORD_KEY=audit.RECORD_KEY,
        RULE=ibis.literal("claimed_price_mismatch"),
        DETAIL=audit.DETAIL,
    )


CHECKS: dict[str, Callable[[Context, str], ibis.Table]] = {
    "duplicate_spell": duplicate_spell,
    "duplicate_attendance": duplicate_attendance,
    "repeated_ae_attendance": repeated_ae_attendance,
    "invalid_nhs_number": invalid_nhs_number,
    "unknown_or_closed_practice": unknown_or_closed_practice,
    "not_registered": not_registered,
    "followup_without_first": followup_without_first,
    "daycase_as_ordinary": daycase_as_ordinary,
    "activity_outside_period": activity_outside_period,
    "commissioner_not_ours": commissioner_not_ours,
    "claimed_price_mismatch": claimed_price_mismatch,
}


def findings(con: BaseBackend, warehouse: Warehouse) -> tuple[ibis.Table | None, list[Rule]]:
    """Every rule's findings over the current activity, as one table; and the rules still pending a step."""
    ctx = Context(con, warehouse)
    parts, pending = [], []
    for rule in catalogue():
        for dataset in rule.datasets:
            if dataset in ctx.datasets:
                parts.append(CHECKS[rule.name](ctx, dataset).mutate(RULE_ID=ibis.literal(rule.id)))
    pending += [r for r in catalogue() if r.id in ctx.pending]
    if not parts:
        return None, pending
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    return union, pending
