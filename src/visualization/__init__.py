"""Figures written to ``reports/figures`` for the EDA, models and report."""
