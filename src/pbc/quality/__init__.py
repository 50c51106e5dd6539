"""Data quality: the rules every month's activity is checked by, their findings, and how well they find faults."""
