"""Catalogue readers: every supported source schema mapped onto the cleaner's columns.

Public API: :func:`adapt` (raw frame -> :class:`Adapted`), :func:`detect`, :data:`READERS`,
:class:`UnknownSchemaError`, the genre vocabulary (:func:`map_genres`) and JustWatch
credits (:func:`credits_frame`). One module per reader (``tmdb``, ``justwatch``,
``showid``, ``minimal``), registered in :mod:`src.data.sources.registry`.
"""

from src.data.sources.base import SOURCE_ID_COL, Adapted
from src.data.sources.genres import map_genres
from src.data.sources.justwatch import credits_frame, is_credits
from src.data.sources.registry import READERS, UnknownSchemaError, adapt, detect, readers_help

__all__ = ["Adapted", "READERS", "SOURCE_ID_COL", "UnknownSchemaError", "adapt", "credits_frame",
           "detect", "is_credits", "map_genres", "readers_help"]
