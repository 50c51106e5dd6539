"""Printed reports: the one-page cluster summary, the cluster information pack and the practice monthly report.

Each report gathers its figures from the modules that own them (monitoring marts, indicators, quality, contracts,
the challenge ledger) through `sources.Sources`, which asks for each commissioner-wide answer once per command;
renders them with the Jinja2 templates the web pages share (`src/pbc/templates/`) and the Altair charts of
`pbc.charts`; and prints the page to PDF with WeasyPrint (`render`). docs/reports.md describes each report.
"""
