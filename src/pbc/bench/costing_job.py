"""Bench job: cost, attribute and aggregate one year of London-scale synthetic activity.

Every admitted-care, outpatient and A&E line of the London 2007/08 synthetic year (the ingest job's extracts, with
its reference files and tariff) is attributed to its practice, locality and commissioner on the activity date,
priced at PbR (POD, trim points and excess bed days, the short-stay emergency rule, outpatient first and follow-up
attendances, A&E minor departments, MFF, local prices) and summed by commissioner, locality, practice, provider,
POD, specialty and month. pbc does it with its own code (`pbc.costed`); the DuckDB version is the same job written
by hand as one SQL query over the same stored Parquet files, and the pandas version is the same job in merges and
numpy. All three materialise the summary and report its groups, lines, activity, pence and unpriced lines.

The data is ingested once into a home kept in the bench folder (untimed) and reused while pbc's version is the same.
As for every job, the libraries (pandas, duckdb, ibis and its DuckDB backend) are imported with this module, before
any variant's clock starts.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import ibis.backends.duckdb  # noqa: F401  (imported with the module, before the clock starts, like pandas and duckdb)
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pbc import __version__
from pbc.bench.common import quiet_duckdb
from pbc.bench.ingest_job import london_year
from pbc.costed import all_costed_lines, cost_summary
from pbc.engines import connect
from pbc.ingest.load import Ingest
from pbc.ingest.reference_files import REGISTRATIONS, TARIFF
from pbc.ingest.store import ActivityStore
from pbc.keys import ensure_keys
from pbc.reference.load import LOCALITIES, REFERENCE, load_reference
from pbc.settings import Settings
from pbc.tariff.model import TABLES, has_tariff
from pbc.warehouse import Warehouse

DATASETS = ("apc", "op", "ae")
BY = ["COMMISSIONER", "LOCALITY", "PRACTICE", "PROCODE", "POD", "SPECIALTY", "MONTH"]
READY = "bench-ready.json"  # written last: a home without it (or of another pbc version) is made again


def make_home(folder: Path, home: Path) -> None:
    """A home with keys, the shipped reference data and the whole synthetic folder ingested (tariff included)."""
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    ensure_keys(settings)
    warehouse = Warehouse(settings.warehouse_dir)
    load_reference(warehouse)
    Ingest(settings, warehouse, "on-time").run([folder])
    if not has_tariff(warehouse):
        raise RuntimeError(f"the synthetic data in {folder} brought no tariff: costing needs one")
    (home / READY).write_text(json.dumps({"pbc_version": __version__, "folder": str(folder)}) + "\n")


def inputs_for(home: Path) -> dict[str, Any]:
    """What the variants need: the home and where its Parquet files are (found untimed, before the clock starts)."""
    warehouse = Warehouse(home / "warehouse")
    store = ActivityStore(warehouse)
    files = {d: [str(p) for p in store.files("rows", d)] for d in DATASETS}
    missing = [d for d, found in files.items() if not found]
    if missing:
        raise RuntimeError(f"no {', '.join(missing)} activity in {home}")
    return {
        "home": str(home),
        "rows": sum(pq.ParquetFile(f).metadata.num_rows for found in files.values() for f in found),
        "files": files,
        "memberships": str(warehouse.path(REFERENCE, "memberships")),
        "locality_memberships": (
            str(warehouse.path(LOCALITIES, "locality_memberships")) if warehouse.has(LOCALITIES) else None
        ),
        "registrations": (
            str(warehouse.path(REGISTRATIONS, "registrations")) if warehouse.has(REGISTRATIONS) else None
        ),
        "tariff": {name: str(warehouse.path(TARIFF, name)) for name in TABLES},
    }


def prepare(workdir: Path) -> dict[str, Any]:
    """The London year (shared with the ingest job), ingested once into a home kept in the bench folder (untimed)."""
    folder = london_year(workdir)
    home = workdir / f"costing-home-{folder.name}"
    ready = home / READY
    made = json.loads(ready.read_text()) if ready.exists() else {}
    if made != {"pbc_version": __version__, "folder": str(folder)}:
        make_home(folder, home)
    return inputs_for(home)


def answer(summary: pa.Table) -> str:
    """The answer every variant gives: the size and the totals of the summary."""

    def total(column: str) -> int:
        return int(pc.sum(summary[column]).as_py() or 0)

    return (
        f"{summary.num_rows} groups, {total('LINES')} lines, {total('ACTIVITY')} activity, "
        f"{total('PENCE')} pence, {total('UNPRICED')} unpriced"
    )


# --- pbc --------------------------------------------------------------------------------------------------------


def run_pbc(inputs: dict[str, Any]) -> str:
    """The costed lines and cost summary of `pbc.costed`, on the DuckDB engine."""
    return answer(summary_pbc(inputs))


def summary_pbc(inputs: dict[str, Any]) -> pa.Table:
    """The summary by `pbc.costed`, materialised."""
    settings = Settings(home=Path(inputs["home"]), engine="duckdb")
    con = connect(settings)
    con.raw_sql("SET enable_progress_bar = false")  # as quiet_duckdb: a progress bar would end up in the report
    warehouse = Warehouse(settings.warehouse_dir)
    return cost_summary(all_costed_lines(con, warehouse), BY).to_pyarrow()


# --- DuckDB SQL -------------------------------------------------------------------------------------------------


def _fy(date: str) -> str:
    """SQL: the financial year of a date, like '2007/08'."""
    start = f"(year({date}) - CASE WHEN month({date}) < 4 THEN 1 ELSE 0 END)"
    return f"CAST({start} AS VARCHAR) || '/' || lpad(CAST(({start} + 1) % 100 AS VARCHAR), 2, '0')"


def _times_mff(pence: str, mff: str) -> str:
    """SQL: pence times the MFF (ten-thousandths), rounded half up to the penny in integers."""
    scaled = f"({pence} * {mff} + 5000)"
    return f"(({scaled} - {scaled} % 10000) // 10000)"


def _attributed(dataset: str, activity_date: str, columns: str) -> str:
    """SQL: a data set's lines with PRACTICE, LOCALITY and COMMISSIONER on the activity date."""
    covers = "({s}.f IS NULL OR {s}.f <= l.{d}) AND ({s}.t IS NULL OR {s}.t >= l.{d})"
    return f"""
        SELECT {columns}, l.GPPRAC AS PRACTICE, loc.locality AS LOCALITY,
               coalesce(lp.commissioner, h.commissioner, d.commissioner) AS COMMISSIONER
        FROM read_parquet(${dataset}) l
        LEFT JOIN to_locality loc ON l.GPPRAC = loc.practice AND {covers.format(s="loc", d=activity_date)}
        LEFT JOIN locality_parent lp ON loc.locality = lp.locality
        LEFT JOIN direct d ON l.GPPRAC = d.practice AND {covers.format(s="d", d=activity_date)}
        LEFT JOIN holders h ON l.GPPRAC = h.practice"""


