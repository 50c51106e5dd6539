"""The one-page cluster summary: a cluster's month at a glance, for its board and the commissioner's finance team.

One A4 page, readable in black and white: budget against actual to date and the forecast outturn by POD (chart and
table), the practices furthest from their budget, the specialties that moved most against last year, the key
indicators with their Making Data Count icons, and the data quality status (final and provisional months,
flagged lines, challenges). Every figure comes from the monitoring marts (`pbc monitor run`) and the quality run;
the summary computes nothing that `pbc monitor show` and `pbc monitor trend` would not give.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbc.charts import budget_against_actual, pod_label, spc_chart
from pbc.reports.monitoring import largest_variances, monitoring, specialty_changes
from pbc.reports.quality import quality_status
from pbc.reports.render import display_name, figure, render, write
from pbc.reports.tables import months_to_date, year_of_month
from pbc.reports.trends import trends

if TYPE_CHECKING:
    from pbc.reports.sources import Sources
    from pbc.reports.units import Cluster

TEMPLATE = "reports/cluster_summary.html.jinja"
MARKING = "NHS CONFIDENTIAL: for the commissioner and its practices"
CHARTED = ("emergency_admissions", "ae_attendances", "referrals")  # the first of these with a chart is drawn


def summary_context(sources: Sources, cluster: Cluster, month: dt.date) -> dict[str, Any]:
    """Everything the one-page summary shows for a cluster and month."""
    year = year_of_month(month)
    seen = monitoring(sources, year, cluster=cluster.code, as_at=month)
    where = seen.where
    names = sources.names()
    members = [r["PRACTICE"] for r in seen.practices]
    pods = [{**r, "LABEL": pod_label(r["POD"])} for r in seen.pods]
    total = {**seen.total, "LABEL": "All PODs"}
    practices = [
        {**r, "LABEL": f"{display_name(names.get(r['PRACTICE']))} ({r['PRACTICE']})"}
        for r in largest_variances(seen.practices, 5)
    ]
    specialties = specialty_changes(sources, cluster.commissioner, members, year, where, 5)
    indicators = trends(sources, cluster.code, cluster.commissioner, year, where.as_at)
    status = quality_status(sources, members, months_to_date(year, where.elapsed), where)
    charted = next((t for c in CHARTED for t in indicators if t.spec.id == c and t.spc is not None), None)
    spc_figure = None
    if charted is not None and charted.spc is not None:
        spc_figure = figure(
            spc_chart(
                charted.months,
                [float(v or 0) for v in charted.values],
                charted.spc,
                unit=charted.spec.unit,
                width=330,
                height=95,
            ),
            f"{charted.spec.title} ({charted.spec.unit} weighted patients), {cluster.name}",
            f"XmR chart of {charted.spec.title.lower()} for {cluster.name}, {charted.icon_label.lower()}",
        )
    budget_figure = figure(
        budget_against_actual(seen.pods, width=150),
        "Budget against actual by POD",
        f"Bars of budget and actual to date, and annual budget and forecast outturn, by POD for {cluster.name}",
    )
    notes = [
        *seen.notes,
        "Forecast outturn is seasonal: the year to date scaled by last year's whole year over last year to the "
        "same month (profiled by the budget's phasing where last year had nothing).",
        "Variance is actual less budget: positive (+) is an overspend. Specialties have no budget of their own: "
        "their change is against the same months of last year.",
        "Indicators are per 1,000 weighted patients (the follow-up ratio is per first attendance); icons follow "
        "NHS Making Data Count (H/L: special cause high or low; a heavy ring marks a concern); limits from fewer "
        "than 12 months are trial limits and will move.",
    ]
    return {
        "title": f"{cluster.name} cluster: monthly summary, {where.as_at:%B %Y}",
        "marking": MARKING,
        "cluster": cluster,
        "year": year,
        "where": where,
        "budget_run": seen.budget_run,
        "total": total,
        "pods": pods,
        "practices": practices,
        "practice_count": len(members),
        "specialties": specialties,
        "trends": indicators,
        "quality": status,
        "budget_figure": budget_figure,
        "spc_figure": spc_figure,
        "notes": notes,
    }


def cluster_summary(sources: Sources, cluster: Cluster, month: dt.date, out: Path) -> Path:
    """Write a cluster's one-page summary for a month to a PDF or HTML file."""
    return write(render(TEMPLATE, **summary_context(sources, cluster, month)), out)
