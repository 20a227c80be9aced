"""Column names and list-cell separator: one spelling everywhere (Microsoft Recommenders style)."""

from __future__ import annotations

# --- column names (one spelling everywhere) ---
ID_COL = "id"            # catalogue (TMDB) id
USER_COL = "userId"
ITEM_COL = "movieId"     # MovieLens item id
TMDB_COL = "tmdbId"
RATING_COL = "rating"
TIMESTAMP_COL = "timestamp"
# Item column of model-ready ratings: the catalogue id (tmdbId) when links map it, else movieId.
ITEM_ID_COL = "itemId"
LIST_SEP = "|"           # separator of list-valued cells in merged_data6.csv / features
# Streaming platforms a title is on, LIST_SEP-joined (features column added by the platform
# snapshots of issue 10); the recommender filters on it when the catalogue has it.
PLATFORMS_COL = "platforms"

GENRE_PREFIX = "genre_"        # dummy column = GENRE_PREFIX + genre name with spaces as "_"
