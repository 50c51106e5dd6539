"""The 2013 European Standard Population (ESP2013), the default standard for directly standardised rates.

OHID (formerly PHE) standardises Fingertips rates to ESP2013, so a DSR computed against any other
standard would not be comparable with the published figures. The population is Eurostat's (Revision
of the European Standard Population, 2013) with the age 0 and 1-4 groups combined into 0-4 and the
90-94 and 95+ groups combined into 90+, giving the 19 five-year bands that the R package
PHEindicatormethods ships as ``esp2013``. The weights sum to 100,000.
"""

ESP2013_AGE_BANDS: tuple[str, ...] = (
    "0-4",
    "5-9",
    "10-14",
    "15-19",
    "20-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
    "65-69",
    "70-74",
    "75-79",
    "80-84",
    "85-89",
    "90+",
)
"""Labels of the 19 bands, youngest first; counts and populations must be given in this order."""

ESP2013: tuple[int, ...] = (
    5000,
    5500,
    5500,
    5500,
    6000,
    6000,
    6500,
    7000,
    7000,
    7000,
    7000,
    6500,
    6000,
    5500,
    5000,
    4000,
    2500,
    1500,
    1000,
)
"""Standard population of each band in ``ESP2013_AGE_BANDS``, matching PHEindicatormethods' ``esp2013``."""
