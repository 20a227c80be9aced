"""The ``text`` feature: one lower-cased document per title for TF-IDF content similarity.

Vectorised string operations only (no per-row Python), so 45k titles take well under a second.
"""

from __future__ import annotations

import pandas as pd

from src.config import LIST_SEP


def tokens_as_units(cells: pd.Series) -> pd.Series:
    """Turn LIST_SEP-joined names into space-separated single tokens.

    In: str Series like "John Lasseter|Tom Hanks". Out: "johnlasseter tomhanks". Joining each
    name into one token makes "Tom Hanks" match only Tom Hanks, not every Tom or every Hanks.
    Non-word characters are dropped (so "Robert Downey Jr." -> "robertdowneyjr"); letters with
    accents are kept.
    """
    low = cells.fillna("").astype("str").str.lower()
    # Keep word characters and the list separator, drop spaces/punctuation inside names.
    joined = low.str.replace(rf"[^\w{LIST_SEP}]+", "", regex=True)
    return joined.str.replace(LIST_SEP, " ", regex=False).str.strip()


def words_of_list(cells: pd.Series) -> pd.Series:
    """LIST_SEP-joined phrases (keywords) -> lower-cased words separated by spaces.

    Keywords stay as words so "space war" and "space travel" share "space".
    """
    return cells.fillna("").astype("str").str.lower().str.replace(LIST_SEP, " ", regex=False)


def build_text(df: pd.DataFrame) -> pd.Series:
    """Content document per title: overview + tagline + keywords + genres + directors + cast.

    In: frame with those str columns (missing columns count as empty). Out: lower-cased str
    Series with single spaces; genres and people become single tokens (see tokens_as_units).
    """
    def col(name: str) -> pd.Series:
        if name in df.columns:
            return df[name].fillna("").astype("str")
        return pd.Series("", index=df.index, dtype="str")

    parts = [
        col("overview").str.lower(),
        col("tagline").str.lower(),
        words_of_list(col("keywords")),
        tokens_as_units(col("genres")),
        tokens_as_units(col("directors")),
        tokens_as_units(col("cast")),
    ]
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.str.replace(r"\s+", " ", regex=True).str.strip()
