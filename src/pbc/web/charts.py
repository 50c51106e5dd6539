"""The pages' charts: the shared Vega-Lite builders of `pbc.charts`, kept as specs that serialise once.

They are the same specs the printed reports render to SVG, fed from the web's figures. The browser draws them
with vega-embed. Money goes to a chart in pounds (a float is fine for drawing); every figure shown as text is exact
pence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from markupsafe import Markup, escape

from pbc import charts
from pbc.indicators.spc import SPCResult


class Spec(dict):  # type: ignore[type-arg]
    """A Vega-Lite spec that also keeps its HTML-escaped JSON, so a cached chart is serialised once, not per page."""

    @cached_property
    def html(self) -> Markup:
        """The spec as JSON, escaped for an HTML attribute."""
        return escape(json.dumps(self, separators=(",", ":")))


def budget_chart(rows: Sequence[dict[str, Any]], title: str) -> Spec:
    """Budget against actual by POD, year to date and whole year (rows from `pbc.web.data.monitoring` by POD)."""
    shaped = [
        {
            "POD": r["POD"],
            "YTD_PLAN_PENCE": r["ytd_budget"],
            "YTD_ACTUAL_PENCE": r["ytd_actual"],
            "ANNUAL_PLAN_PENCE": r["annual"],
            "FORECAST_PENCE": r["forecast_seasonal"],
        }
        for r in rows
    ]
    return Spec(charts.budget_against_actual(shaped, width=300, title=title).to_dict())


def trend_chart(series: Sequence[dict[str, Any]], values: Sequence[float], spc: SPCResult, title: str) -> Spec:
    """A monthly series as an XmR chart in the Making Data Count style."""
    months = [p["month"] for p in series]
    return Spec(charts.spc_chart(months, values, spc, title=title, width=360, height=150).to_dict())


def funnel_chart(
    units: Sequence[dict[str, Any]], curve: Sequence[dict[str, Any]], highlight: set[str], title: str
) -> Spec | dict[str, Any]:
    """A funnel plot of practices against the commissioner, the cluster's own practices drawn dark."""
    if not units or not curve:
        return {}
    return Spec(charts.funnel_plot(units, curve, highlight=highlight, title=title, width=700, height=260).to_dict())
