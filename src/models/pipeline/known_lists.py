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

A viewer's prefix is mostly their favourite genres, so a filter on a genre they rarely
watch leaves fewer than n of it (a factor model at 59k titles: 21% of one- and two-genre
requests). So each user also keeps the first ``genre_depth`` titles of the same order
within each genre: a filter that is genres only (any of them) with n <= ``genre_depth`` is
the merge of those genres' lists — exact, since each of the top n titles of the union is
among the top n of one of its genres (:meth:`KnownLists.lookup_genres`).

Memory is users × depth × 12 bytes (+ users × genres × genre_depth × 12) (positions int32 + scores float64), instead of the
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

from src.config import RECOMMEND_GENRE_DEPTH, RECOMMEND_GENRE_LISTS_MAX
from src.models.pipeline.blend import Step
from src.models.pipeline.chain import RecPipeline
from src.models.pipeline.histories import Histories
from src.models.pipeline.rank import top_n

__all__ = ["KnownLists"]

_STEPS = list(Step)   # a Step's code in the cached ``steps`` array is its index here
_ARRAYS = ("pos", "scores", "length", "steps")
_GENRE_ARRAYS = ("gpos", "gscores", "glength")


def genre_shape(n_genres: int, n_titles: int, genre_depth: int = RECOMMEND_GENRE_DEPTH) -> tuple[int, int]:
    """(genres, depth) of the per-genre lists for a catalogue: none past
    ``RECOMMEND_GENRE_LISTS_MAX`` genres (their memory would pass the prefix's)."""
    if n_genres > RECOMMEND_GENRE_LISTS_MAX or genre_depth <= 0:
        return 0, 0
    return int(n_genres), int(min(genre_depth, n_titles))


class KnownLists:
    """Per known user: their step and the first ``depth`` ranked candidates with scores."""

    def __init__(self, pipeline: RecPipeline, histories: Callable[[np.ndarray], Histories], n_users: int,
                 depth: int, batch_rows: int, genre_depth: int = RECOMMEND_GENRE_DEPTH) -> None:
        """In: the chain, a function known-user rows -> their Histories, the number of known
        users, the prefix depth (capped at the catalogue size), viewers per scoring chunk,
        the per-genre list depth (0: none)."""
        n_titles = len(pipeline.ids)
        self.from_cache = False
        self.depth = int(min(depth, n_titles))
        self.pos = np.full((n_users, self.depth), -1, dtype="int32")
        self.scores = np.zeros((n_users, self.depth))
        self.length = np.zeros(n_users, dtype="int64")
        self.steps = np.empty(n_users, dtype=object)
        n_genres, self.genre_depth = genre_shape(len(pipeline.selector.genres), n_titles, genre_depth)
        self.gpos = np.full((n_users, n_genres, self.genre_depth), -1, dtype="int32")
        self.gscores = np.zeros((n_users, n_genres, self.genre_depth))
        self.glength = np.zeros((n_users, n_genres), dtype="int64")
        genre_cols = pipeline.selector.genre_positions[:n_genres]
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
            for g, cols in enumerate(genre_cols):   # the same order within each genre
                ranked = top_n(scores[:, cols], base[:, cols], self.genre_depth, pipeline.ids[cols])
                for r, (p, s) in zip(rows.tolist(), ranked):
                    self.gpos[r, g, :len(p)] = cols[p]
                    self.gscores[r, g, :len(p)] = s
                    self.glength[r, g] = len(p)

    def arrays(self) -> dict[str, np.ndarray]:
        """The lists as plain numeric arrays (for the serving cache): positions, scores,
        lengths and each user's Step as its code."""
        codes = np.fromiter((_STEPS.index(s) for s in self.steps), dtype="int8", count=len(self.steps))
        return {"pos": self.pos, "scores": self.scores, "length": self.length, "steps": codes,
                "gpos": self.gpos, "gscores": self.gscores, "glength": self.glength}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_users: int, depth: int, n_titles: int,
                    genres: tuple[int, int] = (0, 0)) -> KnownLists | None:
        """The lists of :meth:`arrays` (read-only memory maps are fine), or None when they do not
        fit this recommender (other user count, depth, catalogue size or per-genre shape
        ``genres`` = :func:`genre_shape`: then they are rebuilt)."""
        if any(k not in arrays for k in _ARRAYS + _GENRE_ARRAYS):
            return None
        pos, scores, length, codes = (arrays[k] for k in _ARRAYS)
        gpos, gscores, glength = (arrays[k] for k in _GENRE_ARRAYS)
        depth = int(min(depth, n_titles))
        if (pos.shape != (n_users, depth) or scores.shape != (n_users, depth)
                or length.shape != (n_users,) or codes.shape != (n_users,)
                or gpos.shape != (n_users, *genres) or gscores.shape != gpos.shape
                or glength.shape != (n_users, genres[0])):
            return None
        if n_users and (max(int(pos.max(initial=-1)), int(gpos.max(initial=-1))) >= n_titles
                        or int(length.max(initial=0)) > depth or int(glength.max(initial=0)) > genres[1]
                        or int(codes.min(initial=0)) < 0 or int(codes.max(initial=0)) >= len(_STEPS)):
            return None
        self = cls.__new__(cls)
        self.from_cache = True
        # plain views of the (memory-mapped) arrays: the memmap wrapper costs µs per lookup
        self.depth, self.pos, self.scores, self.length = depth, np.asarray(pos), np.asarray(scores), np.asarray(length)
        self.genre_depth = genres[1]
        self.gpos, self.gscores, self.glength = np.asarray(gpos), np.asarray(gscores), np.asarray(glength)
        self.steps = np.array(_STEPS, dtype=object)[np.asarray(codes, dtype="int64")]
        return self

    @staticmethod
    def nbytes_per_user(depth: int, genres: tuple[int, int] = (0, 0)) -> int:
        """Memory one known user takes here (for the RECOMMEND_PRECOMPUTE_MB budget): the
        prefix at ``depth`` and the per-genre lists of shape ``genres``."""
        return (int(depth) + genres[0] * genres[1]) * (4 + 8)

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

    def lookup_genres(self, row: int, genres: list[int], n: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`lookup` for a filter that is exactly "any of these genres" (indices into the
        selector's genres): the merge of the user's per-genre lists, best first (score
        descending, ties to the smaller id, as :func:`.rank.top_n`), at most n; None when
        n > genre_depth or a genre's list is cut short of n (then the caller scores)."""
        if not genres or n > self.genre_depth or max(genres) >= self.gpos.shape[1]:
            return None
        lens = [int(self.glength[row, g]) for g in genres]
        p = np.concatenate([self.gpos[row, g, :k] for g, k in zip(genres, lens)]).astype("int64")
        s = np.concatenate([self.gscores[row, g, :k] for g, k in zip(genres, lens)])
        if len(genres) > 1:   # a title in two of the genres is in both lists, with one score
            p, first = np.unique(p, return_index=True)
            s = s[first]
            order = np.lexsort((ids[p], -s))
            p, s = p[order], s[order]
        if len(p) < n and any(k >= self.genre_depth for k in lens):
            return None
        return p[:n], s[:n]
