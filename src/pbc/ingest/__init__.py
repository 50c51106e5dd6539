"""Ingest: every row of a provider's extract checked, pseudonymised and stored once, or quarantined with a reason.

See docs/ingest.md for the data sets, their contracts (`contracts/*.toml`) and how resubmissions are handled.
"""
