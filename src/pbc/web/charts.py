"""Chart specifications for the pages, as Vega-Lite built with Altair: drawn in the browser by vega-embed.

Charts are specs, not pictures, so the same definition can be drawn on a page or rendered to SVG for a report.
Money goes to the chart in pounds (a float is fine for drawing; every figure shown as text is exact pence).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property, lru_cache
from typing import Any

import altair as alt
import pandas as pd
from markupsafe import Markup, escape

from pbc.indicators.spc import SPCResult


class Spec(dict):  # type: ignore[type-arg]
    """A Vega-Lite spec that also keeps its HTML-escaped JSON, so a cached chart is serialised once, not per page."""

    @cached_property
    def html(self) -> Markup:
        """The spec as JSON, escaped for an HTML attribute."""
        return escape(json.dumps(self, separators=(",", ":")))


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
    return Spec(chart.to_dict())


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
    return Spec(alt.layer(line, points, mean, *limits).properties(width="container", height=180).to_dict())


def funnel_chart(
    units: Sequence[dict[str, Any]], curve: Sequence[dict[str, Any]], highlight: set[str], title: str
) -> dict[str, Any]:
    """A funnel plot: each practice's value against its size, the commissioner's value and the 95%/99.8% limits."""
    points = pd.DataFrame(
        [
            {
                "size": u["FUNNEL_X"],
                "value": u["VALUE"],
                "practice": u["UNIT"],
                "name": u.get("UNIT_NAME") or u["UNIT"],
                "group": "this cluster" if u["UNIT"] in highlight else "other practices",
                "comparison": u.get("COMPARISON") or "",
            }
            for u in units
            if u.get("FUNNEL_X") and u.get("VALUE") is not None
        ]
    )
    limits = pd.DataFrame(curve)
    if points.empty or limits.empty:
        return {}
    limits = limits.iloc[:: max(1, len(limits) // 40)]  # forty points draw a smooth funnel
    shown = points.copy()
    scale = 100.0 if limits["BASELINE"].iloc[0] == 1.0 else 1.0  # ratios are drawn as observed/expected x 100
    limits = limits.assign(
        **{k: limits[k] * scale for k in ("BASELINE", "LOWER_95", "UPPER_95", "LOWER_998", "UPPER_998")}
    )
    size = alt.Scale(type="log", nice=False, domain=[float(limits["X"].min()), float(limits["X"].max())])
    base = alt.Chart(limits).encode(x=alt.X("X:Q", title="Expected events (size)", scale=size))
    bands = [
        base.mark_line(color="#768692", strokeDash=dash).encode(
            y=alt.Y(f"{col}:Q", title=None, scale=alt.Scale(zero=False))
        )
        for col, dash in (("LOWER_95", [4, 4]), ("UPPER_95", [4, 4]), ("LOWER_998", [1, 0]), ("UPPER_998", [1, 0]))
    ]
    centre = base.mark_line(color="#000000").encode(y="BASELINE:Q")
    dots = (
        alt.Chart(shown)
        .mark_point(filled=True, size=60)
        .encode(
            x="size:Q",
            y=alt.Y("value:Q", title=None),
            color=alt.Color(
                "group:N",
                scale=alt.Scale(domain=["this cluster", "other practices"], range=["#005eb8", "#aeb7bd"]),
                title=None,
            ),
            tooltip=["practice", "name", alt.Tooltip("value:Q", format=".1f"), "comparison"],
        )
    )
    chart = alt.layer(*bands, centre, dots, title=title).properties(width="container", height=260)
    return Spec(chart.to_dict())