def costing_sql(has_localities: bool, has_registrations: bool) -> str:
    """The whole job as one DuckDB query: attribute, price, stack and sum (parameters name the Parquet files)."""
    localities = (
        """UNION ALL
        SELECT practice_code, 'practice', locality_code, 'locality', effective_from, effective_to
        FROM read_parquet($locality_memberships)"""
        if has_localities
        else ""
    )
    holders = (
        "SELECT PRACTICE_CODE AS practice, max(COMMISSIONER_CODE) AS commissioner "
        "FROM read_parquet($registrations) GROUP BY PRACTICE_CODE"
        if has_registrations
        else "SELECT NULL::VARCHAR AS practice, NULL::VARCHAR AS commissioner WHERE false"
    )
    apc_lines = _attributed(
        "apc", "ADMIDATE", "l.PROCODE, l.ADMIDATE, l.DISDATE, l.ADMIMETH, l.SUSHRG, l.STARTAGE, l.TRETSPEF"
    )
    op_lines = _attributed("op", "APPTDATE", "l.PROCODE, l.APPTDATE, l.FIRSTATT, l.ATTENDED, l.TRETSPEF")
    ae_lines = _attributed("ae", "ARRIVALDATE", "l.PROCODE, l.ARRIVALDATE, l.AEDEPTTYPE, l.SUSHRG")
    net_apc = (
        "coalesce(nat, local_pence, 0)"
        " + CASE WHEN nat IS NOT NULL AND trim_days IS NOT NULL AND NOT is_sse"
        " THEN coalesce(greatest(los - trim_days, 0), 0) ELSE 0 END * coalesce(per_day_pence, 0)"
        " - CASE WHEN is_sse THEN nonelective_pence - sse_pence ELSE 0 END"
    )
    return f"""
    WITH
    links AS (
        SELECT child_code, child_kind, parent_code, parent_kind, effective_from, effective_to
        FROM read_parquet($memberships)
        {localities}
    ),
    to_locality AS (
        SELECT child_code AS practice, parent_code AS locality, effective_from AS f, effective_to AS t
        FROM links WHERE parent_kind = 'locality'
    ),
    locality_parent AS (
        SELECT child_code AS locality, parent_code AS commissioner FROM links WHERE child_kind = 'locality'
    ),
    direct AS (
        SELECT child_code AS practice, parent_code AS commissioner, effective_from AS f, effective_to AS t
        FROM links WHERE child_kind = 'practice' AND parent_kind = 'commissioner'
    ),
    holders AS ({holders}),
    rules AS (
        SELECT financial_year AS fy,
               max(CASE WHEN trim(rule) = 'short_stay_emergency' THEN lower(trim(value)) END) = 'yes' AS sse,
               CAST(max(CASE WHEN trim(rule) = 'short_stay_max_days' THEN trim(value) END) AS BIGINT) AS sse_max_days,
               CAST(max(CASE WHEN trim(rule) = 'short_stay_min_age' THEN trim(value) END) AS BIGINT) AS sse_min_age
        FROM read_parquet($rules) GROUP BY financial_year
    ),
    minor AS (
        SELECT fy, dept_type FROM (
            SELECT financial_year AS fy, trim(unnest(string_split(value, ';'))) AS dept_type
            FROM read_parquet($rules) WHERE trim(rule) = 'ae_minor_department_types'
        ) WHERE dept_type <> ''
    ),
    mff AS (SELECT financial_year AS fy, provider_code, mff_e4 FROM read_parquet($mff)),
    local_prices AS (SELECT financial_year AS fy, provider_code, pod, currency, pence FROM read_parquet($local_prices)),
    ae_low AS (SELECT financial_year AS fy, min(pence) AS low FROM read_parquet($ae_tariff) GROUP BY financial_year),

    apc AS (
        SELECT *, {_fy("DISDATE")} AS fy,
               CASE WHEN ADMIMETH IN ('11', '12', '13') THEN 'APC_EL' ELSE 'APC_NE' END AS pod,
               date_diff('day', ADMIDATE, DISDATE) AS los
        FROM ({apc_lines})
    ),
    apc_joined AS (
        SELECT a.*, r.fy AS rules_fy, m.mff_e4, lp.pence AS local_pence,
               CASE WHEN a.pod = 'APC_EL' THEN t.elective_pence ELSE t.nonelective_pence END AS nat,
               CASE WHEN a.pod = 'APC_EL' THEN t.elective_trim_days ELSE t.nonelective_trim_days END AS trim_days,
               t.per_day_pence, t.nonelective_pence, t.sse_pence,
               coalesce(a.pod = 'APC_NE' AND t.nonelective_pence IS NOT NULL AND r.sse AND a.los <= r.sse_max_days
                        AND a.STARTAGE >= r.sse_min_age AND t.sse_applicable = 'Yes' AND t.sse_pence IS NOT NULL,
                        false) AS is_sse
        FROM apc a
        LEFT JOIN rules r ON a.fy = r.fy
        LEFT JOIN mff m ON a.fy = m.fy AND a.PROCODE = m.provider_code
        LEFT JOIN local_prices lp ON a.fy = lp.fy AND a.PROCODE = lp.provider_code AND a.pod = lp.pod
                                  AND a.SUSHRG = lp.currency
        LEFT JOIN read_parquet($apc_tariff) t ON a.fy = t.financial_year AND a.SUSHRG = t.hrg
    ),
    apc_costed AS (
        SELECT COMMISSIONER, LOCALITY, PRACTICE, PROCODE, pod AS POD, TRETSPEF AS SPECIALTY,
               date_trunc('month', DISDATE) AS MONTH, 1 AS COUNTED, priced AS PRICED,
               CASE WHEN priced THEN {_times_mff(f"({net_apc})", "mff_e4")} ELSE 0 END AS PRICE_PENCE
        FROM (
            SELECT *, coalesce(rules_fy IS NOT NULL AND los >= 0 AND (nat IS NOT NULL OR local_pence IS NOT NULL)
                               AND mff_e4 IS NOT NULL, false) AS priced
            FROM apc_joined
        )
    ),

    op AS (
        SELECT *, {_fy("APPTDATE")} AS fy,
               CASE WHEN FIRSTATT IN ('1', '3') THEN 'OP_FIRST' WHEN FIRSTATT IN ('2', '4') THEN 'OP_FU' END AS pod,
               coalesce(ATTENDED IN ('5', '6'), false) AS pay
        FROM ({op_lines})
    ),
    op_joined AS (
        SELECT o.*, r.fy AS rules_fy, m.mff_e4,
               coalesce(CASE o.pod WHEN 'OP_FIRST' THEN t.first_pence WHEN 'OP_FU' THEN t.followup_pence END,
                        lp.pence) AS found
        FROM op o
        LEFT JOIN rules r ON o.fy = r.fy
        LEFT JOIN mff m ON o.fy = m.fy AND o.PROCODE = m.provider_code
        LEFT JOIN local_prices lp ON o.fy = lp.fy AND o.PROCODE = lp.provider_code AND o.pod = lp.pod
                                  AND o.TRETSPEF = lp.currency
        LEFT JOIN read_parquet($op_tariff) t ON o.fy = t.financial_year AND o.TRETSPEF = t.tfc
    ),
    op_costed AS (
        SELECT COMMISSIONER, LOCALITY, PRACTICE, PROCODE, coalesce(pod, 'OP_UNKNOWN') AS POD, TRETSPEF AS SPECIALTY,
               date_trunc('month', APPTDATE) AS MONTH, CAST(pay AS BIGINT) AS COUNTED, priced AS PRICED,
               CASE WHEN pay AND priced THEN {_times_mff("found", "mff_e4")} ELSE 0 END AS PRICE_PENCE
        FROM (
            SELECT *, NOT pay OR (rules_fy IS NOT NULL AND found IS NOT NULL AND mff_e4 IS NOT NULL) AS priced
            FROM op_joined
        )
    ),

    ae AS (
        SELECT *, {_fy("ARRIVALDATE")} AS fy
        FROM ({ae_lines})
    ),
    ae_joined AS (
        SELECT e.*, r.fy AS rules_fy, m.mff_e4,
               CASE WHEN mi.fy IS NOT NULL THEN low.low ELSE coalesce(t.pence, lp.pence) END AS found
        FROM ae e
        LEFT JOIN rules r ON e.fy = r.fy
        LEFT JOIN mff m ON e.fy = m.fy AND e.PROCODE = m.provider_code
        LEFT JOIN local_prices lp ON e.fy = lp.fy AND e.PROCODE = lp.provider_code AND lp.pod = 'AE'
                                  AND e.SUSHRG = lp.currency
        LEFT JOIN read_parquet($ae_tariff) t ON e.fy = t.financial_year AND e.SUSHRG = t.hrg
        LEFT JOIN ae_low low ON e.fy = low.fy
        LEFT JOIN minor mi ON e.fy = mi.fy AND e.AEDEPTTYPE = mi.dept_type
    ),
    ae_costed AS (
        SELECT COMMISSIONER, LOCALITY, PRACTICE, PROCODE, 'AE' AS POD, '180' AS SPECIALTY,
               date_trunc('month', ARRIVALDATE) AS MONTH, 1 AS COUNTED, priced AS PRICED,
               CASE WHEN priced THEN {_times_mff("found", "mff_e4")} ELSE 0 END AS PRICE_PENCE
        FROM (
            SELECT *, rules_fy IS NOT NULL AND found IS NOT NULL AND mff_e4 IS NOT NULL AS priced FROM ae_joined
        )
    ),
    lines AS (
        SELECT * FROM apc_costed UNION ALL SELECT * FROM op_costed UNION ALL SELECT * FROM ae_costed
    )
    SELECT {", ".join(BY)},
           CAST(sum(COUNTED) AS BIGINT) AS ACTIVITY, count(*) AS LINES, CAST(sum(PRICE_PENCE) AS BIGINT) AS PENCE,
           CAST(sum(CAST(NOT PRICED AS BIGINT)) AS BIGINT) AS UNPRICED
    FROM lines
    GROUP BY {", ".join(BY)}
    """


