"""Candidate selection: which catalogue titles may appear in a list.

Filters are boolean masks over catalogue positions: genres (any of), media type, platforms
(any of, from a ``|``-joined ``platforms`` features column when the catalogue has one),
titles the viewer has rated, and — for the fallback steps — titles sharing a genre with the
viewer's history. Only catalogue titles exist here, so a list can never hold a title the
catalogue cannot show. Unknown filter values raise ValueError naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from src.config import LIST_SEP, PLATFORMS_COL

__all__ = ["CandidateSelector"]

_FILTER_CACHE_SIZE = 256   # distinct filters kept as ready masks (clients choose them: bounded)


def _names(values) -> tuple[str, ...]:
    """A filter value as a tuple of names: None/empty -> (), one string -> (it,)."""
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,) if values else ()
    return tuple(values)


def _list_matrix(cells: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Titles × names bool matrix of a ``|``-joined list column, and the sorted names."""
    lists = cells.fillna("").astype(str).str.split(LIST_SEP, regex=False)
    sets = [{g.strip() for g in gl if g and g.strip()} for gl in lists]
    names = sorted(set().union(*sets)) if sets else []
    col = {n: j for j, n in enumerate(names)}
    mat = np.zeros((len(sets), len(names)), dtype=bool)
    for r, s in enumerate(sets):
        for g in s:
            mat[r, col[g]] = True
    return mat, names


class CandidateSelector:
    """Filter masks over one catalogue (positions in its row order)."""

    def __init__(self, catalogue: pd.DataFrame) -> None:
        """In: the catalogue frame (columns ``genres``, ``media_type``, optional ``platforms``)."""
        self.n = len(catalogue)
        self.genre_mat, self.genres = _list_matrix(catalogue["genres"])
        self._genre_rows = np.ascontiguousarray(self.genre_mat.T)   # one genre = one contiguous row
        self._genre_idx = {g: j for j, g in enumerate(self.genres)}
        # Each genre's titles (sorted positions), once: every ranked list keeps a list per genre.
        self.genre_positions = [np.flatnonzero(row) for row in self._genre_rows]
        self._genre_f = self.genre_mat.astype("float32")
        media = catalogue["media_type"].fillna("movie").astype(str).to_numpy(dtype=object)
        self.media_types = sorted(set(media.tolist()))
        self._media_masks = {m: media == m for m in self.media_types}
        if PLATFORMS_COL in catalogue.columns:
            self._platform_mat, self.platforms = _list_matrix(catalogue[PLATFORMS_COL])
        else:
            self._platform_mat, self.platforms = np.zeros((self.n, 0), dtype=bool), []
        self._platform_idx = {p: j for j, p in enumerate(self.platforms)}
        self._cache: dict = {}

    def genre_index(self, genres: Iterable[str]) -> list[int]:
        """Indices (into :attr:`genres`) of known genre names (KeyError for an unknown one)."""
        return [self._genre_idx[g] for g in genres]

    def mask(self, genres: Iterable[str] | str | None = None, media_type: str | None = None,
             platforms: Iterable[str] | str | None = None) -> np.ndarray:
        """Read-only bool mask: titles in ANY of ``genres``, of ``media_type``, on ANY of ``platforms``.

        Raises ValueError naming the field for an unknown genre, media type or platform.
        """
        key = (_names(genres), media_type, _names(platforms))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        gkey, _, pkey = key
        unknown = [g for g in gkey if g not in self._genre_idx]
        if unknown:
            raise ValueError(f"unknown genres: {unknown} (known: {', '.join(self.genres)})")
        if media_type is not None and media_type not in self._media_masks:
            raise ValueError(f"unknown media_type {media_type!r} (known: {self.media_types})")
        unknown = [p for p in pkey if p not in self._platform_idx]
        if unknown:
            known = ", ".join(self.platforms) or f"none: the catalogue has no {PLATFORMS_COL} column"
            raise ValueError(f"unknown platforms: {unknown} (known: {known})")
        m = np.ones(self.n, dtype=bool)
        if gkey:
            m &= np.logical_or.reduce(self._genre_rows[[self._genre_idx[g] for g in gkey]], axis=0)
        if media_type is not None:
            m &= self._media_masks[media_type]
        if pkey:
            m &= self._platform_mat[:, [self._platform_idx[p] for p in pkey]].any(axis=1)
        m.flags.writeable = False
        if len(self._cache) >= _FILTER_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = m
        return m

    def shares_genre(self, rated) -> np.ndarray:
        """Viewers × titles bool: the title shares a genre with a title of ``rated``.

        In: viewers × catalogue sparse matrix (any nonzero = in the set). A viewer whose
        titles have no genres gets an all-True row (no genre restriction to apply).
        """
        has = (rated != 0).astype("float32")
        viewer_genres = np.asarray(has @ self._genre_f) > 0          # viewers × genres
        out = (viewer_genres.astype("float32") @ self._genre_f.T) > 0   # viewers × titles
        out[~viewer_genres.any(axis=1)] = True
        return out

    def genre_names(self, p: int) -> list[str]:
        """The genre names of the title at catalogue position ``p``."""
        return [self.genres[j] for j in np.flatnonzero(self.genre_mat[p])]
