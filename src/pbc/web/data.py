"""The figures the pages show, read from the marts and runs the analytical core made, cached per snapshot.

Pages must answer in well under 200 ms, so nothing here costs or attributes lines: it reads the precomputed marts
(`pbc monitor run`), budget runs, contract plans and quality summaries, and sums them with exact integers. Each
read is cached against the snapshot it came from, so a new monthly run is seen at once and an unchanged one is
never read twice.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pbc.errors import NotLoadedError
from pbc.finance.marts import MARTS
from pbc.finance.runs import BUDGETS, runs
from pbc.finance.variance import divide_half_up, forecasts, variance_percent
from pbc.phasing import financial_months
from pbc.quality.run import QUALITY
from pbc.settings import Settings, load_settings
from pbc.warehouse import Warehouse

_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], Any] = {}
_SETTINGS: dict[tuple[tuple[str, str], ...], Settings] = {}


def settings() -> Settings:
    """The settings of pbc for the web process, read again only when a PBC_ variable changes (tests change them)."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("PBC_")))
    with _LOCK:
        found = _SETTINGS.get(key)
    if found is None:
        found = load_settings()
        with _LOCK:
            _SETTINGS.clear()
            _SETTINGS[key] = found
    return found


def warehouse() -> Warehouse:
    """The warehouse the web process reads."""
    return Warehouse(settings().warehouse_dir)


def _snapshot(namespace: str) -> str | None:
    current = warehouse().current(namespace)
    return current.name if current is not None else None


