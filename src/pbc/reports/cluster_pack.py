"""The cluster information pack: a year's profile of a cluster and each of its practices, for its board and partners.

The pack (a PDF of a dozen pages or more) has the sections a PBC cluster's business plan starts from
(DOMAIN.md section 8): a cover and contents; the population pyramid; disease prevalence observed against
expected; historic outpatient, inpatient and A&E activity and cost; the contract and cost summary (the budget
position, and the cluster's spend by provider beside the commissioner's contracts); a page per practice; the
public health profile (the cluster against the commissioner on the benchmark indicators, with funnel plots of the
practices); and a glossary.

Its figures come from the modules that own them: profiles and benchmarks from `pbc.indicators`, budget figures
from the monitoring marts, spend from the costed lines, data quality from the quality run. A pack marked external
(`external=True`) is for readers outside the commissioner: every count in it is protected by the one disclosure
rule (`pbc.indicators.disclosure`: 1-7 suppressed, others rounded to 5) and every rate recomputed from the
protected counts; money that rests on a suppressed count is not shown.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from pbc.calendar import financial_year_bounds
from pbc.charts import activity_history_chart, funnel_plot, pod_label, population_pyramid, prevalence_chart
from pbc.indicators.benchmark import check_year, funnel_curve
from pbc.indicators.definitions import POPULATION
from pbc.indicators.disclosure import DEFAULT_RULE, DisclosureRule
from pbc.reports.history import activity_histories
from pbc.reports.monitoring import monitoring, monitoring_position, practice_positions
from pbc.reports.quality import quality_status
from pbc.reports.render import display_name, figure, render, write
from pbc.reports.tables import months_to_date, pod_rank, protected, share, summed
from pbc.reports.trends import KEY_INDICATORS, trends
from pbc.reports.units import cluster_practices

if TYPE_CHECKING:
    from pbc.indicators.compute import Benchmark
    from pbc.reports.sources import Sources
    from pbc.reports.units import Cluster

TEMPLATE = "reports/cluster_pack.html.jinja"
INTERNAL = "NHS CONFIDENTIAL: for use within the commissioner and its practices"
EXTERNAL = "For wider circulation: small numbers suppressed"
FUNNELS = ("emergency_admissions", "acsc_admissions")
PRACTICE_TRENDS = ("emergency_admissions", "ae_attendances", "referrals", "follow_up_ratio")
TOP_PROVIDERS = 10


@dataclass(frozen=True)
class Section:
    """A section of the pack, as the contents lists it."""

    id: str
    title: str


SECTIONS = (
    Section("population", "Population pyramid"),
    Section("prevalence", "Disease prevalence: observed and expected"),
    Section("activity", "Historic outpatient and inpatient activity and cost"),
    Section("contracts", "Contract and cost summary"),
    Section("practices", "Practices"),
    Section("public-health", "Public health profile"),
    Section("glossary", "Glossary"),
)


CONDITION_ACRONYMS = {"CHD", "COPD", "CKD", "AF", "TIA"}


def condition_label(condition: str) -> str:
    """A register's name for people: 'HEART_FAILURE' -> 'Heart failure', 'COPD' stays 'COPD'."""
    if condition.upper() in CONDITION_ACRONYMS:
        return condition.upper()
    return condition.replace("_", " ").capitalize()


def glossary() -> list[dict[str, str]]:
    """The pack's glossary terms, in alphabetical order (from `glossary.toml` beside this module)."""
    text = resources.files("pbc.reports").joinpath("glossary.toml").read_text(encoding="utf-8")
    terms = tomllib.loads(text)["term"]
    return sorted(({"word": t["word"], "meaning": t["meaning"]} for t in terms), key=lambda t: t["word"].lower())


def _year_end(year: str) -> dt.date:
    return min(financial_year_bounds(year)[1], dt.date.today())


