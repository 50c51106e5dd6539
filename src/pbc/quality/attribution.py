"""Attribution: each line to its registered practice and, through the dated tree, to cluster and commissioner.

The practice is the one the provider recorded (`GPPRAC`). Its locality is the locality membership in force on the
activity date. Its commissioner is, in order: the locality's commissioner; the commissioner whose patient register
holds the practice; the commissioner the ODS file places the practice under on that date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from pbc.activity import activity, activity_date, registrations
from pbc.orgs import covers, memberships
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def attribute(con: BaseBackend, warehouse: Warehouse, dataset: str) -> ibis.Table:
    """A data set's lines with ACTIVITY_DATE, PRACTICE, LOCALITY and COMMISSIONER on the activity date."""
    lines = activity(con, warehouse, dataset)
    lines = lines.mutate(ACTIVITY_DATE=activity_date(lines, dataset), PRACTICE=lines.GPPRAC)
    return place(con, warehouse, lines, "PRACTICE", "ACTIVITY_DATE")


def place(con: BaseBackend, warehouse: Warehouse, table: ibis.Table, practice: str, day: str) -> ibis.Table:
    """A table of practice rows with the LOCALITY and COMMISSIONER the practice belonged to on each row's day.

    Activity lines, list sizes and registers are all placed this way, so a practice's figures always land in the
    same cluster and commissioner whichever table they come from.
    """
    links = memberships(con, warehouse)
    to_locality = links.filter(links.parent_kind == "locality").select(
        L_PRACTICE=links.child_code, LOCALITY=links.parent_code, L_FROM=links.effective_from, L_TO=links.effective_to
    )
    joined = table.left_join(
        to_locality,
        [table[practice] == to_locality.L_PRACTICE, covers(to_locality.L_FROM, to_locality.L_TO, table[day])],
    )
    parents = links.filter(links.child_kind == "locality").select(
        P_LOCALITY=links.child_code, LOCALITY_COMMISSIONER=links.parent_code
    )
    joined = joined.left_join(parents, joined.LOCALITY == parents.P_LOCALITY)
    direct = links.filter((links.child_kind == "practice") & (links.parent_kind == "commissioner")).select(
        D_PRACTICE=links.child_code,
        ODS_COMMISSIONER=links.parent_code,
        D_FROM=links.effective_from,
        D_TO=links.effective_to,
    )
    joined = joined.left_join(
        direct, [joined[practice] == direct.D_PRACTICE, covers(direct.D_FROM, direct.D_TO, joined[day])]
    )
    register = registrations(con, warehouse)
    fallbacks = [joined.LOCALITY_COMMISSIONER]
    if register is not None:
        holders = register.group_by(R_PRACTICE=register.PRACTICE_CODE).aggregate(
            REGISTER_COMMISSIONER=register.COMMISSIONER_CODE.max()
        )
        joined = joined.left_join(holders, joined[practice] == holders.R_PRACTICE)
        fallbacks.append(joined.REGISTER_COMMISSIONER)
    fallbacks.append(joined.ODS_COMMISSIONER)
    return joined.select(*table.columns, LOCALITY=joined.LOCALITY, COMMISSIONER=ibis.coalesce(*fallbacks))
