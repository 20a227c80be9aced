"""Typo-tolerant title matching: "intersteller" finds "Interstellar", "hauntng" "The Haunting".

A title's score (0-100) is the mean, over the query's words, of the best rapidfuzz
``fuzz.ratio`` between that word and any word of the title. Word by word rather than whole
strings, because whole-string scorers (``WRatio``, ``partial_ratio``) rate "The Family" as
close to "family of shadow" as "Family of Shadows" is; per word, a missing word costs its share.

It stays vectorised for a 45k-title catalogue: the distinct title words form a vocabulary,
``rapidfuzz.process.cdist`` scores each query word against all of it in C, and a sparse
titles x vocabulary matrix takes the best word per title.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process

MAX_QUERY_WORDS = 8  # more words than this are not a title someone types; the rest are ignored


class TitleIndex:
    """Word index over normalised titles (built once per loaded catalogue).

    In: the normalised titles, positional (as ``Snapshot.norm_titles``).
    """

    def __init__(self, titles: list[str]) -> None:
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for pos, title in enumerate(titles):
            for word in set(title.split()):
                rows.append(pos)
                cols.append(vocab.setdefault(word, len(vocab)))
        self.words = list(vocab)
        self.matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                    shape=(len(titles), max(len(vocab), 1)))

    def scores(self, query: str) -> np.ndarray:
        """Out: one 0-100 score per title for the normalised ``query`` (zeros if it is empty)."""
        qwords = query.split()[:MAX_QUERY_WORDS]
        total = np.zeros(self.matrix.shape[0], dtype=np.float32)
        if not qwords or not self.words:
            return total
        word_scores = process.cdist(qwords, self.words, scorer=fuzz.ratio, dtype=np.float32)
        for per_word in word_scores:
            # Best matching word of each title: scale the title's word columns, take the row max.
            best = self.matrix.multiply(per_word[np.newaxis, :]).max(axis=1)
            total += np.asarray(best.todense()).ravel()
        return total / len(qwords)
