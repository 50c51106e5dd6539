"""Realism report: read a `pbc synth` output folder back and compare the rates it achieves with their targets.

The generator is judged on what it wrote, not on what it meant to write, so this module reads only the files of
the output folder (docs/synthetic-data.md) and never imports the generator. It counts activity the way a
commissioner would: a provider's resubmitted month replaces its first submission, the injected duplicates listed
in `truth/faults.csv` are not activity, and every other row counts, faulty or not, because the other faults
(wrong prices, unknown practices) are still real activity in the commissioner's population.

Rates are per 1,000 person-years: a year's denominator is the mean of its four quarterly list extracts, so a list
that grows during the year is neither over- nor under-counted. Codes are read as text throughout, so a generator
that drops leading zeros (`01` written as `1`) shows up here as a rate that misses its target.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["BANDS", "realism_report", "report_rows"]

BANDS: tuple[tuple[str, int], ...] = (("0-4", 0), ("5-14", 5), ("15-44", 15), ("45-64", 45), ("65-74", 65), ("75+", 75))
DUPLICATE_FAULTS = frozenset({"duplicate_spell", "duplicate_attendance", "ae_duplicate"})
_ELECTIVE = ("11", "12", "13")
_EMERGENCY = ("21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D")
_WINTER, _SUMMER = (12, 1, 2), (6, 7, 8)
_EXTRACT_NAME = re.compile(r"(?P<dataset>[a-z]+)_(?P<code>[A-Za-z0-9]+)_(?P<month>\d{4}-\d{2})(?:_r(?P<rev>\d+))?\.csv")
_LIST_NAME = re.compile(r"list_sizes_(\d{4}-\d{2}-\d{2})\.csv")
_YEAR = re.compile(r"(\d{4})/(\d{2})")
_CSV = "all_varchar=true, header=true, delim=',', quote='\"', escape='\"', union_by_name=true"


def _sql_in(codes: tuple[str, ...]) -> str:
    return ", ".join(f"'{c}'" for c in codes)


def _hes_age(column: str) -> str:
    """Age in whole years from a HES age field; HES codes ages under one year as 7001-7007, so they are 0."""
    age = f"try_cast(trim({column}) AS INTEGER)"
    return f"CASE WHEN {age} BETWEEN 7001 AND 7007 THEN 0 ELSE {age} END"


# Referrals carry DOB only: age in whole years on the referral date.
_REFERRAL_AGE = (
    "year(_d) - year(_dob) - CASE WHEN month(_d) * 100 + day(_d) < month(_dob) * 100 + day(_dob) THEN 1 ELSE 0 END"
)


@dataclass(frozen=True)
class _Dataset:
    """How to read one extract: its record key, activity date, age (SQL) and the fields the metrics need."""

    key: str
    date: str
    age: str
    extras: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]


_DATASETS: dict[str, _Dataset] = {
    "apc": _Dataset(
        "PROVSPNO",
        "ADMIDATE",
        _hes_age("STARTAGE"),
        (
            (
                "meth",
                f"CASE WHEN trim(ADMIMETH) IN ({_sql_in(_ELECTIVE)}) THEN 'el' "
                f"WHEN trim(ADMIMETH) IN ({_sql_in(_EMERGENCY)}) THEN 'em' ELSE 'other' END",
            ),
            ("daycase", "coalesce(trim(CLASSPAT) = '2', false)"),
        ),
        ("STARTAGE", "ADMIMETH", "CLASSPAT"),
    ),
    "op": _Dataset(
        "ATTENDKEY",
        "APPTDATE",
        _hes_age("APPTAGE"),
        (("firstatt", "trim(FIRSTATT)"), ("attended", "trim(ATTENDED)")),
        ("APPTAGE", "FIRSTATT", "ATTENDED"),
    ),
    "ae": _Dataset(
        "AEKEY",
        "ARRIVALDATE",
        _hes_age("ARRIVALAGE"),
        (("admitted", "coalesce(trim(AEATTENDDISP) = '01', false)"),),
        ("ARRIVALAGE", "AEATTENDDISP"),
    ),
    "referrals": _Dataset(
        "REFERRAL_ID", "REFERRAL_DATE", _REFERRAL_AGE, (("practice", "trim(GPPRAC)"),), ("DOB", "GPPRAC")
    ),
}

# Metric -> counter behind it. Rates are per 1,000 person-years; ratios are one count over another.
_RATES = {
    "gp_referrals_per_1000": "referrals",
    "op_first_attendances_per_1000": "op_first",
    "elective_admissions_per_1000": "elective",
    "emergency_admissions_per_1000": "emergency",
    "ae_attendances_per_1000": "ae",
}
_RATIOS = {
    "op_followup_ratio": ("op_followup", "op_first"),
    "op_dna_rate": ("op_dna", "op_rows"),
    "elective_day_case_share": ("elective_daycase", "elective"),
    "ae_admitted_share": ("ae_admitted", "ae"),
}
_YEARLY = ("emergency_winter_ratio", "practice_referral_p90_to_median", "list_turnover")


def _band_sql(age: str) -> str:
    whens = " ".join(f"WHEN {age} >= {lo} THEN '{label}'" for label, lo in reversed(BANDS))
    return f"CASE WHEN {age} IS NULL OR {age} < 0 THEN NULL {whens} END"


def _band_of(lower: int) -> str:
    return next(label for label, lo in reversed(BANDS) if lower >= lo)


def _fy_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def _fy_start(label: str, source: Path) -> int:
    m = _YEAR.fullmatch(label)
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise ValueError(f"{source}: financial year {label!r} is not of the form 2005/06")
    return int(m[1])


def _load_targets() -> list[dict[str, Any]]:
    """The targets, in file order; a metric or band this module cannot compute is an error, not a silent skip."""
    path = resources.files("pbc.synth") / "data" / "targets.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            metric, band = rec["metric"].strip(), rec["band"].strip() or None
            if metric not in _RATES and metric not in _RATIOS and metric not in _YEARLY:
                raise ValueError(f"{path}: unknown metric {metric!r}")
            if band is not None and (metric in _YEARLY or band not in dict(BANDS)):
                raise ValueError(f"{path}: metric {metric!r} cannot be reported for band {band!r}")
            rows.append(
                {"metric": metric, "band": band, "target": float(rec["target"]), "tol": float(rec["tolerance"])}
            )
    return rows


def _extract_files(folder: Path) -> tuple[dict[str, list[Path]], dict[str, int], set[int]]:
    """The files that count per dataset (resubmissions replacing originals), resubmission counts, and the years."""
    chosen: dict[str, dict[tuple[str, str], tuple[int, Path]]] = {ds: {} for ds in _DATASETS}
    years: set[int] = set()
    for ds in _DATASETS:
        for path in sorted((folder / "extracts" / ds).glob("*.csv")):
            m = _EXTRACT_NAME.fullmatch(path.name)
            if m and m["dataset"] == ds and not m["rev"]:
                chosen[ds][(m["code"], m["month"])] = (1, path)
                years.add(int(m["month"][:4]) - (int(m["month"][5:]) < 4))
            else:  # not a month file: it still counts, but cannot be replaced or date the output
                chosen[ds][(path.name, "")] = (1, path)
    resubmitted: Counter[str] = Counter()
    for path in sorted((folder / "extracts" / "resubmissions").glob("*.csv")):
        m = _EXTRACT_NAME.fullmatch(path.name)
        if not m or not m["rev"] or m["dataset"] not in _DATASETS:
            raise ValueError(f"{path}: not a resubmission name (<dataset>_<PROCODE>_<YYYY-MM>_r2.csv)")
        slot = (m["code"], m["month"])
        if int(m["rev"]) > chosen[m["dataset"]].get(slot, (0, path))[0]:
            chosen[m["dataset"]][slot] = (int(m["rev"]), path)
        resubmitted[m["dataset"]] += 1
    files = {ds: [p for _, p in sorted(slots.values(), key=lambda rp: str(rp[1]))] for ds, slots in chosen.items()}
    return files, dict(resubmitted), years


def _duplicates(folder: Path) -> pa.Table:
    """The injected duplicates as (dataset, procode, record_key); they are repeats, so they are not activity."""
    path = folder / "truth" / "faults.csv"
    keys: set[tuple[str, str, str]] = set()
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as f:
            for rec in csv.DictReader(f):
                dataset, procode, key = ((rec.get(k) or "").strip() for k in ("dataset", "procode", "record_key"))
                if (rec.get("fault_type") or "").strip() in DUPLICATE_FAULTS:
                    keys.add((dataset.lower(), procode, key))
    cols = list(zip(*sorted(keys), strict=True)) if keys else [[], [], []]
    return pa.table(
        {n: pa.array(c, pa.string()) for n, c in zip(("dataset", "procode", "record_key"), cols, strict=True)}
    )


def _count(con: duckdb.DuckDBPyConnection, ds: str, files: list[Path], path: Path) -> list[tuple[Any, ...]]:
    """One scan of a dataset, grouped down to the few keys the metrics need: (fy, month, band, extras..., dup, n)."""
    spec = _DATASETS[ds]
    names = [str(p) for p in files]
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv(?, {_CSV})", [names]).fetchall()}
    missing = sorted({"PROCODE", spec.key, spec.date, *spec.columns} - have)
    if missing:
        raise ValueError(f"{path}: extract files lack the column(s) {', '.join(missing)}")
    dob = ", try_strptime(trim(src.DOB), '%Y-%m-%d') AS _dob" if ds == "referrals" else ""
    extras = ", ".join(f"{expr} AS {name}" for name, expr in spec.extras)
    sql = f"""
        WITH src AS (SELECT * FROM read_csv(?, {_CSV})),
        dated AS (
            SELECT src.*, try_strptime(trim(src."{spec.date}"), '%Y-%m-%d') AS _d{dob},
                   dups.record_key IS NOT NULL AS _dup
            FROM src LEFT JOIN dups ON dups.dataset = '{ds}' AND dups.procode = trim(src.PROCODE)
                 AND dups.record_key = trim(src."{spec.key}")
        ),
        aged AS (SELECT *, {spec.age} AS _age FROM dated)
        SELECT year(_d) - CASE WHEN month(_d) < 4 THEN 1 ELSE 0 END AS fy, month(_d) AS mon,
               {_band_sql("_age")} AS band, {extras}, _dup, count(*) AS n
        FROM aged GROUP BY ALL
    """
    return con.execute(sql, [names]).fetchall()


def _population(
    con: duckdb.DuckDBPyConnection, folder: Path, years: list[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, float]]]:
    """Mean quarterly list per year (total, by band) and per practice: the person-years behind every rate."""
    lists = folder / "reference" / "lists"
    dated = {dt.date.fromisoformat(m[1]): p for p in lists.glob("*.csv") if (m := _LIST_NAME.fullmatch(p.name))}
    pop: dict[int, dict[str, Any]] = {}
    practices: dict[int, dict[str, float]] = {}
    for fy in years:
        wanted = [dt.date(fy, 4, 1), dt.date(fy, 7, 1), dt.date(fy, 10, 1), dt.date(fy + 1, 1, 1)]
        files = [str(dated[d]) for d in wanted if d in dated]
        if not files:
            names = ", ".join(f"list_sizes_{d}.csv" for d in wanted)
            raise ValueError(f"{lists}: no list files for {_fy_label(fy)} (expected {names})")
        src = f"""SELECT filename, trim(ORG_CODE) AS code, upper(trim(SEX)) AS sex, upper(trim(AGE_GROUP_5)) AS band,
                         try_cast(trim(NUMBER_OF_PATIENTS) AS BIGINT) AS n FROM read_csv(?, {_CSV}, filename=true)"""
        # A practice's total is its ALL/ALL row where the file has one, otherwise the sum of its detail rows.
        per_practice = con.execute(
            f"""SELECT code, sum(total) FROM (
                  SELECT filename, code, coalesce(max(n) FILTER (sex = 'ALL' AND band = 'ALL'),
                                                  sum(n) FILTER (sex <> 'ALL' AND band <> 'ALL'), 0) AS total
                  FROM ({src}) GROUP BY ALL
                ) GROUP BY code ORDER BY code""",
            [files],
        ).fetchall()
        by_lower = con.execute(
            f"""SELECT try_cast(regexp_extract(band, '^(\\d+)', 1) AS INTEGER) AS lower, sum(n)
                FROM ({src}) WHERE sex <> 'ALL' AND band <> 'ALL' GROUP BY ALL""",
            [files],
        ).fetchall()
        practices[fy] = {code: float(total) / len(files) for code, total in per_practice}
        bands = dict.fromkeys((label for label, _ in BANDS), 0.0)
        for lower, n in by_lower:
            if lower is not None:
                bands[_band_of(lower)] += float(n or 0) / len(files)
        pop[fy] = {
            "mean_list": sum(practices[fy].values()),
            "practices": len(practices[fy]),
            "list_extracts": [d.isoformat() for d in wanted if d in dated],
            "by_band": bands,
        }
    return pop, practices


def _counters(ds: str, extra: list[Any]) -> list[str]:
    """The counters one grouped row of a dataset adds to, from the extra fields `_count` selected for it."""
    if ds == "apc":
        meth, daycase = extra
        return {"el": ["elective", "elective_daycase"] if daycase else ["elective"], "em": ["emergency"]}.get(meth, [])
    if ds == "op":
        firstatt, attended = extra
        hits = ["op_rows"] + (["op_dna"] if attended == "3" else [])
        if attended in ("5", "6"):
            hits += {"1": ["op_first"], "2": ["op_followup"]}.get(firstatt, [])
        return hits
    if ds == "ae":
        return ["ae", "ae_admitted"] if extra[0] else ["ae"]
    return ["referrals"]


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return scale * num / den if den else None


def realism_report(folder: Path) -> dict[str, Any]:
    """Read a synth output folder and return each metric's achieved rate against its target, JSON-ready.

    Raises ValueError naming the path for a folder that is not a synth output, a year without list files, or
    extracts that lack a column the metrics need.
    """
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file() and not (folder / "extracts").is_dir():
        raise ValueError(f"{folder}: not a pbc synth output folder (no manifest.json and no extracts/)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    except json.JSONDecodeError as e:
        raise ValueError(f"{manifest_path}: not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise ValueError(f"{manifest_path}: expected a JSON object")

    files, resubmitted, file_years = _extract_files(folder)
    if listed := manifest.get("financial_years"):
        years = sorted({_fy_start(str(y), manifest_path) for y in ([listed] if isinstance(listed, str) else listed)})
    else:
        years = sorted(file_years)
    if not years:
        raise ValueError(f"{folder}: no financial years in manifest.json and no monthly extract files")
    # No progress bar: it would be written into the `--json` output of a long run.
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    population, practice_lists = _population(con, folder, years)

    counts: Counter[tuple[str, int, str | None]] = Counter()
    monthly: Counter[tuple[int, int]] = Counter()
    practice_refs: Counter[tuple[int, str]] = Counter()
    sources: dict[str, dict[str, int]] = {}
    con.register("dups", _duplicates(folder))
    for ds, ds_files in files.items():
        summary = sources[ds] = dict.fromkeys(("rows_read", "duplicates_excluded", "outside_years", "counted"), 0)
        summary |= {"files": len(ds_files), "resubmitted": resubmitted.get(ds, 0)}
        if not ds_files:
            continue
        for fy, mon, band, *extra, dup, n in _count(con, ds, ds_files, folder / "extracts" / ds):
            summary["rows_read"] += n
            if dup:
                summary["duplicates_excluded"] += n
                continue
            if fy not in population:
                summary["outside_years"] += n
                continue
            summary["counted"] += n
            hits = _counters(ds, extra)
            if "emergency" in hits:
                monthly[(fy, mon)] += n
            if ds == "referrals":
                practice_refs[(fy, extra[0])] += n
            for hit in hits:
                counts[(hit, fy, None)] += n
                if band is not None:
                    counts[(hit, fy, band)] += n

    def compute(metric: str, fy: int, band: str | None) -> tuple[float, float, float | None] | None:
        if metric in _RATES:
            den = population[fy]["by_band"][band] if band else population[fy]["mean_list"]
            num = counts[(_RATES[metric], fy, band)]
            return num, den, _ratio(num, den, 1000.0)
        if metric in _RATIOS:
            num, den = (counts[(key, fy, band)] for key in _RATIOS[metric])
            return num, den, _ratio(num, den)
        if metric == "emergency_winter_ratio":  # equal three-month spans, so the ratio of sums is that of means
            num, den = (sum(monthly[(fy, m)] for m in months) for months in (_WINTER, _SUMMER))
            return num, den, _ratio(num, den)
        if metric == "practice_referral_p90_to_median":
            lists = {code: size for code, size in practice_lists[fy].items() if size > 0}
            if not lists:
                return 0.0, 0.0, None
            rates = [1000.0 * practice_refs[(fy, code)] / size for code, size in lists.items()]
            p90, median = float(np.percentile(rates, 90)), float(np.median(rates))
            return p90, median, _ratio(p90, median)
        year = (manifest.get("population") or {}).get(_fy_label(fy))  # list_turnover
        if not isinstance(year, dict) or "registrations" not in year or "deregistrations" not in year:
            return None
        moves = (float(year["registrations"]) + float(year["deregistrations"])) / 2
        mean_list = float(year.get("mean_list") or population[fy]["mean_list"])
        return moves, mean_list, _ratio(moves, mean_list)

    targets = _load_targets()
    metrics = []
    for metric in dict.fromkeys(t["metric"] for t in targets):
        for fy in years:
            for t in (t for t in targets if t["metric"] == metric):
                got = compute(metric, fy, t["band"])
                if got is None:
                    continue
                num, den, achieved = got
                within = achieved is not None and abs(achieved - t["target"]) <= t["tol"] * t["target"]
                metrics.append(
                    {"metric": metric, "year": _fy_label(fy), "band": t["band"], "achieved": achieved}
                    | {"target": t["target"], "tolerance": t["tol"], "within": within}
                    | {"numerator": num, "denominator": den}
                )
    return {
        "folder": str(folder),
        "financial_years": [_fy_label(fy) for fy in years],
        "population": {_fy_label(fy): population[fy] for fy in years},
        "extracts": sources,
        "metrics": metrics,
        "all_within": bool(metrics) and all(m["within"] for m in metrics),
    }


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat rows for a text table: rates per 1,000 to one decimal, ratios and shares to three; band '' if none."""
    rows = []
    for m in report["metrics"]:
        places = 1 if abs(m["target"]) >= 10 else 3
        achieved = None if m["achieved"] is None else round(m["achieved"], places)
        rows.append(
            {"metric": m["metric"], "year": m["year"], "band": m["band"] or "", "achieved": achieved}
            | {"target": round(m["target"], places), "within": m["within"]}
        )
    return rows
