"""Contract figures for the web pages: plan against actual per provider and POD, computed once per snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pbc.challenges import Ledger
from pbc.engines import connect
from pbc.finance.variance import position, summarise
from pbc.provider_contracts.monitoring import monthly
from pbc.provider_contracts.plan import CONTRACTS, has_plan
from pbc.web import data


def contract_rows(year: str) -> list[dict[str, Any]]:
    """Each provider and POD's year to date and annual plan against actual (empty when no plan is held)."""

    def make() -> list[dict[str, Any]]:
        wh, settings = data.warehouse(), data.settings()
        if not has_plan(wh, year):
            return []
        con = connect(settings)
        table = monthly(con, wh, year, Ledger(settings.home).accepted_lines())
        where = position([], year, settings, data.as_at(year), dt.date.today())
        return summarise(table, ["PROCODE", "POD"], where).to_pylist()

    return data.cached(CONTRACTS, ("contracts", year, data.as_at(year)), make)