def _benchmark_rows(benchmarks: list[Benchmark], level: str, units: set[str] | None = None) -> list[dict[str, Any]]:
    """Per indicator, the rows of the given units (all units when None) beside the commissioner's row."""
    found = []
    for b in benchmarks:
        if b.definition.breakdown is not None:
            continue  # given by specialty or condition only: no single figure for the unit
        rows = [r for r in b.table.to_pylist() if r["BREAKDOWN"] is None]
        commissioner = next((r for r in rows if r["LEVEL"] == "commissioner"), None)
        for r in rows:
            if r["LEVEL"] == level and (units is None or r["UNIT"] in units):
                found.append({**r, "DEFINITION": b.definition, "COMMISSIONER_VALUE": (commissioner or {}).get("VALUE")})
    return found


def _registered(benchmarks: list[Benchmark]) -> dict[str, float | None]:
    """Each unit's registered patients (the year's mean list), from an indicator whose denominator is the list."""
    for b in benchmarks:
        if b.definition.denominator.dataset == POPULATION and b.definition.standardisation == "none":
            return {r["UNIT"]: r["DENOMINATOR"] for r in b.table.to_pylist() if r["BREAKDOWN"] is None}
    for b in benchmarks:
        if b.definition.denominator.dataset == POPULATION:
            return {r["UNIT"]: r["DENOMINATOR"] for r in b.table.to_pylist() if r["BREAKDOWN"] is None}
    return {}


def provider_costs(sources: Sources, cluster: Cluster, year: str, rule: DisclosureRule | None) -> dict[str, Any]:
    """The cluster's activity and cost by provider, beside the commissioner's cost there and its contract plan."""
    costs = sources.costs(cluster.commissioner, year)
    costs = costs.filter(pc.equal(costs["FINANCIAL_YEAR"], year))
    whole = {r["PROCODE"]: r for r in summed(costs, ["PROCODE"], ["ACTIVITY", "PENCE"])}
    mine_table = costs.filter(pc.equal(costs["LOCALITY"], cluster.code))
    mine = sorted(summed(mine_table, ["PROCODE"], ["ACTIVITY", "PENCE"]), key=lambda r: -r["PENCE"])
    plan = sources.plan(year, cluster.commissioner)
    planned = {r["PROCODE"]: r["PENCE"] for r in summed(plan, ["PROCODE"], ["PENCE"])} if plan is not None else {}
    total_pence = sum(r["PENCE"] for r in mine)
    shown, other = mine[:TOP_PROVIDERS], mine[TOP_PROVIDERS:]
    rows = []
    for r in shown:
        activity = protected(rule, r["ACTIVITY"])
        pence = None if activity is None and r["ACTIVITY"] else r["PENCE"]
        everyone = whole.get(r["PROCODE"], {}).get("PENCE")
        rows.append(
            {
                "PROCODE": r["PROCODE"],
                "NAME": sources.name_of(r["PROCODE"]),
                "ACTIVITY": activity,
                "PENCE": pence,
                "SHARE": share(pence, total_pence),
                "COMMISSIONER_PENCE": everyone,
                "CLUSTER_SHARE": share(pence, everyone),
                "PLAN_PENCE": planned.get(r["PROCODE"]),
            }
        )
    if other:
        activity = protected(rule, sum(r["ACTIVITY"] for r in other))
        pence = sum(r["PENCE"] for r in other)
        rows.append(
            {
                "PROCODE": "",
                "NAME": f"{len(other)} other providers",
                "ACTIVITY": activity,
                "PENCE": pence if activity is not None else None,
                "SHARE": share(pence, total_pence) if activity is not None else None,
                "COMMISSIONER_PENCE": None,
                "CLUSTER_SHARE": None,
                "PLAN_PENCE": None,
            }
        )
    by_pod = sorted(summed(mine_table, ["POD"], ["ACTIVITY", "PENCE"]), key=lambda r: pod_rank(r["POD"]))
    pods = []
    for r in by_pod:
        activity = protected(rule, r["ACTIVITY"])
        pods.append(
            {
                "POD": r["POD"],
                "LABEL": pod_label(r["POD"]),
                "ACTIVITY": activity,
                "PENCE": r["PENCE"] if activity is not None or not r["ACTIVITY"] else None,
            }
        )
    return {
        "providers": rows,
        "pods": pods,
        "total_pence": total_pence,
        "total_activity": protected(rule, sum(r["ACTIVITY"] for r in mine)),
        "has_plan": plan is not None,
    }


