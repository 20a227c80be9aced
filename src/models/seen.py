"""The training ratings serving needs, as CSR arrays: each known user's rated items.

A bundle stores no raw ratings frame (no timestamps, no duplicates, no extra columns): the
recommender needs only "who rated what, how much" — to hide seen titles, to explain a list
("because you rated Heat 5★") and to count ratings per title. :class:`SeenRatings` holds that
as four flat arrays (sorted user ids, row pointers, item ids, ratings), which the bundle writes
as ``.npy`` files and memory-maps back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from src.config import ITEM_ID_COL, RATING_COL, USER_COL

__all__ = ["SeenRatings"]


def _compact_ratings(ratings: np.ndarray) -> np.ndarray:
    """Ratings as float32 when that is lossless (half steps always are), else float64."""
    r32 = ratings.astype("float32")
    return r32 if np.array_equal(r32.astype("float64"), ratings) else ratings


@dataclass(frozen=True)
class SeenRatings:
    """Users × items ratings in CSR form (raw ids, no matrix index space).

    ``user_ids`` sorted unique int64; ``indptr`` int64 (len(user_ids) + 1): user k's ratings
    are ``item_ids[indptr[k]:indptr[k+1]]`` / ``ratings[...]``, in training-row order.
    """

    user_ids: np.ndarray
    indptr: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        if self.indptr.shape != (n + 1,) or len(self.item_ids) != len(self.ratings):
            raise ValueError(f"inconsistent seen-ratings arrays: {n} users, indptr {self.indptr.shape}, "
                             f"{len(self.item_ids)} items, {len(self.ratings)} ratings")
        if n and (self.indptr[0] != 0 or self.indptr[-1] != len(self.item_ids)
                  or np.any(np.diff(self.indptr) < 0) or np.any(np.diff(self.user_ids) <= 0)):
            raise ValueError("seen-ratings arrays are not a valid CSR (indptr or user order broken)")

    @classmethod
    def from_frame(cls, ratings: pd.DataFrame) -> "SeenRatings":
        """Build from a model-ready ratings frame (USER_COL, ITEM_ID_COL, RATING_COL).

        A later duplicate (same user and item) wins, as in the ranker's fit; within a user the
        rows keep their order (stable sort), so :meth:`to_frame` gives exactly the rows the
        recommender would keep from the original frame.
        """
        tr = (ratings[[USER_COL, ITEM_ID_COL, RATING_COL]]
              .drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
              .sort_values(USER_COL, kind="stable"))
        users = tr[USER_COL].to_numpy("int64")
        user_ids, starts = np.unique(users, return_index=True)
        return cls(user_ids=user_ids.astype("int64"),
                   indptr=np.append(starts, len(users)).astype("int64"),
                   item_ids=tr[ITEM_ID_COL].to_numpy("int64"),
                   ratings=_compact_ratings(tr[RATING_COL].to_numpy("float64")))

    def __len__(self) -> int:
        return len(self.item_ids)

    def to_frame(self) -> pd.DataFrame:
        """DataFrame[USER_COL, ITEM_ID_COL, RATING_COL] (int64, int64, float64), one row per rating."""
        users = np.repeat(np.asarray(self.user_ids, dtype="int64"), np.diff(self.indptr))
        return pd.DataFrame({USER_COL: users,
                             ITEM_ID_COL: np.asarray(self.item_ids, dtype="int64"),
                             RATING_COL: np.asarray(self.ratings, dtype="float64")})
