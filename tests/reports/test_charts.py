"""Chart builders: each gives a Vega-Lite spec that renders to SVG, from the rows the marts and indicators give."""

from __future__ import annotations

import datetime as dt

import pytest

from pbc import charts
from pbc.indicators.spc import xmr
from pbc.reports.render import Printer, figure

PODS = [
    {"POD": "APC_EL", "YTD_PLAN_PENCE": 500_00, "YTD_ACTUAL_PENCE": 520_00, "ANNUAL_PLAN_PENCE": 700_00,
     "FORECAST_PENCE": 730_00},
    {"POD": "AE", "YTD_PLAN_PENCE": 90_00, "YTD_ACTUAL_PENCE": 85_00, "ANNUAL_PLAN_PENCE": 120_00,
     "FORECAST_PENCE": None},
]  # fmt: skip


def test_budget_against_actual_keeps_exact_money_for_the_tooltip():
    spec = charts.budget_against_actual(PODS).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {r["AMOUNT"] for r in rows} == {"£500.00", "£520.00", "£700.00", "£730.00", "£90.00", "£85.00", "£120.00"}
    assert spec["spec"]["encoding"]["color"]["scale"]["range"] == [charts.LIGHT, charts.DARK]  # pale against dark
    assert charts.to_svg(charts.budget_against_actual(PODS)).startswith("<svg")


def test_spc_chart_marks_each_point_with_its_variation_in_colour_and_shape():
    values = [10, 11, 10, 12, 11, 10, 11, 30, 11, 10]
    months = [dt.date(2007, 4, 1) + dt.timedelta(days=31 * i) for i in range(len(values))]
    months = [m.replace(day=1) for m in months]
    result = xmr(values, improvement="decrease")
    chart = charts.spc_chart(months, values, result, title="Emergency admissions", unit="per 1,000")
    spec = chart.to_dict()
    points = [r for d in spec["datasets"].values() for r in d if "VARIATION" in r]
    assert [p["VARIATION"] for p in points].count("Special cause: concern") == 1
    shapes = spec["layer"][2]["encoding"]["shape"]["scale"]["range"]
    assert len(set(shapes)) == 4  # a shape per variation class, for a black-and-white printer
    assert "<svg" in charts.to_svg(chart)


def test_population_pyramid_leaves_a_suppressed_band_empty():
    rows = [
        {"AGE_BAND": "0_4", "MALE_PERCENT": 3.0, "FEMALE_PERCENT": None, "COMMISSIONER_MALE_PERCENT": 3.1,
         "COMMISSIONER_FEMALE_PERCENT": 2.9},
        {"AGE_BAND": "95+", "MALE_PERCENT": 0.1, "FEMALE_PERCENT": 0.3, "COMMISSIONER_MALE_PERCENT": 0.1,
         "COMMISSIONER_FEMALE_PERCENT": 0.2},
    ]  # fmt: skip
    chart = charts.population_pyramid(rows)
    data = [r for d in chart.to_dict()["datasets"].values() for r in d]
    assert any(r["SEX"] == "Women" and r["BAND"] == "0-4" and r["SHARE"] is None for r in data)
    assert charts.to_svg(chart).startswith("<svg")


def test_funnel_plot_highlights_the_cluster_s_practices():
    points = [
        {"UNIT": "A", "UNIT_NAME": "Practice A", "VALUE": 95.0, "FUNNEL_X": 100.0},
        {"UNIT": "B", "UNIT_NAME": "Practice B", "VALUE": 130.0, "FUNNEL_X": 400.0},
        {"UNIT": "C", "UNIT_NAME": "Practice C", "VALUE": None, "FUNNEL_X": 50.0},  # suppressed: not drawn
    ]
    curve = [
        {"X": x, "BASELINE": 100.0, "LOWER_95": 100 - 200 / x**0.5, "UPPER_95": 100 + 200 / x**0.5,
         "LOWER_998": 100 - 300 / x**0.5, "UPPER_998": 100 + 300 / x**0.5}
        for x in (50.0, 100.0, 200.0, 400.0)
    ]  # fmt: skip
    chart = charts.funnel_plot(points, curve, highlight={"B"}, unit="ratio")
    data = [r for d in chart.to_dict()["datasets"].values() for r in d if "GROUP" in r]
    assert {(r["UNIT"], r["GROUP"]) for r in data} == {("A", "Other practices"), ("B", "This cluster")}
    assert charts.to_svg(chart).startswith("<svg")


@pytest.mark.parametrize("measure", ["COST_PER_HEAD_PENCE", "ACTIVITY_PER_1000"])
def test_history_and_prevalence_charts_render(measure):
    history = [
        {"FINANCIAL_YEAR": y, "POD": p, measure: 100.0, f"COMMISSIONER_{measure}": 110.0}
        for y in ("2006/07", "2007/08")
        for p in ("OP_FIRST", "APC_NE")
    ]
    assert charts.to_svg(charts.activity_history_chart(history, measure=measure)).startswith("<svg")
    prevalence = [
        {"CONDITION": "ASTHMA", "LABEL": "Asthma", "PREVALENCE": 6.1, "LOWER_95": 5.9, "UPPER_95": 6.3,
         "EXPECTED_PREVALENCE": 6.0},
    ]  # fmt: skip
    assert charts.to_svg(charts.prevalence_chart(prevalence)).startswith("<svg")


def test_a_figure_carries_both_forms_and_prints_in_the_background(tmp_path):
    """One chart definition for the web (the spec) and for print (SVG); PDFs can be printed in a worker process."""
    fig = figure(charts.budget_against_actual(PODS), "Budget", "bars of budget and actual")
    assert fig.spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert fig.data_uri.startswith("data:image/svg+xml;base64,")
    assert "</" not in str(fig.spec_json)  # safe inside a script element
    html = f'<html><body><h1>Budget</h1><img src="{fig.data_uri}" alt="{fig.alt}"></body></html>'
    with Printer(background=True, workers=1) as printer:
        future = printer.submit(html, tmp_path / "chart.pdf")
    assert future.result() == tmp_path / "chart.pdf"
    assert (tmp_path / "chart.pdf").read_bytes().startswith(b"%PDF")
