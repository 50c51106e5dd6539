"""Trend indicators: monthly activity per 1,000 weighted patients, per practice, cluster and commissioner.

A practice with older patients uses more hospital care, so activity is compared per 1,000 *weighted* patients:
the practice's list weighted by the commissioner's own cost per head of each age band and sex, as the budget
run's fair share computed it, scaled so that the commissioner's weighted total equals its list. (Where the run
had no fair share, the plain list is used.) Counts are by the month of the activity date (admission, appointment,
arrival, referral). The indicators:

- emergency admissions (non-elective spells);
- emergency admissions for ambulatory-care-sensitive conditions (the shipped ACSC code list);
- first outpatient attendances, follow-up attendances, and the follow-up to first ratio;
- A&E attendances;
- GP referrals, by specialty.

Monthly series like these are read with statistical process control (`pbc.indicators.spc.xmr`).
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from pbc.activity import loaded
from pbc.finance.runs import run_table
from pbc.indicators.codelists import load_codelists, selects
from pbc.indicators.definitions import shipped_codelists
from pbc.quality.attribution import attribute
from pbc.tariff.pricing import ELECTIVE_ADMIMETH, FIRST_ATTENDANCE, FOLLOW_UP, PAYABLE_ATTENDED
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

RATES = ("emergency_admissions", "acsc_admissions", "outpatient_first", "outpatient_follow_up", "ae_attendances")
RATIOS = {"follow_up_ratio": ("outpatient_follow_up", "outpatient_first")}
REFERRALS = "referrals"
TREND_SCHEMA = pa.schema(
    [
        ("LEVEL", pa.string()),
        ("CODE", pa.string()),
        ("LOCALITY", pa.string()),
        ("MONTH", pa.date32()),
        ("INDICATOR", pa.string()),
        ("BREAKDOWN", pa.string()),
        ("NUMERATOR", pa.int64()),
        ("DENOMINATOR", pa.float64()),
        ("VALUE", pa.float64()),
    ]
)


def weighted_patients(warehouse: Warehouse, run: dict[str, Any]) -> dict[str, Fraction]:
    """Each practice's list weighted by age/sex cost, scaled so the commissioner's total is its list size."""
    budgets = run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist()
    lists: dict[str, int] = {}
    weights: dict[str, Fraction] = defaultdict(Fraction)
    for r in budgets:
        lists[r["PRACTICE"]] = r["LIST_SIZE"]
        if r["WEIGHTED_POPULATION_PENCE"] is not None:
            weights[r["PRACTICE"]] += Fraction(str(r["WEIGHTED_POPULATION_PENCE"]))
    total_weight = sum(weights.values(), Fraction(0))
    if not total_weight:
        return {p: Fraction(n) for p, n in lists.items()}
    total_list = sum(lists.values())
    return {p: weights[p] * total_list / total_weight for p in lists}


def _counts(con: BaseBackend, warehouse: Warehouse, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Numerators per practice, month, indicator and breakdown, summed by the engine."""
    year, commissioner = run["FINANCIAL_YEAR"], run["COMMISSIONER"]
    start = ibis.date(int(year[:4]), 4, 1)
    end = ibis.date(int(year[:4]) + 1, 3, 31)
    parts: list[ibis.Table] = []

    def of(dataset: str) -> ibis.Table:
        t = attribute(con, warehouse, dataset)
        return t.filter(
            (t.COMMISSIONER == commissioner) & (t.ACTIVITY_DATE >= start) & (t.ACTIVITY_DATE <= end)
        ).mutate(MONTH=t.ACTIVITY_DATE.truncate("M").cast("date"))

    def counted(t: ibis.Table, indicator: str, breakdown: ibis.StringValue | None = None) -> ibis.Table:
        t = t.mutate(BREAKDOWN=ibis.literal("") if breakdown is None else breakdown.fill_null(""))
        return (
            t.group_by(["PRACTICE", "MONTH", "BREAKDOWN"])
            .aggregate(N=t.count().cast("int64"))
            .mutate(INDICATOR=ibis.literal(indicator))
        )

    if loaded(warehouse, "apc"):
        apc = of("apc")
        emergency = apc.filter(~apc.ADMIMETH.isin(ELECTIVE_ADMIMETH).fill_null(False))
        acsc = load_codelists([shipped_codelists()])["acsc"]
        parts += [
            counted(emergency, "emergency_admissions"),
            counted(emergency.filter(selects(emergency, acsc)), "acsc_admissions"),
        ]
    if loaded(warehouse, "op"):
        op = of("op")
        seen = op.filter(op.ATTENDED.isin(PAYABLE_ATTENDED).fill_null(False))
        parts += [
            counted(seen.filter(seen.FIRSTATT.isin(FIRST_ATTENDANCE)), "outpatient_first"),
            counted(seen.filter(seen.FIRSTATT.isin(FOLLOW_UP)), "outpatient_follow_up"),
        ]
    if loaded(warehouse, "ae"):
        parts.append(counted(of("ae"), "ae_attendances"))
    if loaded(warehouse, REFERRALS):
        referrals = of(REFERRALS)
        parts.append(counted(referrals, REFERRALS, referrals.TRETSPEF))
    if not parts:
        return []
    return ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()


