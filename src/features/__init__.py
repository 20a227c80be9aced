"""Feature stage: merged catalogue -> model-ready features (genre dummies, score_final, text)."""