def cached(namespace: str, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    """`make()` once per snapshot of `namespace` (and key)."""
    full = (namespace, _snapshot(namespace), *key)
    with _LOCK:
        if full in _CACHE:
            return _CACHE[full]
    value = make()
    with _LOCK:
        if len(_CACHE) > 512:
            _CACHE.clear()
        _CACHE[full] = value
    return value


@dataclass(frozen=True)
class Tree:
    """The commissioner's practices and clusters as the latest budget run placed them, with names."""

    commissioner: str
    year: str
    run_id: str
    locality_of: dict[str, str]
    names: dict[str, str]

    def practices(self, locality: str | None = None) -> list[str]:
        """The practices (of one cluster)."""
        return sorted(p for p, loc in self.locality_of.items() if locality is None or loc == locality)

    def localities(self) -> list[str]:
        """The clusters."""
        return sorted(set(self.locality_of.values()))

    def name(self, code: str) -> str:
        """An organisation's name, or its code."""
        return self.names.get(code, code)


def tree() -> Tree:
    """The latest budget run's practices and clusters (the web app shows the year that has a budget)."""

    def make() -> Tree:
        held = runs(warehouse())
        if not held:
            raise NotLoadedError("no budget has been set: run `pbc budget set` and `pbc monitor run` (or `make demo`)")
        run = held[-1]
        wh = warehouse()
        rows = wh.read(BUDGETS, "practice_budgets")
        rows = rows.filter(pc.equal(rows["RUN_ID"], run["RUN_ID"])).select(["PRACTICE", "LOCALITY"]).to_pylist()
        organisations = wh.read("reference", "organisations").select(["code", "name"]).to_pylist()
        names = {o["code"]: o["name"] for o in organisations}
        for loc in wh.read("reference", "localities").to_pylist():
            names[loc["code"]] = f"{loc['cluster']} cluster"
        return Tree(
            commissioner=run["COMMISSIONER"],
            year=run["FINANCIAL_YEAR"],
            run_id=run["RUN_ID"],
            locality_of={r["PRACTICE"]: r["LOCALITY"] or "" for r in rows},
            names=names,
        )

    return cached(BUDGETS, ("tree",), make)


def _mart(table: str, year: str) -> pa.Table:
    def make() -> pa.Table:
        wh = warehouse()
        if not wh.has(MARTS):
            raise NotLoadedError(f"no monitoring has been run: run `pbc monitor run --year {year}`")
        rows = wh.read(MARTS, table)
        return rows.filter(pc.equal(rows["FINANCIAL_YEAR"], year))

    return cached(MARTS, ("mart", table, year), make)


def as_at(year: str) -> dt.date:
    """The month the pages report: PBC_WEB_AS_AT (YYYY-MM) if set, else the latest month with activity."""
    chosen = os.environ.get("PBC_WEB_AS_AT")
    months = financial_months(year)
    if chosen:
        day = dt.datetime.strptime(chosen, "%Y-%m").date()
        if day in months:
            return day
    rows = _mart("budget_monitoring", year)
    held = pc.unique(rows.filter(pc.not_equal(rows["ACTUAL_PENCE"], 0))["MONTH"]).to_pylist()
    return max(held) if held else months[0]


def monitoring(year: str, by: Sequence[str], keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Budget against actual summed by `by` for the rows `keep` allows: month, year to date, forecasts."""
    month = as_at(year)

    def make() -> dict[tuple[Any, ...], dict[str, int]]:
        rows = _mart("budget_monitoring", year).to_pylist()
        months = financial_months(year)
        elapsed = months.index(month) + 1
        sums: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for r in rows:
            index = months.index(r["MONTH"]) + 1
            key = tuple(r[k] for k in ("COMMISSIONER", "LOCALITY", "PRACTICE", "POD"))
            s = sums[key]
            s["annual"] += r["PLAN_PENCE"]
            s["previous_year"] += r["PREVIOUS_ACTUAL_PENCE"]
            if index <= elapsed:
                s["ytd_budget"] += r["PLAN_PENCE"]
                s["ytd_actual"] += r["ACTUAL_PENCE"]
                s["ytd_activity"] += r["ACTUAL_ACTIVITY"]
                s["previous_ytd"] += r["PREVIOUS_ACTUAL_PENCE"]
            if index == elapsed:
                s["month_budget"] += r["PLAN_PENCE"]
                s["month_actual"] += r["ACTUAL_PENCE"]
        return dict(sums)

    base = cached(MARTS, ("monitoring", year, month), make)
    names = ("COMMISSIONER", "LOCALITY", "PRACTICE", "POD")
    grouped: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, s in base.items():
        row = dict(zip(names, key, strict=True))
        if not keep(row):
            continue
        g = grouped[tuple(row[k] for k in by)]
        for measure, value in s.items():
            g[measure] += value
    elapsed = financial_months(year).index(month) + 1
    out = []
    for key, g in sorted(grouped.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        run_rate, profiled = forecasts(g["ytd_actual"], g["ytd_budget"], g["annual"], elapsed)
        seasonal = (
            divide_half_up(g["ytd_actual"] * g["previous_year"], g["previous_ytd"])
            if g["previous_ytd"] > 0
            else run_rate
        )
        out.append(
            {
                **dict(zip(by, key, strict=True)),
                **g,
                "ytd_variance": g["ytd_actual"] - g["ytd_budget"],
                "ytd_variance_percent": variance_percent(g["ytd_actual"], g["ytd_budget"]),
                "forecast_run_rate": run_rate,
                "forecast_profiled": profiled,
                "forecast_seasonal": seasonal,
                "forecast_variance": seasonal - g["annual"],
            }
        )
    return out


def spend(year: str, by: Sequence[str], keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Year-to-date actual activity and money summed by `by` (specialty, provider, POD) for the allowed rows."""
    month = as_at(year)
    grain = tuple(dict.fromkeys(("PRACTICE", "LOCALITY", *by)))

    def make() -> list[tuple[dict[str, Any], list[int]]]:
        rows = _mart("spend", year)
        rows = rows.filter(pc.less_equal(rows["MONTH"], pa.scalar(month, pa.date32())))
        summed = rows.group_by(list(grain)).aggregate([("ACTIVITY", "sum"), ("PENCE", "sum")]).to_pylist()
        return [({k: r[k] for k in grain}, [r["ACTIVITY_sum"], r["PENCE_sum"]]) for r in summed]

    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row, (activity, pence) in cached(MARTS, ("spend_ytd", year, month, grain), make):
        if keep(row):
            t = totals[tuple(row[k] for k in by)]
            t[0] += activity
            t[1] += pence
    return sorted(
        ({**dict(zip(by, k, strict=True)), "activity": v[0], "pence": v[1]} for k, v in totals.items()),
        key=lambda r: -r["pence"],
    )


def trends(year: str, level: str, code: str, indicator: str) -> list[dict[str, Any]]:
    """One organisation's monthly series of a trend indicator (breakdowns summed)."""

    def make() -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        series: dict[tuple[str, str, str], dict[dt.date, list[float]]] = defaultdict(dict)
        for r in _mart("trends", year).to_pylist():
            s = series[(r["LEVEL"], r["CODE"], r["INDICATOR"])]
            point = s.setdefault(r["MONTH"], [0, r["DENOMINATOR"] or 0.0])
            point[0] += r["NUMERATOR"]
        return {
            k: [{"month": m, "count": v[0], "denominator": v[1]} for m, v in sorted(points.items())]
            for k, points in series.items()
        }

    return cached(MARTS, ("trends", year), make).get((level, code, indicator), [])


def quality(practices: Sequence[str]) -> list[dict[str, Any]]:
    """Lines attributed and flagged by the quality rules, per practice (all months)."""

    def make() -> dict[str, list[int]]:
        wh = warehouse()
        if not wh.has(QUALITY):
            return {}
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in wh.read(QUALITY, "practice_months").to_pylist():
            out[r["PRACTICE"]][0] += r["LINES"]
            out[r["PRACTICE"]][1] += r["FLAGGED"]
        return dict(out)

    summary = cached(QUALITY, ("by_practice",), make)
    return [
        {"practice": p, "lines": summary.get(p, [0, 0])[0], "flagged": summary.get(p, [0, 0])[1]} for p in practices
    ]


def budget_run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The latest budget run's record and its practice rows."""

    def make() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        run = runs(warehouse())[-1]
        rows = warehouse().read(BUDGETS, "practice_budgets")
        return run, rows.filter(pc.equal(rows["RUN_ID"], run["RUN_ID"])).to_pylist()

    return cached(BUDGETS, ("run",), make)


def sum_by(rows: Sequence[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """Budget rows summed by keys (money and list size over PODs, list size counted once per practice)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = tuple(r[k] for k in keys)
        o = out.setdefault(key, {**dict(zip(keys, key, strict=True)), "LIST_SIZE": 0, "_seen": set()})
        for m in ("BASELINE_PENCE", "HISTORIC_SHARE_PENCE", "FAIR_SHARE_PENCE", "BUDGET_PENCE"):
            o[m] = o.get(m, 0) + (r[m] or 0)
        if r["PRACTICE"] not in o["_seen"]:
            o["_seen"].add(r["PRACTICE"])
            o["LIST_SIZE"] += r["LIST_SIZE"]
    return [{k: v for k, v in o.items() if k != "_seen"} for _, o in sorted(out.items(), key=lambda kv: str(kv[0]))]


def incentive_payments(scheme_id: str, commissioner: str) -> list[dict[str, Any]]:
    """A shipped scheme's payments summed per payee and component, made once per monthly run."""
    from pbc.engines import connect
    from pbc.incentives.facts import gather_facts
    from pbc.incentives.payments import payments
    from pbc.incentives.scheme import find_scheme, read_incentive_scheme

    def make() -> list[dict[str, Any]]:
        scheme, _ = read_incentive_scheme(find_scheme(scheme_id))
        practices, localities = gather_facts(connect(settings()), warehouse(), settings(), scheme, commissioner)
        totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for p in payments(scheme, practices, localities, commissioner):
            t = totals[(p.payee_kind, p.payee, p.component)]
            t[0] += 1
            t[1] += p.pence
            t[2] += p.withheld_pence
        return [
            {"payee_kind": k[0], "payee": k[1], "component": k[2], "lines": v[0], "pence": v[1], "withheld": v[2]}
            for k, v in sorted(totals.items())
        ]

    return cached(MARTS, ("incentives", scheme_id, commissioner), make)


def benchmark(year: str, indicator: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One indicator's practice benchmark rows and funnel curve for the year (empty before `pbc monitor run`)."""

    def make() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        try:
            rows = _mart("benchmarks", year)
            curve = _mart("funnels", year)
        except (NotLoadedError, KeyError):
            return [], []
        if rows.num_rows == 0:
            return [], []
        rows = rows.filter(pc.and_(pc.equal(rows["INDICATOR"], indicator), pc.is_null(rows["BREAKDOWN"])))
        curve = curve.filter(pc.and_(pc.equal(curve["INDICATOR"], indicator), pc.is_null(curve["BREAKDOWN"])))
        return rows.to_pylist(), curve.to_pylist()

    return cached(MARTS, ("benchmark", year, indicator), make)


def referrals(year: str, practice: str) -> list[dict[str, Any]]:
    """A practice's GP referrals by specialty, year to date, with the rate per 1,000 weighted patients."""
    month = as_at(year)

    def make() -> dict[str, list[dict[str, Any]]]:
        rows = _mart("trends", year)
        rows = rows.filter(
            pc.and_(
                pc.and_(pc.equal(rows["LEVEL"], "practice"), pc.equal(rows["INDICATOR"], "referrals")),
                pc.less_equal(rows["MONTH"], pa.scalar(month, pa.date32())),
            )
        )
        out: dict[str, dict[str, list[float]]] = defaultdict(dict)
        for r in rows.to_pylist():
            entry = out[r["CODE"]].setdefault(r["BREAKDOWN"] or "(none)", [0, r["DENOMINATOR"] or 0.0])
            entry[0] += r["NUMERATOR"]
        return {
            code: sorted(
                (
                    {"specialty": k, "referrals": int(v[0]), "per_1000": round(v[0] * 1000 / v[1], 2) if v[1] else None}
                    for k, v in found.items()
                ),
                key=lambda r: -r["referrals"],
            )
            for code, found in out.items()
        }

    return cached(MARTS, ("referrals", year, month), make).get(practice, [])