def trends(con: BaseBackend, warehouse: Warehouse, run: dict[str, Any]) -> pa.Table:
    """Every trend indicator per practice, cluster and commissioner and month of the run's year."""
    patients = weighted_patients(warehouse, run)
    localities = {
        r["PRACTICE"]: r["LOCALITY"] for r in run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist()
    }
    numerators: dict[tuple[str, str, Any, str, str], int] = defaultdict(int)
    for r in _counts(con, warehouse, run):
        if r["PRACTICE"] not in patients:
            continue  # no budget, so no census list to be a rate of
        locality = localities[r["PRACTICE"]] or ""
        for level, code in (("practice", r["PRACTICE"]), ("cluster", locality), ("commissioner", run["COMMISSIONER"])):
            numerators[(level, code, r["MONTH"], r["INDICATOR"], r["BREAKDOWN"])] += r["N"]
    denominators: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for practice, n in patients.items():
        denominators[("practice", practice)] += n
        denominators[("cluster", localities[practice] or "")] += n
        denominators[("commissioner", run["COMMISSIONER"])] += n
    cluster_of = {("practice", p): localities[p] for p in patients}
    rows: list[dict[str, Any]] = []
    for (level, code, month, indicator, breakdown), n in sorted(
        numerators.items(), key=lambda kv: tuple(map(str, kv[0]))
    ):
        weighted = denominators[(level, code)]
        rows.append(
            {
                "LEVEL": level,
                "CODE": code,
                "LOCALITY": cluster_of.get((level, code), code if level == "cluster" else None),
                "MONTH": month,
                "INDICATOR": indicator,
                "BREAKDOWN": breakdown,
                "NUMERATOR": n,
                "DENOMINATOR": round(float(weighted), 3),
                "VALUE": round(float(Fraction(n * 1000) / weighted), 4) if weighted else None,
            }
        )
    for name, (top, bottom) in RATIOS.items():
        firsts = {k[:3]: v for k, v in numerators.items() if k[3] == bottom}
        for key, n in sorted(
            ((k[:3], v) for k, v in numerators.items() if k[3] == top), key=lambda kv: tuple(map(str, kv[0]))
        ):
            level, code, month = key
            first = firsts.get(key, 0)
            rows.append(
                {
                    "LEVEL": level,
                    "CODE": code,
                    "LOCALITY": cluster_of.get((level, code), code if level == "cluster" else None),
                    "MONTH": month,
                    "INDICATOR": name,
                    "BREAKDOWN": "",
                    "NUMERATOR": n,
                    "DENOMINATOR": float(first),
                    "VALUE": round(n / first, 4) if first else None,
                }
            )
    return pa.Table.from_pylist(rows, schema=TREND_SCHEMA)