def run_duckdb(inputs: dict[str, Any]) -> str:
    """The same job written by hand as one DuckDB query over the same Parquet files."""
    return answer(summary_duckdb(inputs))


def summary_duckdb(inputs: dict[str, Any]) -> pa.Table:
    """The summary by the hand-written query, materialised."""
    sql = costing_sql(inputs["locality_memberships"] is not None, inputs["registrations"] is not None)
    params: dict[str, Any] = {
        **inputs["files"],
        "memberships": inputs["memberships"],
        "rules": inputs["tariff"]["rules"],
        "mff": inputs["tariff"]["mff"],
        "local_prices": inputs["tariff"]["local_prices"],
        "apc_tariff": inputs["tariff"]["apc"],
        "op_tariff": inputs["tariff"]["op"],
        "ae_tariff": inputs["tariff"]["ae"],
    }
    for optional in ("locality_memberships", "registrations"):
        if inputs[optional] is not None:
            params[optional] = inputs[optional]
    with warnings.catch_warnings():  # the summary is small: DuckDB's note about an extra Arrow copy does not matter
        warnings.simplefilter("ignore", UserWarning)
        return quiet_duckdb().execute(sql, params).to_arrow_table()


# --- pandas -----------------------------------------------------------------------------------------------------


def _read(files: list[str], columns: list[str]) -> pd.DataFrame:
    """Parquet files as one frame, dates as datetime64."""
    frames = [pq.read_table(f, columns=columns).to_pandas(date_as_object=False) for f in files]
    return pd.concat(frames, ignore_index=True)


