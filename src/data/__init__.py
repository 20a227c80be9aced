"""Data stage: read raw catalogue/credits/keywords/links/ratings, flatten, clean, merge."""
