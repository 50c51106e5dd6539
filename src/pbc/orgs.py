"""Questions about the organisation tree, written once as ibis expressions so they run on any engine.

A practice belongs to a commissioner directly (the ODS file's commissioner, with join and left dates) or through a
locality (cluster) membership. Both are dated: asked "on" a date, only memberships in force that day count;
asked without one, every membership the practice ever had is listed, one row each.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from pbc.engines import read_table
from pbc.reference.load import LOCALITIES, REFERENCE
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

PRACTICE_FIELDS = (
    "code",
    "name",
    "postcode",
    "status",
    "prescribing_setting",
    "is_gp_practice",
    "is_active",
    "open_date",
    "close_date",
)


def memberships(con: BaseBackend, warehouse: Warehouse) -> ibis.Table:
    """Every dated membership in the tree, including locality memberships when they have been loaded."""
    links = read_table(con, warehouse.path(REFERENCE, "memberships"), "memberships")
    if not warehouse.has(LOCALITIES):
        return links
    lm = read_table(con, warehouse.path(LOCALITIES, "locality_memberships"), "locality_memberships")
    as_links = lm.select(
        child_code=lm.practice_code,
        child_kind=ibis.literal("practice"),
        parent_code=lm.locality_code,
        parent_kind=ibis.literal("locality"),
        effective_from=lm.effective_from,
        effective_to=lm.effective_to,
        source=ibis.literal("localities"),
    )
    return links.union(as_links)


def covers(start: ibis.Value, end: ibis.Value, day: ibis.Value) -> ibis.BooleanValue:
    """Whether a dated span includes a day; a missing start or end is open-ended (memberships, registrations)."""
    return (start.isnull() | (start <= day)) & (end.isnull() | (end >= day))


def _in_force(links: ibis.Table, on: dt.date | None) -> ibis.Table:
    if on is None:
        return links
    return links.filter(covers(links.effective_from, links.effective_to, ibis.literal(on)))


def practices_of(
    con: BaseBackend,
    warehouse: Warehouse,
    commissioner: str,
    on: dt.date | None = None,
    active_gp_only: bool = False,
) -> ibis.Table:
    """The practices under a commissioner, directly or through its localities, with their membership dates."""
    links = _in_force(memberships(con, warehouse), on)
    localities = links.filter((links.child_kind == "locality") & (links.parent_code == commissioner)).select(
        locality=links.child_code
    )
    practice_links = links.filter(links.child_kind == "practice")
    direct = practice_links.filter(
        (practice_links.parent_kind == "commissioner") & (practice_links.parent_code == commissioner)
    ).select(
        code=practice_links.child_code,
        locality_code=ibis.null().cast("string"),
        member_from=practice_links.effective_from,
        member_to=practice_links.effective_to,
    )
    in_locality = practice_links.filter(practice_links.parent_kind == "locality")
    via = in_locality.inner_join(localities, in_locality.parent_code == localities.locality).select(
        code=in_locality.child_code,
        locality_code=in_locality.parent_code,
        member_from=in_locality.effective_from,
        member_to=in_locality.effective_to,
    )
    members = direct.union(via)
    practices = read_table(con, warehouse.path(REFERENCE, "practices"), "practices").select(*PRACTICE_FIELDS)
    if active_gp_only:
        practices = practices.filter(practices.is_gp_practice & practices.is_active)
    joined = practices.inner_join(members, "code")
    return joined.order_by(["code", "member_from"])


def practice_counts(con: BaseBackend, warehouse: Warehouse) -> ibis.Table:
    """Organisations in the practice file by status and prescribing setting."""
    practices = read_table(con, warehouse.path(REFERENCE, "practices"), "practices")
    counts = practices.group_by(["status", "prescribing_setting"]).aggregate(organisations=practices.count())
    return counts.order_by(["status", "prescribing_setting"])


def tree_summary(con: BaseBackend, warehouse: Warehouse) -> ibis.Table:
    """How many organisations of each kind and status the tree holds."""
    orgs = read_table(con, warehouse.path(REFERENCE, "organisations"), "organisations")
    return orgs.group_by(["kind", "status"]).aggregate(organisations=orgs.count()).order_by(["kind", "status"])


def children(con: BaseBackend, warehouse: Warehouse, parent: str, on: dt.date | None = None) -> ibis.Table:
    """The organisations directly under a parent (e.g. a sector's commissioners, a commissioner's localities)."""
    links = _in_force(memberships(con, warehouse), on)
    orgs = read_table(con, warehouse.path(REFERENCE, "organisations"), "organisations")
    under = links.filter(links.parent_code == parent)
    joined = under.inner_join(orgs, under.child_code == orgs.code).select(
        code=under.child_code, name=orgs.name, kind=under.child_kind, status=orgs.status
    )
    return joined.distinct().order_by(["kind", "code"])


def organisation(con: BaseBackend, warehouse: Warehouse, code: str) -> ibis.Table:
    """One organisation's row (empty if the code is unknown)."""
    orgs = read_table(con, warehouse.path(REFERENCE, "organisations"), "organisations")
    return orgs.filter(orgs.code == code)
