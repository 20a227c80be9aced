"""Known users' ranked candidates, computed once per model and catalogue (the API's hot path).

For every viewer in the training data the chain's scores do not change until the model or
the catalogue does, so at load each known user's allowed candidates (unseen, positive,
content-step genre rule applied) are ranked once by the chain's order — score descending,
ties to the smaller id (:func:`.rank.top_n`) — and the first ``depth`` kept with their
scores. A request with any filter mask then takes the first n of that prefix that pass the
mask: the same list :meth:`RecPipeline.rank` builds from the full score row, because
filtering a prefix of one total order keeps its order. When fewer than n pass and the
prefix is truncated (a narrow filter), the answer is unknown from the prefix: the caller
scores the viewer in full (``None`` here). When the prefix holds every candidate, the
short list is backfilled from the chart exactly as :meth:`RecPipeline.fill` does.

Memory is users × depth × 12 bytes (positions int32 + scores float64), instead of the
users × titles float64 matrix a full score cache needs (916 MB at the full Kaggle shape).

Building them is the chain over every known user × every title (~4 min for 12k users × 45k
titles on 2 cores), so :meth:`KnownLists.arrays` / :meth:`KnownLists.from_arrays` let the
serving cache (:mod:`src.models.serving_cache`) keep them: every later load of the same
bundle, catalogue, parameters and code memory-maps them instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from src.models.pipeline.blend import Step
from src.models.pipeline.chain import RecPipeline
from src.models.pipeline.histories import Histories
from src.models.pipeline.rank import top_n

__all__ = ["KnownLists"]

_STEPS = list(Step)   # a Step's code in the cached ``steps`` array is its index here
_ARRAYS = ("pos", "scores", "length", "steps")


class KnownLists:
    """Per known user: their step and the first ``depth`` ranked candidates with scores."""

    def __init__(self, pipeline: RecPipeline, histories: Callable[[np.ndarray], Histories], n_users: int,
                 depth: int, batch_rows: int) -> None:
        """In: the chain, a function known-user rows -> their Histories, the number of known
        users, the prefix depth (capped at the catalogue size), viewers per scoring chunk."""
        n_titles = len(pipeline.ids)
        self.from_cache = False
        self.depth = int(min(depth, n_titles))
        self.pos = np.full((n_users, self.depth), -1, dtype="int32")
        self.scores = np.zeros((n_users, self.depth))
        self.length = np.zeros(n_users, dtype="int64")
        self.steps = np.empty(n_users, dtype=object)
        # A bar only when it is long (a server start at full scale: minutes), not per test load.
        for lo in tqdm(range(0, n_users, batch_rows), desc="known users' lists", unit="batch",
                       disable=n_users < 20 * batch_rows):
            rows = np.arange(lo, min(lo + batch_rows, n_users))
            h = histories(rows)
            scores, steps = pipeline.score(h)
            base = pipeline.base_allowed(h, steps)
            self.steps[rows] = steps
            for r, (p, s) in zip(rows.tolist(), top_n(scores, base, self.depth, pipeline.ids)):
                self.pos[r, :len(p)] = p
                self.scores[r, :len(p)] = s
                self.length[r] = len(p)

    def arrays(self) -> dict[str, np.ndarray]:
        """The lists as plain numeric arrays (for the serving cache): positions, scores,
        lengths and each user's Step as its code."""
        codes = np.fromiter((_STEPS.index(s) for s in self.steps), dtype="int8", count=len(self.steps))
        return {"pos": self.pos, "scores": self.scores, "length": self.length, "steps": codes}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_users: int, depth: int, n_titles: int) -> KnownLists | None:
        """The lists of :meth:`arrays` (read-only memory maps are fine), or None when they do not
        fit this recommender (other user count, depth or catalogue size: then they are rebuilt)."""
        if any(k not in arrays for k in _ARRAYS):
            return None
        pos, scores, length, codes = (arrays[k] for k in _ARRAYS)
        depth = int(min(depth, n_titles))
        if (pos.shape != (n_users, depth) or scores.shape != (n_users, depth)
                or length.shape != (n_users,) or codes.shape != (n_users,)):
            return None
        if n_users and (int(pos.max(initial=-1)) >= n_titles or int(length.max(initial=0)) > depth
                        or int(codes.min(initial=0)) < 0 or int(codes.max(initial=0)) >= len(_STEPS)):
            return None
        self = cls.__new__(cls)
        self.from_cache = True
        # plain views of the (memory-mapped) arrays: the memmap wrapper costs µs per lookup
        self.depth, self.pos, self.scores, self.length = depth, np.asarray(pos), np.asarray(scores), np.asarray(length)
        self.steps = np.array(_STEPS, dtype=object)[np.asarray(codes, dtype="int64")]
        return self

    @staticmethod
    def nbytes_per_user(depth: int) -> int:
        """Memory one known user takes here (for the RECOMMEND_PRECOMPUTE_MB budget)."""
        return int(depth) * (4 + 8)

    def complete(self, row: int) -> bool:
        """True when the prefix holds every candidate of the user (nothing was cut off)."""
        return self.length[row] < self.depth

    def lookup(self, row: int, mask: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The ranked (positions, scores) of known user ``row`` under ``mask``, before backfill.

        Out: at most n entries (fewer only when the prefix is complete: the caller
        backfills), or None when the prefix cannot decide (truncated, too few pass).
        """
        k = int(self.length[row])
        p = self.pos[row, :k]
        keep = mask[p]
        sel = np.flatnonzero(keep)[:n]
        if len(sel) < n and not self.complete(row):
            return None
        return p[sel].astype("int64"), self.scores[row, sel]