def _practice_pages(
    sources: Sources,
    cluster: Cluster,
    year: str,
    rule: DisclosureRule | None,
    practice_benchmarks: list[Benchmark],
) -> list[dict[str, Any]]:
    """One page's figures per practice of the cluster: list, budget by POD, indicators, trends, data quality."""
    members = cluster_practices(sources, cluster, _year_end(year))
    registered = _registered(practice_benchmarks)
    indicators = _benchmark_rows(practice_benchmarks, "practice", set(members))
    monitored = sources.optional_mart("budget_monitoring", year) is not None
    totals, pods = practice_positions(sources, year, cluster.code, rule=rule) if monitored else ({}, {})
    as_at = monitoring_position(sources, year, None)[1].as_at if monitored else _year_end(year).replace(day=1)
    specs = tuple(s for s in KEY_INDICATORS if s.id in PRACTICE_TRENDS)
    elapsed = months_to_date(year, 12)
    months = [m for m in elapsed if m <= as_at]
    pages = []
    for code in members:
        trend_rows = (
            trends(sources, code, cluster.commissioner, year, as_at, rule=rule, indicators=specs) if monitored else []
        )
        total = totals.get(code)
        pages.append(
            {
                "code": code,
                "name": display_name(sources.name_of(code)),
                "registered": registered.get(code),
                "total": {**total, "LABEL": "All PODs"} if total else None,
                "pods": [{**r, "LABEL": pod_label(r["POD"])} for r in pods.get(code, [])],
                "indicators": [r for r in indicators if r["UNIT"] == code],
                "trends": trend_rows,
                "quality": quality_status(sources, [code], months, None, rule),
            }
        )
    return pages


def _funnels(practice_benchmarks: list[Benchmark], members: set[str], cluster: Cluster) -> list[tuple[Benchmark, Any]]:
    """Funnel plots of the chosen indicators, the cluster's practices highlighted among the commissioner's."""
    found = []
    for b in practice_benchmarks:
        if b.definition.id not in FUNNELS:
            continue
        points = b.table.filter(pc.equal(b.table["LEVEL"], "practice"))
        chart = funnel_plot(points, funnel_curve(b), highlight=members, unit=b.definition.unit, width=430, height=210)
        found.append(
            (
                b,
                figure(
                    chart,
                    b.definition.title,
                    f"Funnel plot of {b.definition.title.lower()} for {cluster.commissioner_name}'s practices, "
                    f"{cluster.name}'s highlighted",
                ),
            )
        )
    return found


