"""Loaders for the London commissioning tables of 2005-2007: PCTs by sector, lead commissioners and clusters.

The published tables name organisations, not codes. pbc keeps two small curated tables beside them
(`london_pct_codes.csv`, `london_trusts_2006.csv`) that give each name its ODS code, so that activity, which
carries codes, can be joined to the tree. A name that is in neither table is an unknown parent, and an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from pbc.errors import InputError, Problem
from pbc.reference.records import Column, Parsed, read_csv

LONDON_REGION_CODE = "Q36"
LONDON_REGION_NAME = "London Strategic Health Authority"

PCTS = (
    Column("sector", "sector", required=True),
    Column("pct", "pct", required=True),
    Column("approx_population", "approx_population", kind="int", required=True, minimum=1),
)
PCT_CODES = (
    Column("pct", "pct", required=True),
    Column("code", "code", required=True, pattern=r"[A-Z0-9]{3}", describe="PCT code"),
)
TRUST_CODES = (
    Column("provider", "provider", required=True),
    Column("code", "code", pattern=r"[A-Z0-9]{3}", describe="trust code"),
)
LEAD_COMMISSIONERS = (
    Column("lead_pct", "lead_pct", required=True),
    Column("provider", "provider", required=True),
)
CLUSTERS = (
    Column("pct", "pct", required=True),
    Column("cluster", "cluster", required=True),
    Column("workshop_date", "workshop_date", kind="date", date_formats=("%Y-%m-%d",)),
)

_QUALIFIER = re.compile(r"^(?P<name>.*?)\s*\((?P<note>[^)]*)\)\s*$")


def sector_code(sector: str) -> str:
    """Give pbc's own code for a London sector (sectors had no ODS code): `LON-NW` for North West."""
    return "LON-" + "".join(word[0] for word in sector.split()).upper()


def locality_code(commissioner_code: str, name: str) -> str:
    """Give pbc's own code for a locality (PBC clusters had no ODS code): `5K5-HARLESDEN`."""
    return f"{commissioner_code}-{re.sub(r'[^A-Z0-9]+', '-', name.upper()).strip('-')}"


def read_pcts(path: Path, codes_path: Path) -> pa.Table:
    """London PCTs with sector, ODS code and approximate population; every PCT must have a code."""
    pcts = read_csv(path, PCTS, header=True, unique=("pct",))
    codes = read_csv(codes_path, PCT_CODES, header=True, unique=("pct",))
    by_name = dict(zip(codes.columns["pct"], codes.columns["code"], strict=True))
    problems = [
        Problem(pcts.file, row, "pct", f"{rec['pct']!r} has no ODS code in {codes.file}")
        for row, rec in pcts.rows()
        if rec["pct"] not in by_name
    ]
    if problems:
        raise InputError(problems)
    table = pcts.to_arrow()
    table = table.append_column("code", pa.array([by_name[p] for p in pcts.columns["pct"]], pa.string()))
    return table.append_column(
        "sector_code", pa.array([sector_code(str(s)) for s in pcts.columns["sector"]], pa.string())
    )


def _resolve_pct(name: str, pct_codes: dict[str, str]) -> tuple[str | None, str | None]:
    """A lead PCT's code, allowing a qualifier in brackets such as "Haringey PCT (specialist commissioning)"."""
    if name in pct_codes:
        return pct_codes[name], None
    match = _QUALIFIER.match(name)
    if match and match["name"] in pct_codes:
        return pct_codes[match["name"]], match["note"]
    return None, None


def read_lead_commissioners(
    path: Path, trust_codes_path: Path, pct_codes: dict[str, str], financial_year: str
) -> pa.Table:
    """Each trust's lead commissioner for a contract year, by code; unknown PCTs and trusts are errors."""
    leads = read_csv(path, LEAD_COMMISSIONERS, header=True, unique=("provider",))
    trusts = read_csv(trust_codes_path, TRUST_CODES, header=True, unique=("provider",))
    trust_codes = dict(zip(trusts.columns["provider"], trusts.columns["code"], strict=True))
    problems: list[Problem] = []
    rows: dict[str, list[object]] = {
        k: [] for k in ("financial_year", "provider_code", "provider_name", "lead_commissioner_code", "note")
    }
    for row, rec in leads.rows():
        lead, note = _resolve_pct(str(rec["lead_pct"]), pct_codes)
        if lead is None:
            problems.append(Problem(leads.file, row, "lead_pct", f"unknown PCT {rec['lead_pct']!r}"))
        if rec["provider"] not in trust_codes:
            problems.append(
                Problem(
                    leads.file,
                    row,
                    "provider",
                    f"unknown provider {rec['provider']!r}: add it to {trusts.file}",
                )
            )
        rows["financial_year"].append(financial_year)
        rows["provider_code"].append(trust_codes.get(str(rec["provider"])))
        rows["provider_name"].append(rec["provider"])
        rows["lead_commissioner_code"].append(lead)
        rows["note"].append(note)
    if problems:
        raise InputError(problems)
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def read_historic_trusts(trust_codes_path: Path) -> Parsed:
    """The curated 2006 London trust names and codes (many trusts of 2006 had closed by the ODS file's date)."""
    return read_csv(trust_codes_path, TRUST_CODES, header=True, unique=("provider",))


def read_clusters(path: Path, pct_codes: dict[str, str]) -> pa.Table:
    """PBC clusters (localities) with their commissioner; a cluster of an unknown PCT is an error."""
    clusters = read_csv(path, CLUSTERS, header=True, unique=("pct", "cluster"))
    problems = [
        Problem(clusters.file, row, "pct", f"unknown PCT {rec['pct']!r}")
        for row, rec in clusters.rows()
        if rec["pct"] not in pct_codes
    ]
    if problems:
        raise InputError(problems)
    table = clusters.to_arrow()
    commissioners = [pct_codes[str(p)] for p in clusters.columns["pct"]]
    codes = [locality_code(c, str(n)) for c, n in zip(commissioners, clusters.columns["cluster"], strict=True)]
    table = table.append_column("commissioner_code", pa.array(commissioners, pa.string()))
    return table.append_column("code", pa.array(codes, pa.string()))
