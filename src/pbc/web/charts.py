"""Chart specifications for the pages, as Vega-Lite built with Altair: drawn in the browser by vega-embed.

Charts are specs, not pictures, so the same definition can be drawn on a page or rendered to SVG for a report.
Money goes to the chart in pounds (a float is fine for drawing; every figure shown as text is exact pence).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd

from pbc.indicators.spc import SPCResult


def budget_chart(rows: Sequence[dict[str, Any]], title: str) -> dict[str, Any]:
    """Year-to-date budget and actual side by side per POD (rows from `pbc.web.data.monitoring` by POD)."""
    return _budget_chart(tuple((r["POD"], r["ytd_budget"], r["ytd_actual"]) for r in rows), title)


@lru_cache(maxsize=256)
def _budget_chart(rows: tuple[tuple[str, int, int], ...], title: str) -> dict[str, Any]:
    frame = pd.DataFrame(
        [
            {"POD": pod, "measure": measure, "pounds": pence / 100}
            for pod, budget, actual in rows
            for measure, pence in (("budget", budget), ("actual", actual))
        ]
    )
    if frame.empty:
        frame = pd.DataFrame({"POD": [], "measure": [], "pounds": []})
    chart = (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("POD:N", title="Point of delivery"),
            xOffset=alt.XOffset("measure:N"),
            y=alt.Y("pounds:Q", title="£ year to date", axis=alt.Axis(format=",.0f")),
            color=alt.Color("measure:N", scale=alt.Scale(range=["#005eb8", "#ed8b00"]), title=None),
            tooltip=["POD", "measure", alt.Tooltip("pounds:Q", format=",.2f")],
        )
        .properties(width="container", height=220)
    )
    return chart.to_dict()


def trend_chart(
    series: Sequence[dict[str, Any]], values: Sequence[float], spc: SPCResult, title: str
) -> dict[str, Any]:
    """A monthly series as an XmR chart: the points, the mean and the process limits, special causes marked."""
    frame = pd.DataFrame(
        {
            "month": [p["month"].isoformat() for p in series],
            "value": list(values),
            "signal": ["special cause" if point.rules else "common cause" for point in spc.points],
            "mean": spc.mean,
            "upper": spc.upper_process_limit,
            "lower": spc.lower_process_limit,
        }
    )
    base = alt.Chart(frame, title=title).encode(x=alt.X("month:T", title=None))
    line = base.mark_line(color="#425563").encode(y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)))
    points = base.mark_point(filled=True, size=50).encode(
        y="value:Q",
        color=alt.Color(
            "signal:N",
            scale=alt.Scale(domain=["common cause", "special cause"], range=["#425563", "#ed8b00"]),
            title=None,
        ),
        tooltip=["month:T", alt.Tooltip("value:Q", format=".2f"), "signal:N"],
    )
    lines = alt.Chart(frame)  # horizontal lines: no x encoding, one rule across the chart each
    mean = lines.mark_rule(color="#000000").encode(y="mean(mean):Q")
    limits = [lines.mark_rule(strokeDash=[4, 4], color="#768692").encode(y=f"mean({k}):Q") for k in ("upper", "lower")]
    return alt.layer(line, points, mean, *limits).properties(width="container", height=180).to_dict()
