"""Indicators: public-health statistical methods, SPC and indicator definitions."""