def _start_year(dates: pd.Series) -> pd.Series:
    """The first calendar year of the financial year of each date (NaN where there is no date)."""
    return dates.dt.year - (dates.dt.month < 4).astype("float64").where(dates.notna())


def _year_start(financial_year: pd.Series) -> pd.Series:
    """'2007/08' -> 2007.0, to join on the start year."""
    return financial_year.str.slice(0, 4).astype("float64")


def _covered(frame: pd.DataFrame, start: str, end: str, day: str) -> pd.Series:
    return (frame[start].isna() | (frame[start] <= frame[day])) & (frame[end].isna() | (frame[end] >= frame[day]))


def _dated_left_join(lines: pd.DataFrame, spans: pd.DataFrame, value: str, day: str) -> pd.DataFrame:
    """Left join lines to spans (practice, value, f, t) on the practice and the span covering the day."""
    lines = lines.assign(_ID=np.arange(len(lines)))  # a line matching two spans is two lines, as in SQL
    candidates = lines[["_ID", "PRACTICE", day]].merge(spans, on="PRACTICE")
    candidates = candidates[_covered(candidates, "f", "t", day)]
    return lines.merge(candidates[["_ID", value]], on="_ID", how="left").drop(columns="_ID")


def _times_mff_np(pence: pd.Series, mff: pd.Series) -> np.ndarray:
    scaled = pence.to_numpy("int64") * mff.to_numpy("int64") + 5000
    return (scaled - np.fmod(scaled, 10000)) // 10000


