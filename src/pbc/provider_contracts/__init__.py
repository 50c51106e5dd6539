"""Provider contracts: the plan per provider, commissioner, POD and specialty, phased by month, and its monitoring.

`pbc.provider_contracts.plan` drafts a plan from a baseline year or reads an agreed one, phases it and stores it;
`pbc.provider_contracts.monitoring` compares it with costed activity month by month, year to date and to outturn,
for one provider or for every contract a lead commissioner holds for its associates.
"""
