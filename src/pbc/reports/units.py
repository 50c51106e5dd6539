"""Which cluster or practice a report is about: found by code or name, with its commissioner and members.

People name a cluster as they know it ("Wembley") or by its code (5K5-WEMBLEY); both are accepted, and a name
that more than one commissioner uses is refused with the codes to choose from, rather than guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbc.errors import PbcError
from pbc.orgs import children, memberships, practices_of
from pbc.reference.load import REFERENCE

if TYPE_CHECKING:
    from pbc.reports.sources import Sources


@dataclass(frozen=True)
class Cluster:
    """A cluster (pbc's locality) and the commissioner it belongs to."""

    code: str
    name: str
    commissioner: str
    commissioner_name: str

    @property
    def slug(self) -> str:
        """The cluster code as part of a file name."""
        return self.code.replace("/", "_")


def _commissioner_of_localities(sources: Sources) -> dict[str, str]:
    links = memberships(sources.con, sources.warehouse)
    links = links.filter((links.child_kind == "locality") & (links.parent_kind == "commissioner"))
    return {r["child_code"]: r["parent_code"] for r in links.to_pyarrow().to_pylist()}


def find_cluster(sources: Sources, text: str) -> Cluster:
    """The cluster a user named by code or name (either case); a clear error when there is none or several."""
    wanted = text.strip()
    organisations = sources.warehouse.read(REFERENCE, "organisations").to_pylist()
    localities = [o for o in organisations if o["kind"] == "locality"]
    found = [o for o in localities if o["code"].upper() == wanted.upper()]
    if not found:
        found = [o for o in localities if (o["name"] or "").strip().lower() == wanted.lower()]
    if not found:
        known = ", ".join(f"{o['name']} ({o['code']})" for o in sorted(localities, key=lambda o: o["code"]))
        raise PbcError(f"no cluster is called {wanted!r}; the clusters pbc knows: {known or 'none loaded'}")
    if len(found) > 1:
        codes = ", ".join(sorted(o["code"] for o in found))
        raise PbcError(f"more than one cluster is called {wanted!r}: name one by its code ({codes})")
    locality = found[0]
    parents = _commissioner_of_localities(sources)
    commissioner = parents.get(locality["code"])
    if commissioner is None:
        raise PbcError(f"cluster {locality['code']} belongs to no commissioner in the organisation tree")
    return Cluster(locality["code"], locality["name"] or locality["code"], commissioner, sources.name_of(commissioner))


def clusters_of(sources: Sources, commissioner: str) -> list[Cluster]:
    """Every cluster of a commissioner, in code order; an error that says so when it has none."""
    rows = children(sources.con, sources.warehouse, commissioner).to_pyarrow().to_pylist()
    found = [
        Cluster(r["code"], r["name"] or r["code"], commissioner, sources.name_of(commissioner))
        for r in rows
        if r["kind"] == "locality"
    ]
    if not found:
        raise PbcError(f"commissioner {commissioner!r} has no clusters in the organisation tree")
    return sorted(found, key=lambda c: c.code)


def cluster_practices(sources: Sources, cluster: Cluster, on: dt.date) -> list[str]:
    """The practices that were members of the cluster on a day, in code order."""
    members = practices_of(sources.con, sources.warehouse, cluster.commissioner, on=on).to_pyarrow().to_pylist()
    return sorted({m["code"] for m in members if m["locality_code"] == cluster.code})
