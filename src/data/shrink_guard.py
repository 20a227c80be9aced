"""Refuse to replace a catalogue with a much smaller one (a broken input, not a withdrawal).

Used by the ETL (``invoke data``) and the updater before anything is committed: a new
catalogue with no titles, or with fewer than ``CATALOGUE_MIN_KEEP_FRACTION`` of the current
one's, raises :class:`~src.utils.errors.ShrinkRefusedError` unless the operator passes
``--force``; the previous outputs stay in place either way until a run is accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from src.config import CATALOGUE_MIN_KEEP_FRACTION, ID_COL
from src.utils.errors import ShrinkRefusedError
from src.utils.logging import get_logger

log = get_logger(__name__)


def catalogue_size(path: str | os.PathLike) -> int | None:
    """Titles in the catalogue CSV at ``path`` (its ``id`` column only), None if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    return int(len(pd.read_csv(path, usecols=[ID_COL], dtype=str)))


def check_shrink(current: int | None, new: int, what: str, force: bool = False,
                 min_keep: float = CATALOGUE_MIN_KEEP_FRACTION) -> None:
    """Raise ShrinkRefusedError when ``new`` titles would replace ``current`` too many.

    In: the current size (None: no catalogue yet), the new size, what is being built (for
    the message), ``force`` to accept anyway (logged), the fraction that must remain.
    Refused: ``new == 0``, or ``new < min_keep * current``.
    """
    if new > 0 and (current is None or new >= min_keep * current):
        return
    was = "no catalogue yet" if current is None else f"{current} titles now"
    msg = (f"{what} would leave {new} titles ({was}; refused below "
           f"{min_keep:.0%} of the current catalogue or at 0)")
    if force:
        log.warning("%s: accepted because of --force", msg)
        return
    raise ShrinkRefusedError(f"{msg}: the previous outputs are unchanged; check the input "
                             "and its quarantine report, or rerun with --force to accept it")