def _attribute_pandas(lines: pd.DataFrame, day: str, tree: dict[str, pd.DataFrame]) -> pd.DataFrame:
    lines = lines.rename(columns={"GPPRAC": "PRACTICE"})
    lines = _dated_left_join(lines, tree["to_locality"], "LOCALITY", day)
    lines = lines.merge(tree["locality_parent"], on="LOCALITY", how="left")
    lines = _dated_left_join(lines, tree["direct"], "ODS_COMMISSIONER", day)
    lines = lines.merge(tree["holders"], on="PRACTICE", how="left")
    commissioner = lines.LOCALITY_COMMISSIONER.fillna(lines.REGISTER_COMMISSIONER).fillna(lines.ODS_COMMISSIONER)
    return lines.assign(COMMISSIONER=commissioner)


def _tree_pandas(inputs: dict[str, Any]) -> dict[str, pd.DataFrame]:
    links = pd.read_parquet(inputs["memberships"])
    if inputs["locality_memberships"] is not None:
        lm = pd.read_parquet(inputs["locality_memberships"])
        links = pd.concat(
            [
                links,
                pd.DataFrame(
                    {
                        "child_code": lm.practice_code,
                        "child_kind": "practice",
                        "parent_code": lm.locality_code,
                        "parent_kind": "locality",
                        "effective_from": lm.effective_from,
                        "effective_to": lm.effective_to,
                    }
                ),
            ],
            ignore_index=True,
        )
    links = links.dropna(subset=["child_code", "parent_code"])
    links["f"] = pd.to_datetime(links.effective_from)
    links["t"] = pd.to_datetime(links.effective_to)
    practice = links.child_code.rename("PRACTICE")
    to_locality = links[links.parent_kind == "locality"].assign(PRACTICE=practice, LOCALITY=links.parent_code)
    direct = links[(links.child_kind == "practice") & (links.parent_kind == "commissioner")]
    direct = direct.assign(PRACTICE=practice, ODS_COMMISSIONER=links.parent_code)
    parents = links[links.child_kind == "locality"]
    if inputs["registrations"] is not None:
        register = pd.read_parquet(inputs["registrations"], columns=["PRACTICE_CODE", "COMMISSIONER_CODE"])
        holders = register.dropna(subset=["PRACTICE_CODE"]).groupby("PRACTICE_CODE", as_index=False).max()
        holders.columns = ["PRACTICE", "REGISTER_COMMISSIONER"]
    else:
        holders = pd.DataFrame({"PRACTICE": pd.Series(dtype=object), "REGISTER_COMMISSIONER": pd.Series(dtype=object)})
    return {
        "to_locality": to_locality[["PRACTICE", "LOCALITY", "f", "t"]],
        "locality_parent": pd.DataFrame({"LOCALITY": parents.child_code, "LOCALITY_COMMISSIONER": parents.parent_code}),
        "direct": direct[["PRACTICE", "ODS_COMMISSIONER", "f", "t"]],
        "holders": holders,
    }


