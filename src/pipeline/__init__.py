"""Orchestration: catalogue updates, the inbox, and the notebook runner (top layer; calls every stage)."""
