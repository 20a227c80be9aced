"""Evaluation: rating-prediction CV, top-N protocols and metrics (above models, beside serving)."""
