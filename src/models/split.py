"""Seeded train/test splitters for the top-N evaluation protocol.

One protocol everywhere (``references/recommending.md``): each rating goes to the test side
independently with probability ``TOPN_TEST_FRACTION``, drawn from a seeded generator, so a
rerun with the same seed gives the same split and every rating lands on exactly one side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import SEED, TOPN_TEST_FRACTION


def bernoulli_split(ratings: pd.DataFrame, test_fraction: float = TOPN_TEST_FRACTION,
                    seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Send each rating to test with probability ``test_fraction`` (seeded).

    In: a ratings frame (any columns), the test probability in (0, 1), a seed. Out:
    ``(train, test)`` — disjoint row subsets of ``ratings`` whose union is all of it, each
    keeping the original index. The draw depends only on the row order and the seed.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if len(ratings) == 0:
        raise ValueError("ratings is empty")
    rng = np.random.default_rng(seed)
    is_test = rng.random(len(ratings)) < test_fraction
    return ratings.loc[~is_test], ratings.loc[is_test]
