"""pbc: practice-based commissioning for the NHS.

Reference data, hospital activity, Payment by Results costing, indicative budgets and monitoring for
commissioners, their clusters and GP practices.
"""

__version__ = "0.1.0"
