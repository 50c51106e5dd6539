"""The synthetic commissioner: a realistic population, its hospital activity, a tariff and known data faults.

Nothing here is real patient data. See docs/synthetic-data.md for what is made and the formats it is written in.
"""
