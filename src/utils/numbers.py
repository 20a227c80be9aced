"""Strict parsing of numbers that arrive as text (API paths and queries, form fields).

Python's ``int()``/``float()`` are generous: they strip whitespace and accept ``+5``,
``1_000``, Arabic-Indic ``"١"`` and full-width ``"４"`` digits. That is how such strings became
user ids and stored ratings. At the boundary, text is a number only in its canonical ASCII
spelling: an optional ``-``, digits without a leading zero (``0`` itself is fine) and, for
decimals, one ``.`` followed by digits. The length is checked before ``int()``/``float()`` ever
see the text, so a 5,000-digit string costs nothing and cannot raise an unexpected error.
"""

from __future__ import annotations

import re

__all__ = ["parse_canonical_int", "parse_canonical_decimal", "MAX_NUMBER_CHARS"]

# Longer than any int64 (19 digits + sign) or any rating/score anyone types; the cap also
# keeps int() far below Python's 4,300-digit conversion limit.
MAX_NUMBER_CHARS = 32

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?", re.ASCII)


def parse_canonical_int(text: str) -> int:
    """``text`` as an int when it is a canonical ASCII integer ("12", "-3", "0").

    In: a string. Out: the int. ValueError for anything else (" 12 ", "+5", "1_000",
    "012", "١", "４", "1e3", "", or more than MAX_NUMBER_CHARS characters).
    """
    if len(text) > MAX_NUMBER_CHARS or not _INT.fullmatch(text):
        raise ValueError(f"not a canonical ASCII integer: {text[:MAX_NUMBER_CHARS]!r}")
    return int(text)


def parse_canonical_decimal(text: str) -> float:
    """``text`` as a float when it is a canonical ASCII decimal ("4", "3.5", "-0.25").

    In: a string. Out: the float. ValueError for anything else (whitespace, signs other than
    a leading "-", exponents, "nan"/"inf", non-ASCII digits, over MAX_NUMBER_CHARS characters).
    """
    if len(text) > MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a canonical ASCII number: {text[:MAX_NUMBER_CHARS]!r}")
    return float(text)