def pack_context(sources: Sources, cluster: Cluster, year: str, external: bool = False) -> dict[str, Any]:
    """Everything the pack shows for a cluster and financial year."""
    year = check_year(year)
    rule = DEFAULT_RULE if external else None
    pyramid_table = sources.pyramid(cluster.code, "cluster", cluster.commissioner, year, rule)
    prevalence_table = sources.prevalence(cluster.code, "cluster", cluster.commissioner, year, rule)
    history = activity_histories(sources, cluster.commissioner, year, [cluster.code], "cluster", rule)[cluster.code]
    practice_benchmarks = sources.benchmarks(year, cluster.commissioner, "practice", rule)
    cluster_benchmarks = sources.benchmarks(year, cluster.commissioner, "cluster", rule)
    pages = _practice_pages(sources, cluster, year, rule, practice_benchmarks)
    members = {p["code"] for p in pages}
    pyramid = pyramid_table.to_pylist()
    prevalence = [{**r, "LABEL": condition_label(r["CONDITION"])} for r in prevalence_table.to_pylist()]
    activity = [{**r, "POD_LABEL": pod_label(r["POD"])} for r in history.to_pylist()]
    figures = {
        "pyramid": figure(
            population_pyramid(pyramid_table, unit_label=cluster.name, width=230, height=270),
            "Population pyramid",
            f"Population pyramid of {cluster.name}'s registered patients against {cluster.commissioner_name}'s",
        ),
    }
    if prevalence:
        figures["prevalence"] = figure(
            prevalence_chart(prevalence, width=430),
            "Recorded prevalence against expected",
            f"Recorded disease prevalence in {cluster.name} with 95% intervals, against the prevalence expected",
        )
    if activity:
        figures["cost"] = figure(
            activity_history_chart(history, measure="COST_PER_HEAD_PENCE"),
            "Cost per head by year",
            f"Cost per head by year and POD for {cluster.name}, with {cluster.commissioner_name}'s as ticks",
        )
        figures["activity"] = figure(
            activity_history_chart(history, measure="ACTIVITY_PER_1000"),
            "Activity per 1,000 patients by year",
            f"Activity per 1,000 patients by year and POD for {cluster.name}, with {cluster.commissioner_name}'s",
        )
    budget = None
    if sources.optional_mart("budget_monitoring", year) is not None:
        seen = monitoring(sources, year, cluster=cluster.code, rule=rule)
        budget = {
            "where": seen.where,
            "run": seen.budget_run,
            "pods": [{**r, "LABEL": pod_label(r["POD"])} for r in seen.pods],
            "total": {**seen.total, "LABEL": "All PODs"},
            "notes": seen.notes,
        }
    total_list = sum(r[k] or 0 for r in pyramid for k in ("MALE", "FEMALE"))
    notes = [] if prevalence else [f"no disease registers are held for {year}, so the pack has no prevalence"]
    if not activity:
        notes.append("no costed activity is held: the activity history needs the tariff and the activity ingested")
    if rule is not None:
        notes.append(rule.describe())
    return {
        "title": f"{cluster.name} cluster information pack {year}",
        "marking": EXTERNAL if external else INTERNAL,
        "external": external,
        "rule": rule.describe() if rule else None,
        "cluster": cluster,
        "year": year,
        "sections": SECTIONS,
        "practice_count": len(pages),
        "list_size": protected(rule, total_list),
        "pyramid": pyramid,
        "prevalence": prevalence,
        "activity": activity,
        "figures": figures,
        "budget": budget,
        "costs": provider_costs(sources, cluster, year, rule),
        "practices": sorted(pages, key=lambda p: p["name"]),
        "public_health": _benchmark_rows(cluster_benchmarks, "cluster", {cluster.code}),
        "practice_comparisons": _comparisons(practice_benchmarks, members),
        "funnels": _funnels(practice_benchmarks, members, cluster),
        "glossary": glossary(),
        "notes": notes,
    }


def _comparisons(practice_benchmarks: list[Benchmark], members: set[str]) -> list[dict[str, Any]]:
    """Per indicator, how many of the cluster's practices compare better, similar or worse than the commissioner."""
    rows = []
    for b in practice_benchmarks:
        if b.definition.breakdown is not None:
            continue
        mine = [r for r in b.table.to_pylist() if r["UNIT"] in members and r["BREAKDOWN"] is None]
        counted: dict[str, int] = {}
        for r in mine:
            key = r["COMPARISON"] or ("suppressed" if r["SUPPRESSED"] else "not compared")
            counted[key] = counted.get(key, 0) + 1
        rows.append({"definition": b.definition, "counts": counted, "practices": len(mine)})
    return rows


def cluster_pack(sources: Sources, cluster: Cluster, year: str, out: Path, external: bool = False) -> Path:
    """Write a cluster's information pack for a financial year to a PDF (or HTML) file."""
    return write(render(TEMPLATE, **pack_context(sources, cluster, year, external)), out)
