"""Finance: indicative budgets from a scheme, kept as traceable runs, and monthly monitoring against them.

`scheme` reads and checks a scheme file; `budgets` gathers the sums and sets the budget exactly; `allocation`
shares money by weights to the penny; `runs` keeps each budget run with what it was made from; `monitoring`
compares costed activity with the phased budget month by month.
"""