def _tariff_pandas(inputs: dict[str, Any]) -> dict[str, pd.DataFrame]:
    paths = inputs["tariff"]
    tables = {name: pd.read_parquet(path) for name, path in paths.items()}
    for table in tables.values():
        table["FY"] = _year_start(table.financial_year)
    rules = tables["rules"].assign(rule=tables["rules"].rule.str.strip(), value=tables["rules"].value.fillna(""))
    value = rules.pivot_table(index="FY", columns="rule", values="value", aggfunc="last")
    year_rules = pd.DataFrame(
        {
            "FY": value.index,
            "RULES": True,
            "SSE": value["short_stay_emergency"].str.strip().str.lower().eq("yes").to_numpy(),
            "SSE_MAX": value["short_stay_max_days"].str.strip().astype("int64").to_numpy(),
            "SSE_MIN": value["short_stay_min_age"].str.strip().astype("int64").to_numpy(),
        }
    )
    types = value["ae_minor_department_types"].str.split(";").explode().str.strip()
    minor = pd.DataFrame({"FY": types.index, "AEDEPTTYPE": types.to_numpy(), "MINOR": True})
    minor = minor[minor.AEDEPTTYPE.fillna("") != ""]
    mff = tables["mff"].dropna(subset=["provider_code"])
    local = tables["local_prices"].dropna(subset=["provider_code", "pod", "currency"])
    ae = tables["ae"]
    return {
        "rules": year_rules,
        "minor": minor,
        "mff": pd.DataFrame({"FY": mff.FY, "PROCODE": mff.provider_code, "MFF": mff.mff_e4}),
        "local": pd.DataFrame(
            {
                "FY": local.FY,
                "PROCODE": local.provider_code,
                "POD": local.pod,
                "CURRENCY": local.currency,
                "LOCAL": local.pence,
            }
        ),
        "apc": tables["apc"].dropna(subset=["hrg"]).rename(columns={"hrg": "CURRENCY"}),
        "op": tables["op"].dropna(subset=["tfc"]).rename(columns={"tfc": "CURRENCY"}),
        "ae": pd.DataFrame({"FY": ae.FY, "CURRENCY": ae.hrg, "NATIONAL": ae.pence}).dropna(subset=["CURRENCY"]),
        "ae_low": ae.groupby("FY", as_index=False).agg(LOW=("pence", "min")),
    }


