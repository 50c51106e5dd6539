"""The synthetic commissioners' practices: real ODS practices, placed in 2005 PCTs and clusters.

The 2019 practice file names CCGs, not the PCTs of 2005. London's CCGs followed its boroughs, as the PCTs did,
so each PCT takes the active GP practices of its borough's CCG(s) (`data/london_pct_ccgs.csv`). Brent's practices
are placed in its five 2005 clusters by postcode district (`data/brent_cluster_postcodes.csv`, longest prefix
first). Practices that opened after the first synthetic day are left out: activity before a practice opened
would be impossible. List sizes are synthetic: drawn per practice and scaled to the PCT's approximate population.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pbc.reference.load import bundled_reference_dir
from pbc.reference.london import locality_code, read_pcts
from pbc.reference.ods import read_epraccur

BRENT_PCT = "5K5"


def _data(name: str) -> list[dict[str, str]]:
    with resources.files("pbc.synth").joinpath("data", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Commissioner:
    """One synthetic PCT: its code, name, sector and population to aim for."""

    code: str
    name: str
    sector: str
    population: int


@dataclass(frozen=True)
class PracticeSet:
    """The practices of the synthetic commissioners, one row each, in a fixed order."""

    code: np.ndarray
    name: np.ndarray
    postcode: np.ndarray
    commissioner: np.ndarray
    locality: np.ndarray  # '' where the PCT's clusters are not known
    list_size: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.code)

    def of(self, commissioner: str) -> np.ndarray:
        """Indices of one commissioner's practices."""
        return np.flatnonzero(self.commissioner == commissioner)

    def to_arrow(self) -> pa.Table:
        """The practices as written to reference/practices.csv."""
        return pa.table(
            {
                "practice_code": self.code,
                "name": self.name,
                "postcode": self.postcode,
                "commissioner_code": self.commissioner,
                "locality_code": self.locality,
                "list_size": self.list_size,
            }
        )


def commissioners(scope: str, reference: Path | None = None) -> list[Commissioner]:
    """The PCTs a scope covers: Brent alone, or all 31 London PCTs."""
    folder = reference or bundled_reference_dir()
    pcts = read_pcts(folder / "london_pcts.csv", folder / "london_pct_codes.csv").to_pylist()
    chosen = [p for p in pcts if scope == "london" or p["code"] == BRENT_PCT]
    return [Commissioner(p["code"], p["pct"], p["sector"], p["approx_population"]) for p in chosen]


def brent_cluster(postcode: str) -> str:
    """The 2005 Brent cluster of a postcode, by the longest matching prefix."""
    rules = sorted(_data("brent_cluster_postcodes.csv"), key=lambda r: -len(r["postcode_prefix"]))
    for rule in rules:
        prefix = rule["postcode_prefix"]
        if postcode == prefix or postcode.startswith(prefix + ("" if " " in prefix else " ")):
            return rule["cluster"]
    raise ValueError(f"postcode {postcode!r} is not in any Brent cluster district (data/brent_cluster_postcodes.csv)")


def _list_sizes(rng: np.random.Generator, count: int, total: int) -> np.ndarray:
    """Practice list sizes, log-normally spread, summing exactly to `total` (largest remainder rounding)."""
    raw = rng.lognormal(mean=0.0, sigma=0.45, size=count)
    raw = np.maximum(raw, 0.25)
    shares = raw / raw.sum() * total
    sizes = np.floor(shares).astype(np.int64)
    short = total - int(sizes.sum())
    sizes[np.argsort(-(shares - sizes), kind="stable")[:short]] += 1
    return sizes


def choose_practices(
    scope: str, start: dt.date, scale: float, rng: np.random.Generator, reference: Path | None = None
) -> tuple[list[Commissioner], PracticeSet]:
    """The commissioners of a scope and their practices with synthetic list sizes."""
    folder = reference or bundled_reference_dir()
    practices = read_epraccur(folder / "ods" / "epraccur.csv")
    practices = practices.filter(pc.and_(practices["is_gp_practice"], practices["is_active"]))
    practices = practices.filter(pc.less_equal(practices["open_date"], pa.scalar(start, pa.date32())))
    ccgs: dict[str, list[str]] = {}
    for row in _data("london_pct_ccgs.csv"):
        ccgs.setdefault(row["pct_code"], []).append(row["ccg_code"])
    chosen = commissioners(scope, folder)
    columns: dict[str, list[object]] = {k: [] for k in ("code", "name", "postcode", "commissioner", "locality", "size")}
    for commissioner in chosen:
        mine = practices.filter(pc.is_in(practices["commissioner_code"], pa.array(ccgs[commissioner.code])))
        mine = mine.sort_by("code")
        if mine.num_rows == 0:
            raise ValueError(f"no active GP practices found for {commissioner.name} ({commissioner.code})")
        sizes = _list_sizes(rng, mine.num_rows, round(commissioner.population * scale))
        for row, size in zip(mine.select(["code", "name", "postcode"]).to_pylist(), sizes, strict=True):
            cluster = brent_cluster(row["postcode"]) if commissioner.code == BRENT_PCT else ""
            columns["code"].append(row["code"])
            columns["name"].append(row["name"])
            columns["postcode"].append(row["postcode"] or "")
            columns["commissioner"].append(commissioner.code)
            columns["locality"].append(locality_code(commissioner.code, cluster) if cluster else "")
            columns["size"].append(int(size))
    return chosen, PracticeSet(
        code=np.array(columns["code"], dtype=object),
        name=np.array(columns["name"], dtype=object),
        postcode=np.array(columns["postcode"], dtype=object),
        commissioner=np.array(columns["commissioner"], dtype=object),
        locality=np.array(columns["locality"], dtype=object),
        list_size=np.array(columns["size"], dtype=np.int64),
    )


def provider_shares(commissioner: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Where a PCT's patients go: (home providers, their shares), (all providers, shares incl. the teaching pool).

    A PCT's home trusts take the shares in `data/pct_providers.csv`; the London teaching pool shares the rest.
    """
    rows = _data("pct_providers.csv")
    home = [(r["provider_code"], float(r["share"])) for r in rows if r["pct_code"] == commissioner]
    pool = [r["provider_code"] for r in rows if r["pct_code"] == "POOL"]
    if not home:
        raise ValueError(f"no home providers for PCT {commissioner} in data/pct_providers.csv")
    codes = [c for c, _ in home]
    shares = np.array([s for _, s in home])
    rest = [p for p in pool if p not in codes]
    all_codes = codes + rest
    all_shares = np.concatenate([shares, np.full(len(rest), (1 - shares.sum()) / len(rest))])
    return codes, shares / shares.sum(), all_codes, all_shares
