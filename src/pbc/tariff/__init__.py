"""Payment by Results costing: the tariff held in the warehouse and the price of every line under it.

`pbc.tariff.model` reads the tariff and checks each year's rules; `pbc.tariff.pricing` prices APC, OP and A&E
lines with a breakdown that explains each price; `pbc.tariff.audit` lists the lines whose claimed price differs.
"""

from pbc.tariff.audit import AUDIT_COLUMNS, claims_audit
from pbc.tariff.model import TariffError, YearRules, tariff_tables
from pbc.tariff.pricing import OUTPUT_COLUMNS, price, price_with

__all__ = [
    "AUDIT_COLUMNS",
    "OUTPUT_COLUMNS",
    "TariffError",
    "YearRules",
    "claims_audit",
    "price",
    "price_with",
    "tariff_tables",
]