def _joined_pandas(t: pd.DataFrame, tariff: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return (
        t.merge(tariff["rules"], on="FY", how="left")
        .merge(tariff["mff"], on=["FY", "PROCODE"], how="left")
        .merge(tariff["local"], on=["FY", "PROCODE", "POD", "CURRENCY"], how="left")
    )


def _month(dates: pd.Series) -> pd.Series:
    return pd.Series(dates.to_numpy().astype("datetime64[M]"), index=dates.index)


def _apc_pandas(inputs: dict[str, Any], tree: dict[str, pd.DataFrame], tariff: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = ["PROCODE", "GPPRAC", "ADMIDATE", "DISDATE", "ADMIMETH", "SUSHRG", "STARTAGE", "TRETSPEF"]
    t = _attribute_pandas(_read(inputs["files"]["apc"], columns), "ADMIDATE", tree)
    t["FY"] = _start_year(t.DISDATE)
    t["POD"] = np.where(t.ADMIMETH.isin(["11", "12", "13"]), "APC_EL", "APC_NE")
    t["CURRENCY"] = t.SUSHRG
    t["LOS"] = (t.DISDATE - t.ADMIDATE).dt.days
    t = _joined_pandas(t, tariff).merge(tariff["apc"], on=["FY", "CURRENCY"], how="left")
    el = t.POD == "APC_EL"
    nat = t.elective_pence.where(el, t.nonelective_pence)
    trim = t.elective_trim_days.where(el, t.nonelective_trim_days)
    sse = (
        ~el
        & nat.notna()
        & t.SSE.fillna(False).astype(bool)
        & (t.LOS <= t.SSE_MAX)
        & (t.STARTAGE >= t.SSE_MIN)
        & (t.sse_applicable == "Yes")
        & t.sse_pence.notna()
    )
    long_stay = nat.notna() & trim.notna() & ~sse
    excess = np.where(long_stay, np.maximum(t.LOS - trim, 0), 0)
    excess = np.nan_to_num(excess, nan=0.0)
    net = (
        nat.fillna(t.LOCAL).fillna(0)
        + excess * t.per_day_pence.fillna(0)
        - np.where(sse, t.nonelective_pence - t.sse_pence, 0)
    )
    priced = t.RULES.notna() & (t.LOS >= 0) & (nat.notna() | t.LOCAL.notna()) & t.MFF.notna()
    price = np.where(priced, _times_mff_np(net.fillna(0), t.MFF.fillna(0)), 0)
    return pd.DataFrame(
        {
            "COMMISSIONER": t.COMMISSIONER,
            "LOCALITY": t.LOCALITY,
            "PRACTICE": t.PRACTICE,
            "PROCODE": t.PROCODE,
            "POD": t.POD,
            "SPECIALTY": t.TRETSPEF,
            "MONTH": _month(t.DISDATE),
            "COUNTED": 1,
            "PRICED": priced.to_numpy(),
            "PRICE_PENCE": price,
        }
    )


def _op_pandas(inputs: dict[str, Any], tree: dict[str, pd.DataFrame], tariff: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = ["PROCODE", "GPPRAC", "APPTDATE", "FIRSTATT", "ATTENDED", "TRETSPEF"]
    t = _attribute_pandas(_read(inputs["files"]["op"], columns), "APPTDATE", tree)
    t["FY"] = _start_year(t.APPTDATE)
    first, follow_up = t.FIRSTATT.isin(["1", "3"]), t.FIRSTATT.isin(["2", "4"])
    t["POD"] = pd.Series(np.select([first, follow_up], ["OP_FIRST", "OP_FU"], ""), index=t.index).replace("", None)
    t["CURRENCY"] = t.TRETSPEF
    t = _joined_pandas(t, tariff).merge(tariff["op"], on=["FY", "CURRENCY"], how="left")
    pay = t.ATTENDED.isin(["5", "6"])
    national = t.first_pence.where(t.POD == "OP_FIRST", t.followup_pence.where(t.POD == "OP_FU"))
    found = national.fillna(t.LOCAL)
    priced = ~pay | (t.RULES.notna() & found.notna() & t.MFF.notna())
    price = np.where(pay & priced, _times_mff_np(found.fillna(0), t.MFF.fillna(0)), 0)
    return pd.DataFrame(
        {
            "COMMISSIONER": t.COMMISSIONER,
            "LOCALITY": t.LOCALITY,
            "PRACTICE": t.PRACTICE,
            "PROCODE": t.PROCODE,
            "POD": t.POD.fillna("OP_UNKNOWN"),
            "SPECIALTY": t.TRETSPEF,
            "MONTH": _month(t.APPTDATE),
            "COUNTED": pay.astype("int64").to_numpy(),
            "PRICED": priced.to_numpy(),
            "PRICE_PENCE": price,
        }
    )


def _ae_pandas(inputs: dict[str, Any], tree: dict[str, pd.DataFrame], tariff: dict[str, pd.DataFrame]) -> pd.DataFrame:
    columns = ["PROCODE", "GPPRAC", "ARRIVALDATE", "AEDEPTTYPE", "SUSHRG"]
    t = _attribute_pandas(_read(inputs["files"]["ae"], columns), "ARRIVALDATE", tree)
    t["FY"] = _start_year(t.ARRIVALDATE)
    t["POD"] = "AE"
    t["CURRENCY"] = t.SUSHRG
    t = (
        _joined_pandas(t, tariff)
        .merge(tariff["ae"], on=["FY", "CURRENCY"], how="left")
        .merge(tariff["ae_low"], on="FY", how="left")
        .merge(tariff["minor"], on=["FY", "AEDEPTTYPE"], how="left")
    )
    minor = t.MINOR.notna()
    found = t.LOW.where(minor, t.NATIONAL.fillna(t.LOCAL))
    priced = t.RULES.notna() & found.notna() & t.MFF.notna()
    price = np.where(priced, _times_mff_np(found.fillna(0), t.MFF.fillna(0)), 0)
    return pd.DataFrame(
        {
            "COMMISSIONER": t.COMMISSIONER,
            "LOCALITY": t.LOCALITY,
            "PRACTICE": t.PRACTICE,
            "PROCODE": t.PROCODE,
            "POD": "AE",
            "SPECIALTY": "180",
            "MONTH": _month(t.ARRIVALDATE),
            "COUNTED": 1,
            "PRICED": priced.to_numpy(),
            "PRICE_PENCE": price,
        }
    )


def run_pandas(inputs: dict[str, Any]) -> str:
    """The same job in pandas: merges for the tree and the tariff, numpy for the rules, one groupby."""
    return answer(summary_pandas(inputs))


def summary_pandas(inputs: dict[str, Any]) -> pa.Table:
    """The summary by pandas, materialised as an Arrow table."""
    tree, tariff = _tree_pandas(inputs), _tariff_pandas(inputs)
    lines = pd.concat(
        [_apc_pandas(inputs, tree, tariff), _op_pandas(inputs, tree, tariff), _ae_pandas(inputs, tree, tariff)],
        ignore_index=True,
    )
    lines["UNPRICED"] = (~lines.PRICED).astype("int64")
    summary = lines.groupby(BY, dropna=False, sort=False).agg(
        ACTIVITY=("COUNTED", "sum"),
        LINES=("COUNTED", "size"),
        PENCE=("PRICE_PENCE", "sum"),
        UNPRICED=("UNPRICED", "sum"),
    )
    return pa.Table.from_pandas(summary.reset_index(), preserve_index=False)
