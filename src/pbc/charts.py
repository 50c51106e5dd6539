"""Charts as Vega-Lite specs built with Altair: one definition for the interactive web page and the printed report.

Every builder takes plain rows (a pyarrow table, a pandas frame or a list of dicts, as the marts and indicator
modules return them) and gives back an Altair chart. The web page embeds `chart.to_dict()` with vega-embed and
keeps its tooltips; a report renders the same spec to SVG with `to_svg` (vl-convert), which WeasyPrint prints.

The charts are drawn to survive a black-and-white printer: series differ in lightness (NHS dark blue against pale
grey) and, where colour carries meaning (the Making Data Count variation classes), in shape too. Money arrives in
integer pence and is drawn in pounds; the exact figure is in the tooltip, written by `pbc.money.pounds`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import pyarrow as pa

from pbc.money import pounds

if TYPE_CHECKING:
    from pbc.indicators.spc import SPCResult

Rows = pa.Table | pd.DataFrame | Sequence[dict[str, Any]]

# NHS identity colours, chosen so each pair used together also differs in grey when printed without colour.
DARK = "#003087"  # NHS dark blue: actual, the unit reported on
BLUE = "#005EB8"  # NHS blue
LIGHT = "#AEB7BD"  # NHS mid grey: budget, the comparator
PALE = "#E8EDEE"  # NHS pale grey
INK = "#212B32"  # NHS text colour
FONT = "DejaVu Sans, Arial, sans-serif"

# Making Data Count variation classes: colour for the screen, shape for the printer.
VARIATION_STYLE = {
    "common_cause": ("Common cause", "#A6A6A6", "circle"),
    "improvement": ("Special cause: improvement", "#41B6E6", "diamond"),
    "concern": ("Special cause: concern", "#ED8B00", "square"),
    "neutral": ("Special cause: neither", "#330072", "triangle-up"),
}

POD_LABELS = {
    "APC_EL": "Elective admissions",
    "APC_NE": "Emergency admissions",
    "OP_FIRST": "First outpatients",
    "OP_FU": "Follow-up outpatients",
    "AE": "A&E attendances",
}


def _frame(rows: Rows) -> pd.DataFrame:
    """Rows in whatever form the caller holds them, as a pandas frame (Altair's input)."""
    if isinstance(rows, pd.DataFrame):
        return rows.copy()
    if isinstance(rows, pa.Table):
        return rows.to_pandas()
    return pd.DataFrame(list(rows))


def _configured(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The house style: one font, quiet axes, white background, no chart border."""
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=10, titleFontSize=10, labelColor=INK, titleColor=INK, gridColor=PALE)
        .configure_legend(labelFontSize=10, titleFontSize=10, orient="bottom", symbolStrokeWidth=1)
        .configure_title(fontSize=12, anchor="start", color=INK)
    )


def pod_label(pod: str) -> str:
    """A point of delivery in words (the code itself for one pbc does not name)."""
    return POD_LABELS.get(pod, pod)


def money_scale(largest_pence: float) -> tuple[float, str]:
    """The divisor from pence and the axis title that keep money axes short: £ million, £ thousand or £."""
    if largest_pence >= 100_000_000:
        return 100_000_000, "£ million"
    if largest_pence >= 100_000:
        return 100_000, "£ thousand"
    return 100, "£"


def budget_against_actual(rows: Rows, *, width: int = 260, title: str | None = None) -> alt.TopLevelMixin:
    """Budget against actual by POD: the year to date beside the whole year (annual budget and forecast outturn).

    `rows` has POD, YTD_PLAN_PENCE, YTD_ACTUAL_PENCE, ANNUAL_PLAN_PENCE and FORECAST_PENCE (one row per POD, as
    `pbc.finance.variance.summarise` gives them with the chosen forecast added). Budget is pale, actual and
    forecast dark, so the two read apart in black and white.
    """
    frame = _frame(rows)
    long = []
    for r in frame.to_dict("records"):
        for period, series, column in (
            ("Year to date", "Budget", "YTD_PLAN_PENCE"),
            ("Year to date", "Actual / forecast", "YTD_ACTUAL_PENCE"),
            ("Whole year", "Budget", "ANNUAL_PLAN_PENCE"),
            ("Whole year", "Actual / forecast", "FORECAST_PENCE"),
        ):
            pence = r.get(column)
            if pence is None or pd.isna(pence):
                continue
            long.append(
                {
                    "POD": pod_label(r["POD"]),
                    "PERIOD": period,
                    "SERIES": series,
                    "PENCE": int(pence),
                    "AMOUNT": pounds(int(pence)),
                }
            )
    data = pd.DataFrame(long, columns=["POD", "PERIOD", "SERIES", "PENCE", "AMOUNT"])
    divisor, axis_title = money_scale(max([abs(v) for v in data["PENCE"]] or [0]))
    data["POUNDS"] = data["PENCE"] / divisor
    order = [pod_label(p) for p in frame["POD"]] if len(frame) else []
    bars = (
        alt.Chart(data)
        .mark_bar(stroke=INK, strokeWidth=0.5)
        .encode(
            y=alt.Y("POD:N", sort=order, title=None, axis=alt.Axis(labelLimit=140)),
            yOffset=alt.YOffset("SERIES:N", sort=["Budget", "Actual / forecast"]),
            x=alt.X("POUNDS:Q", title=axis_title, axis=alt.Axis(format=",~r", tickCount=3, labelOverlap="greedy")),
            color=alt.Color(
                "SERIES:N",
                title=None,
                scale=alt.Scale(domain=["Budget", "Actual / forecast"], range=[LIGHT, DARK]),
            ),
            tooltip=[
                alt.Tooltip("POD:N", title="POD"),
                alt.Tooltip("PERIOD:N", title="period"),
                alt.Tooltip("SERIES:N", title="series"),
                alt.Tooltip("AMOUNT:N", title="amount"),
            ],
        )
        .properties(width=width, height=alt.Step(7))
    )
    chart = bars.facet(column=alt.Column("PERIOD:N", title=None, sort=["Year to date", "Whole year"]), spacing=12)
    if title:
        chart = chart.properties(title=title)
    return _configured(chart.resolve_scale(x="independent"))


def spc_chart(
    months: Sequence[Any],
    values: Sequence[float],
    result: SPCResult,
    *,
    title: str | None = None,
    unit: str = "",
    width: int = 300,
    height: int = 120,
) -> alt.TopLevelMixin:
    """An XmR chart in the Making Data Count style: the series, its mean, process limits, coloured signals.

    `result` is `pbc.indicators.spc.xmr(values, ...)`; each point is drawn in its variation class (colour and
    shape), the mean as a solid line and the process limits dashed, each period (after a rebase) with its own.
    """
    points = []
    for (month, value), point in zip(zip(months, values, strict=True), result.points, strict=True):
        name, _, _ = VARIATION_STYLE[point.variation]
        points.append(
            {
                "MONTH": pd.Timestamp(month),
                "VALUE": value,
                "VARIATION": name,
                "RULES": ", ".join(point.rules) or "none",
            }
        )
    data = pd.DataFrame(points)
    lines = []
    for period in result.periods:
        first, last = pd.Timestamp(months[period.start]), pd.Timestamp(months[period.stop - 1])
        for line, value in (
            ("Mean", period.mean),
            ("Upper process limit", period.upper_process_limit),
            ("Lower process limit", period.lower_process_limit),
        ):
            for month in (first, last):
                lines.append({"MONTH": month, "VALUE": value, "LINE": line, "PERIOD": period.start})
    limits = pd.DataFrame(lines)
    x = alt.X("MONTH:T", title=None, axis=alt.Axis(format="%b %y", labelAngle=0, tickCount="month"))
    y_title = unit or None
    base = alt.Chart(data).encode(x=x)
    series = base.mark_line(color=INK, strokeWidth=1).encode(
        y=alt.Y("VALUE:Q", title=y_title, scale=alt.Scale(zero=False))
    )
    domain = [VARIATION_STYLE[k][0] for k in VARIATION_STYLE]
    marks = base.mark_point(filled=True, size=40, stroke=INK, strokeWidth=0.5, opacity=1).encode(
        y="VALUE:Q",
        color=alt.Color(
            "VARIATION:N",
            title=None,
            scale=alt.Scale(domain=domain, range=[VARIATION_STYLE[k][1] for k in VARIATION_STYLE]),
            legend=None,
        ),
        shape=alt.Shape(
            "VARIATION:N",
            scale=alt.Scale(domain=domain, range=[VARIATION_STYLE[k][2] for k in VARIATION_STYLE]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("MONTH:T", format="%B %Y", title="month"),
            alt.Tooltip("VALUE:Q", format=",.2f", title=unit or "value"),
            alt.Tooltip("VARIATION:N", title="variation"),
            alt.Tooltip("RULES:N", title="rules"),
        ],
    )
    rules = (
        alt.Chart(limits)
        .mark_line(color=INK, strokeWidth=0.8)
        .encode(
            x=x,
            y="VALUE:Q",
            detail=["LINE:N", "PERIOD:N"],
            strokeDash=alt.StrokeDash(
                "LINE:N",
                scale=alt.Scale(
                    domain=["Mean", "Upper process limit", "Lower process limit"], range=[[1, 0], [4, 3], [4, 3]]
                ),
                legend=None,
            ),
            tooltip=[alt.Tooltip("LINE:N", title="line"), alt.Tooltip("VALUE:Q", format=",.2f", title="value")],
        )
    )
    chart = alt.layer(rules, series, marks).properties(width=width, height=height)
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def population_pyramid(
    rows: Rows, *, title: str | None = None, unit_label: str = "this list", width: int = 210, height: int = 260
) -> alt.TopLevelMixin:
    """Patients by five-year band and sex as a percentage of the list, men left and women right, oldest on top.

    `rows` is a profile's pyramid (`pbc.indicators.profiles`): AGE_BAND, MALE_PERCENT, FEMALE_PERCENT and the
    commissioner's COMMISSIONER_MALE_PERCENT, COMMISSIONER_FEMALE_PERCENT, drawn as a white diamond ringed in
    black on each bar (visible on dark and pale bars alike) so an older or younger list shows at a glance. A
    suppressed band (no percentage) is left empty.
    """
    frame = _frame(rows)
    bands = list(frame["AGE_BAND"])
    long = []
    for r in frame.to_dict("records"):
        label = str(r["AGE_BAND"]).replace("_", "-")
        for sex, mine, theirs in (
            ("Men", "MALE_PERCENT", "COMMISSIONER_MALE_PERCENT"),
            ("Women", "FEMALE_PERCENT", "COMMISSIONER_FEMALE_PERCENT"),
        ):
            share = r.get(mine)
            whole = r.get(theirs)
            long.append(
                {
                    "BAND": label,
                    "SEX": sex,
                    "SHARE": None if share is None or pd.isna(share) else float(share),
                    "COMPARATOR": None if whole is None or pd.isna(whole) else float(whole),
                }
            )
    data = pd.DataFrame(long, columns=["BAND", "SEX", "SHARE", "COMPARATOR"])
    order = [str(b).replace("_", "-") for b in reversed(bands)]
    top = max([*data["SHARE"].dropna(), *data["COMPARATOR"].dropna(), 1.0])

    def side(sex: str, reverse: bool) -> alt.TopLevelMixin:
        part = data[data["SEX"] == sex]
        scale = alt.Scale(domain=[0, top * 1.05], reverse=reverse)
        x = alt.X("SHARE:Q", title=f"{sex} (% of list)", scale=scale, axis=alt.Axis(tickCount=4))
        y = alt.Y("BAND:N", sort=order, title=None, axis=None if reverse else alt.Axis(title=None))
        bars = (
            alt.Chart(part)
            .mark_bar(color=DARK if sex == "Men" else LIGHT, stroke=INK, strokeWidth=0.3)
            .encode(
                x=x,
                y=y,
                tooltip=[
                    alt.Tooltip("BAND:N", title="age"),
                    alt.Tooltip("SEX:N", title="sex"),
                    alt.Tooltip("SHARE:Q", format=".2f", title=f"% of {unit_label}"),
                    alt.Tooltip("COMPARATOR:Q", format=".2f", title="% of commissioner"),
                ],
            )
        )
        outline = (
            alt.Chart(part)
            .mark_point(shape="diamond", filled=True, fill="white", stroke=INK, strokeWidth=1.2, size=45, opacity=1)
            .encode(x=alt.X("COMPARATOR:Q", scale=scale), y=alt.Y("BAND:N", sort=order))
        )
        return alt.layer(bars, outline).properties(width=width, height=height)

    chart = alt.hconcat(side("Men", True), side("Women", False), spacing=40)
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def prevalence_chart(rows: Rows, *, title: str | None = None, width: int = 420) -> alt.TopLevelMixin:
    """Recorded disease prevalence per register with its 95% interval, against the prevalence expected.

    `rows` is a profile's prevalence table: CONDITION (or LABEL, its name for people), PREVALENCE, LOWER_95,
    UPPER_95 and EXPECTED_PREVALENCE (the prevalence the list would have at the commissioner's own rates for each
    band and sex). Observed is a
    dark dot on its interval, expected a hollow pale diamond, so a gap between them reads without colour.
    """
    frame = _frame(rows)
    frame = frame[frame["PREVALENCE"].notna()] if len(frame) else frame
    data = pd.DataFrame(
        {
            "CONDITION": frame.get("LABEL", frame.get("CONDITION", pd.Series(dtype=str))),
            "OBSERVED": frame.get("PREVALENCE", pd.Series(dtype=float)),
            "LOWER": frame.get("LOWER_95", pd.Series(dtype=float)),
            "UPPER": frame.get("UPPER_95", pd.Series(dtype=float)),
            "EXPECTED": frame.get("EXPECTED_PREVALENCE", pd.Series(dtype=float)),
        }
    )
    y = alt.Y("CONDITION:N", title=None, sort=list(data["CONDITION"]))
    base = alt.Chart(data).encode(y=y)
    interval = base.mark_rule(color=INK, strokeWidth=1.2).encode(
        x=alt.X("LOWER:Q", title="% of the list on the register"), x2="UPPER:Q"
    )
    observed = base.mark_point(filled=True, color=DARK, size=50, shape="circle").encode(
        x="OBSERVED:Q",
        tooltip=[
            alt.Tooltip("CONDITION:N", title="register"),
            alt.Tooltip("OBSERVED:Q", format=".2f", title="recorded %"),
            alt.Tooltip("LOWER:Q", format=".2f", title="95% lower"),
            alt.Tooltip("UPPER:Q", format=".2f", title="95% upper"),
            alt.Tooltip("EXPECTED:Q", format=".2f", title="expected %"),
        ],
    )
    expected = base.mark_point(filled=False, color=INK, size=70, shape="diamond", strokeWidth=1.2).encode(
        x="EXPECTED:Q"
    )
    chart = alt.layer(interval, observed, expected).properties(width=width, height=alt.Step(18))
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def activity_history_chart(
    rows: Rows, *, measure: str = "COST_PER_HEAD_PENCE", title: str | None = None, width: int = 90, columns: int = 5
) -> alt.TopLevelMixin:
    """Activity or cost per head by financial year, one small panel per POD side by side, the commissioner's a tick.

    `rows` is a profile's activity history. `measure` is COST_PER_HEAD_PENCE (drawn in pounds per head) or
    ACTIVITY_PER_1000; the commissioner's matching figure is drawn as a black tick on each bar.
    """
    frame = _frame(rows)
    money = measure.endswith("_PENCE")
    comparator = f"COMMISSIONER_{measure}"
    data = pd.DataFrame(
        {
            "YEAR": frame.get("FINANCIAL_YEAR", pd.Series(dtype=str)),
            "POD": [pod_label(p) for p in frame.get("POD", [])],
            "VALUE": frame.get(measure, pd.Series(dtype=float)),
            "COMPARATOR": frame.get(comparator, pd.Series(dtype=float)),
        }
    )
    if money:
        data["VALUE"] = data["VALUE"] / 100
        data["COMPARATOR"] = data["COMPARATOR"] / 100
    label = "£ per head" if money else "per 1,000 patients"
    pods = list(dict.fromkeys(data["POD"]))
    # '2006/07' drawn as '06/07', so three years fit under a narrow panel
    year_axis = alt.Axis(labelAngle=0, labelExpr="substring(datum.label, 2)")
    base = alt.Chart(data).encode(x=alt.X("YEAR:N", title=None, axis=year_axis))
    bars = base.mark_bar(color=DARK, stroke=INK, strokeWidth=0.3).encode(
        y=alt.Y("VALUE:Q", title=label),
        tooltip=[
            alt.Tooltip("POD:N", title="POD"),
            alt.Tooltip("YEAR:N", title="year"),
            alt.Tooltip("VALUE:Q", format=",.1f", title=label),
            alt.Tooltip("COMPARATOR:Q", format=",.1f", title="commissioner"),
        ],
    )
    ticks = base.mark_tick(color=LIGHT, thickness=3, size=22).encode(y="COMPARATOR:Q")
    chart = (
        alt.layer(bars, ticks, data=data)
        .properties(width=width, height=110)
        .facet(facet=alt.Facet("POD:N", title=None, sort=pods, header=alt.Header(labelFontSize=9)), columns=columns)
        .resolve_scale(y="independent")
    )
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def funnel_plot(
    points: Rows,
    curve: Rows,
    *,
    highlight: Iterable[str] = (),
    title: str | None = None,
    unit: str = "",
    width: int = 420,
    height: int = 220,
) -> alt.TopLevelMixin:
    """A funnel plot: each unit's value against its denominator inside the 95% and 99.8% control limits.

    `points` are benchmark rows (`pbc.indicators.compute`: UNIT, UNIT_NAME, VALUE, FUNNEL_X); `curve` is
    `pbc.indicators.benchmark.funnel_curve` of the same benchmark (X, BASELINE and the four limits). The units in
    `highlight` (a cluster's practices) are drawn dark and filled, the others pale and hollow.
    """
    chosen = set(highlight)
    frame = _frame(points)
    if len(frame):
        frame = frame[frame["VALUE"].notna() & frame["FUNNEL_X"].notna()]
    data = pd.DataFrame(
        {
            "UNIT": frame.get("UNIT", pd.Series(dtype=str)),
            "NAME": frame.get("UNIT_NAME", pd.Series(dtype=str)),
            "X": frame.get("FUNNEL_X", pd.Series(dtype=float)),
            "VALUE": frame.get("VALUE", pd.Series(dtype=float)),
        }
    )
    data["GROUP"] = ["This cluster" if u in chosen else "Other practices" for u in data["UNIT"]]
    lines = []
    for r in _frame(curve).to_dict("records"):
        for line, column in (
            ("Commissioner", "BASELINE"),
            ("95% limits", "LOWER_95"),
            ("95% limits", "UPPER_95"),
            ("99.8% limits", "LOWER_998"),
            ("99.8% limits", "UPPER_998"),
        ):
            if r.get(column) is not None and not pd.isna(r[column]):
                lines.append({"X": r["X"], "VALUE": r[column], "LINE": line, "SIDE": column})
    limits = pd.DataFrame(lines, columns=["X", "VALUE", "LINE", "SIDE"])
    x = alt.X("X:Q", title="denominator (patients or expected events)", scale=alt.Scale(zero=False))
    y = alt.Y("VALUE:Q", title=unit or None, scale=alt.Scale(zero=False))
    funnel = (
        alt.Chart(limits)
        .mark_line(color=INK, strokeWidth=0.8)
        .encode(
            x=x,
            y=y,
            detail="SIDE:N",
            strokeDash=alt.StrokeDash(
                "LINE:N",
                title=None,
                scale=alt.Scale(domain=["Commissioner", "95% limits", "99.8% limits"], range=[[1, 0], [4, 3], [1, 2]]),
            ),
        )
    )
    dots = (
        alt.Chart(data)
        .mark_point(size=40, strokeWidth=1.2)
        .encode(
            x="X:Q",
            y="VALUE:Q",
            color=alt.Color(
                "GROUP:N", title=None, scale=alt.Scale(domain=["This cluster", "Other practices"], range=[DARK, LIGHT])
            ),
            fill=alt.Fill(
                "GROUP:N",
                scale=alt.Scale(domain=["This cluster", "Other practices"], range=[DARK, "white"]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("UNIT:N", title="code"),
                alt.Tooltip("NAME:N", title="name"),
                alt.Tooltip("VALUE:Q", format=",.1f", title=unit or "value"),
                alt.Tooltip("X:Q", format=",.0f", title="denominator"),
            ],
        )
    )
    chart = alt.layer(funnel, dots).properties(width=width, height=height).resolve_scale(color="independent")
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as SVG markup, for a printed report (vl-convert renders the same spec the web page embeds)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict())
