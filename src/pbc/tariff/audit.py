"""PbR claims audit: the lines whose claimed price differs from pbc's price under the tariff of their year.

Each difference is a possible challenge to the provider, so every row carries what is needed to raise it: the
data set, provider and record key, both prices, the difference and the rule pbc applied. Lines pbc cannot price
(PRICED false) are included when a price was claimed for them, since nothing confirms the claim; the quality rule
may choose to report them apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from pbc.ingest.contracts import load_contracts
from pbc.tariff.pricing import price
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

AUDIT_COLUMNS = (
    "DATASET",
    "PROCODE",
    "RECORD_KEY",
    "TARIFF_YEAR",
    "POD",
    "CURRENCY",
    "CLAIMED_PRICE_PENCE",
    "PRICE_PENCE",
    "DIFFERENCE_PENCE",
    "PRICED",
    "PRICE_RULE",
    "DETAIL",
)


def pounds(pence: ibis.IntegerValue) -> ibis.StringValue:
    """Non-negative pence as '£1234.56' text, with integer arithmetic only."""
    whole = (pence - pence % 100) // 100
    return "£" + whole.cast("int64").cast("string") + "." + (pence % 100).cast("string").lpad(2, "0")


def claims_audit(con: BaseBackend, warehouse: Warehouse, dataset: str, lines: ibis.Table | None = None) -> ibis.Table:
    """The lines of a data set (default: its stored activity) where PRICE_PENCE != CLAIMED_PRICE_PENCE.

    DIFFERENCE_PENCE is claimed minus pbc's price (positive: the provider claimed more). DETAIL says it in words,
    for a findings table: "claimed £X, tariff price £Y (rule)".
    """
    key = load_contracts()[dataset].key
    priced = price(con, warehouse, dataset, lines)
    if "CLAIMED_PRICE_PENCE" not in priced.columns:
        raise ValueError(f"{dataset} lines need CLAIMED_PRICE_PENCE to be audited")
    claimed = priced.CLAIMED_PRICE_PENCE
    differs = priced.filter(claimed.isnull() | (claimed != priced.PRICE_PENCE))
    explained = ibis.ifelse(
        differs.PRICED,
        "tariff price " + pounds(differs.PRICE_PENCE) + " (" + differs.PRICE_RULE + ")",
        "cannot be priced (" + differs.PRICE_RULE + ")",
    )
    shown = ibis.ifelse(differs.CLAIMED_PRICE_PENCE.isnull(), "nothing", pounds(differs.CLAIMED_PRICE_PENCE))
    return differs.select(
        DATASET=ibis.literal(dataset),
        PROCODE=differs.PROCODE,
        RECORD_KEY=differs[key],
        TARIFF_YEAR=differs.TARIFF_YEAR,
        POD=differs.POD,
        CURRENCY=differs.CURRENCY,
        CLAIMED_PRICE_PENCE=differs.CLAIMED_PRICE_PENCE,
        PRICE_PENCE=differs.PRICE_PENCE,
        DIFFERENCE_PENCE=(differs.CLAIMED_PRICE_PENCE - differs.PRICE_PENCE).cast("int64"),
        PRICED=differs.PRICED,
        PRICE_RULE=differs.PRICE_RULE,
        DETAIL="claimed " + shown + ", " + explained,
    )


SUMMARY_COLUMNS = (
    "DATASET",
    "PROCODE",
    "MONTH",
    "LINES",
    "CLAIMED_PENCE",
    "PRICE_PENCE",
    "NET_PENCE",
    "OVERCHARGED_LINES",
    "OVERCHARGED_PENCE",
    "UNDERCHARGED_LINES",
    "UNDERCHARGED_PENCE",
    "UNPRICED_LINES",
)


def claims_summary(con: BaseBackend, warehouse: Warehouse, dataset: str, lines: ibis.Table | None = None) -> ibis.Table:
    """Per provider and month of submission: what was claimed, what pbc prices it at, and the over- and under-charges.

    NET_PENCE is claimed minus pbc's price. Over- and under-charges are kept apart (both as positive amounts), since a
    provider's undercharges do not excuse its overcharges in a claims challenge.
    """
    priced = price(con, warehouse, dataset, lines)
    period = load_contracts()[dataset].period
    claimed = priced.CLAIMED_PRICE_PENCE.fill_null(0)
    difference = claimed - priced.PRICE_PENCE
    marked = priced.mutate(
        MONTH=priced[period].strftime("%Y-%m"),
        CLAIMED=claimed,
        OVER=ibis.greatest(difference, 0),
        UNDER=ibis.greatest(-difference, 0),
    )
    summary = marked.group_by(["PROCODE", "MONTH"]).aggregate(
        LINES=marked.count(),
        CLAIMED_PENCE=marked.CLAIMED.sum().cast("int64"),
        PRICE_PENCE=marked.PRICE_PENCE.sum().cast("int64"),
        OVERCHARGED_LINES=(marked.OVER > 0).sum().cast("int64"),
        OVERCHARGED_PENCE=marked.OVER.sum().cast("int64"),
        UNDERCHARGED_LINES=(marked.UNDER > 0).sum().cast("int64"),
        UNDERCHARGED_PENCE=marked.UNDER.sum().cast("int64"),
        UNPRICED_LINES=(~marked.PRICED).sum().cast("int64"),
    )
    summary = summary.mutate(DATASET=ibis.literal(dataset), NET_PENCE=summary.CLAIMED_PENCE - summary.PRICE_PENCE)
    return summary.select(*SUMMARY_COLUMNS).order_by(["PROCODE", "MONTH"])
