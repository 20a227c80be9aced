"""Content-based "similar titles": TF-IDF over each title's ``text`` feature, cosine similarity.

The features stage writes a ``text`` column (overview, genres, keywords, cast, directors).
TF-IDF rows are L2-normalised, so cosine similarity is a sparse dot product; one query
against 45k titles is a sparse matrix × vector product (milliseconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from src.config import CONTENT_MAX_FEATURES
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["ContentIndex"]


class ContentIndex:
    """TF-IDF index of the catalogue texts; ``similar(item_id, n)`` returns cosine neighbours."""

    def __init__(self, item_ids, texts, max_features: int = CONTENT_MAX_FEATURES) -> None:
        """Fit TF-IDF (English stop words, sublinear tf, unigrams+bigrams) on ``texts``.

        In: item ids and their texts (same length; missing text counts as empty).
        """
        self.item_ids = np.asarray(item_ids, dtype="int64")
        texts = pd.Series(list(texts), dtype="object").fillna("").astype(str)
        if len(texts) != len(self.item_ids):
            raise ValueError(f"{len(self.item_ids)} ids but {len(texts)} texts")
        if len(texts) == 0:
            raise ValueError("texts is empty")
        self._pos = pd.Index(self.item_ids)
        from sklearn.feature_extraction.text import TfidfVectorizer  # seconds to import: only to fit

        with timed(log, f"TF-IDF over {len(texts)} titles"):
            # min_df=1: a small catalogue would lose most of its words otherwise; the
            # vocabulary cap keeps the 45k-title matrix small.
            self.vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True,
                                              ngram_range=(1, 2), max_features=max_features)
            try:
                self.matrix = self.vectorizer.fit_transform(texts.tolist()).tocsr()
            except ValueError:  # every text empty / only stop words: no vocabulary at all
                from scipy.sparse import csr_matrix

                self.matrix = csr_matrix((len(texts), 1), dtype="float64")

    @classmethod
    def from_matrix(cls, item_ids, matrix) -> ContentIndex:
        """An index over an already fitted TF-IDF ``matrix`` (rows in ``item_ids`` order), e.g.
        from the serving cache: no refit (and no scikit-learn import). It has no
        ``vectorizer``: it cannot embed new texts, only compare the titles it holds."""
        self = cls.__new__(cls)
        self.item_ids = np.asarray(item_ids, dtype="int64")
        if matrix.shape[0] != len(self.item_ids):
            raise ValueError(f"{len(self.item_ids)} ids but {matrix.shape[0]} matrix rows")
        self._pos = pd.Index(self.item_ids)
        self.vectorizer = None
        self.matrix = matrix
        return self

    def similarities(self, item_id: int) -> np.ndarray:
        """Cosine similarity of ``item_id`` to every title (its own entry included).

        Raises KeyError naming the id when it is not in the index.
        """
        pos = self._pos.get_indexer([int(item_id)])[0]
        if pos < 0:
            raise KeyError(f"unknown movie id {item_id}")
        return np.asarray((self.matrix @ self.matrix[pos].T).todense()).ravel()

    def similar(self, item_id: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` most similar other titles: (ids, cosine similarities), best first."""
        sims = self.similarities(item_id)
        sims[self._pos.get_indexer([int(item_id)])[0]] = -np.inf  # never "similar to itself"
        n = min(n, len(sims) - 1)
        if n <= 0:
            return np.empty(0, dtype="int64"), np.empty(0)
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top], kind="stable")]
        return self.item_ids[top], sims[top]
