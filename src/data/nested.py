"""Safe, fast parser for the nested cells of the movie CSVs (Python literals or JSON).

The Kaggle files store lists of dicts inside CSV cells: The Movies Dataset writes them as
Python reprs (``[{'id': 16, 'name': 'Animation'}]``), TMDB 5000 as JSON. The classic
``ast.literal_eval`` per cell is slow (it builds a full syntax tree) and is an evaluator of
untrusted text; this module never evaluates anything. Design:

1. A cell that looks like JSON goes straight to ``json.loads`` (C speed).
2. Otherwise the cell is translated to JSON text and handed to ``json.loads``. The trick
   that makes the translation cheap: swapping every ``'`` with ``"`` (``str.translate``, C
   speed) turns every *ordinary* single-quoted Python string into a valid JSON string with
   the same content. One compiled regex then skips those ordinary strings and the
   punctuation/numbers between them *inside the regex engine* and calls back into Python
   only for the rare tokens that still need work: strings that contain a quote or a
   backslash, ``None``/``True``/``False``, and any other character (which is an error:
   names, calls and operators are code, not data).

Accepted: the JSON-compatible subset of Python literals (str, int, float, bool, None, list,
dict with string keys) and JSON itself. Everything else (tuples, sets, bytes, calls,
names, trailing commas, NaN) raises :class:`ParseError` with a reason; nothing else ever
escapes. Whatever the input, no code runs: the only parser is ``json.loads``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any, Iterable

__all__ = ["ParseError", "parse_nested", "parse_many", "is_empty_cell"]


class ParseError(ValueError):
    """A nested cell is not a JSON-compatible Python literal nor JSON; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ' <-> " swap (an involution: applying it twice gives the original text back).
_SWAP = str.maketrans({"'": '"', '"': "'"})

# Characters allowed between tokens: JSON punctuation, whitespace and number characters.
_OUTSIDE = r"[\s\[\]{}:,0-9.eE+\-]"
# After the swap: an ordinary string (no quote, no backslash, no newline) is already JSON.
_PLAIN = r'"[^"\'\\\n]*"'
_TOKEN = re.compile(
    rf"(?:{_OUTSIDE}+|{_PLAIN})*"             # skipped inside the regex engine: no callback
    r"(?:"
    r'(?P<dq>"(?:[^"\\]|\\.)*")'              # swapped single-quoted string needing work
    r"|(?P<sq>'(?:[^'\\]|\\.)*')"             # swapped double-quoted string
    r"|(?P<kw>None|True|False)(?![A-Za-z0-9_])"
    r"|(?P<end>\Z)"
    r"|(?P<bad>.)"                            # anything else: not data
    r")",
    re.S,
)
_KEYWORDS = {"None": "null", "True": "true", "False": "false"}

# Python string escapes (the complete list of the language reference).
_ESCAPE = re.compile(
    r"\\(?:(?P<nl>\n)|x(?P<x>[0-9a-fA-F]{2})|u(?P<u>[0-9a-fA-F]{4})|U(?P<U>[0-9a-fA-F]{8})"
    r"|N\{(?P<N>[^}]*)\}|(?P<oct>[0-7]{1,3})|(?P<ch>.))",
    re.S,
)
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape_match(m: re.Match) -> str:
    """Decode one Python escape sequence (``\\n``, ``\\x41``, ``\\u00e9``, ``\\N{...}``...)."""
    if m.group("nl") is not None:
        return ""  # backslash-newline is a line continuation inside a string
    for name in ("x", "u", "U"):
        code = m.group(name)
        if code is not None:
            value = int(code, 16)
            if value > 0x10FFFF:
                raise ParseError(f"escape out of range: \\{name}{code}")
            return chr(value)
    if m.group("N") is not None:
        try:
            return unicodedata.lookup(m.group("N"))
        except KeyError:
            raise ParseError(f"unknown character name \\N{{{m.group('N')}}}") from None
    if m.group("oct") is not None:
        return chr(int(m.group("oct"), 8))
    ch = m.group("ch")
    # Python keeps an unknown escape like "\q" as backslash + char.
    return _SIMPLE_ESCAPES.get(ch, "\\" + ch)


def _swap_quotes(text: str) -> str:
    """Swap ``'`` and ``"`` in ``text``.

    Three ``str.replace`` passes through a NUL placeholder run at C speed (``str.translate``
    with a mapping is ~10x slower); a text that already holds a NUL uses ``translate``.
    """
    if "\0" in text:
        return text.translate(_SWAP)
    return text.replace("'", "\0").replace('"', "'").replace("\0", '"')


def _python_string_value(body: str) -> str:
    """Value of the body (between the quotes) of a Python string literal, escapes decoded."""
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_unescape_match, body)


def _fix_token(m: re.Match) -> str:
    """Callback of :data:`_TOKEN`: rewrite the one token that needs work as JSON text."""
    kind = m.lastgroup
    token = m.group(kind)
    # The match also covers the ordinary text skipped before the token: keep it verbatim.
    prefix = m.string[m.start():m.start(kind)]
    if kind in ("dq", "sq"):
        # Undo the swap to get the original Python literal body, then decode it.
        value = _python_string_value(token[1:-1].translate(_SWAP))
        return prefix + json.dumps(value, ensure_ascii=False)
    if kind == "kw":
        return prefix + _KEYWORDS[token]
    if kind == "end":
        return prefix
    # kind == "bad": report in the original (unswapped) spelling.
    pos = m.start("bad")
    snippet = m.string[max(0, pos - 10):pos + 10].translate(_SWAP)
    if token in "'\"":
        raise ParseError(f"unterminated string near {snippet!r}")
    raise ParseError(f"unexpected {token.translate(_SWAP)!r} at {pos} near {snippet!r} "
                     "(not a literal)")


def _reject_constant(name: str) -> Any:
    """``json.loads`` hook: NaN/Infinity are not Python literals, so refuse them."""
    raise ParseError(f"non-literal constant {name}")


def _loads(text: str) -> Any:
    """``json.loads`` with NaN/Infinity refused and every failure mapped to ParseError."""
    try:
        return json.loads(text, parse_constant=_reject_constant, strict=False)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise ParseError(f"not a literal: {exc.msg if hasattr(exc, 'msg') else exc}") from None


def _looks_like_json(text: str) -> bool:
    """True when the first string delimiter of ``text`` is a double quote (or none)."""
    sq = text.find("'")
    if sq < 0:
        return True
    dq = text.find('"')
    return 0 <= dq < sq


def is_empty_cell(cell: Any) -> bool:
    """True for a missing cell: None, NaN, pandas NA or a blank string."""
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    if isinstance(cell, str):
        return not cell.strip()
    try:  # pandas.NA and friends
        import pandas as pd

        return bool(pd.isna(cell))
    except (TypeError, ValueError):
        return False


def parse_nested(cell: Any) -> Any:
    """Parse one nested cell (Python literal or JSON text) into Python objects.

    In: a CSV cell (str; None/NaN/blank mean missing). Out: the value (list, dict, str,
    number, bool), or None for a missing cell. Raises :class:`ParseError` (a ValueError
    with ``.reason``) for anything that is not a JSON-compatible literal; never executes
    or evaluates the text.
    """
    if is_empty_cell(cell):
        return None
    if not isinstance(cell, str):
        raise ParseError(f"not text: {type(cell).__name__}")
    text = cell.strip()
    if _looks_like_json(text):
        try:
            return json.loads(text, parse_constant=_reject_constant, strict=False)
        except (ValueError, RecursionError):
            pass  # e.g. a Python literal whose first string is double-quoted
    swapped = _swap_quotes(text)
    try:
        translated = _TOKEN.sub(_fix_token, swapped)
    except RecursionError:  # pragma: no cover - the regex is not recursive
        raise ParseError("nested too deeply") from None
    return _loads(translated)


def parse_many(cells: Iterable[Any]) -> tuple[list[Any], dict[int, str]]:
    """Parse many cells; never raises for a bad cell.

    In: an iterable of cells. Out: ``(values, errors)`` where ``values[i]`` is the parsed
    value (None for missing or failed cells) and ``errors`` maps the position of every
    failed cell to its reason. Same results as :func:`parse_nested` per cell; the common
    cells take the quick path of :func:`_quick_json` first.
    """
    values: list[Any] = []
    errors: dict[int, str] = {}
    append = values.append
    loads = _STRICT_DECODER.decode
    for i, cell in enumerate(cells):
        if type(cell) is str:
            quick = _quick_json(cell)
            if quick is not None:
                try:
                    append(loads(quick))
                    continue
                except (ValueError, RecursionError):
                    pass  # not for the quick path: parse_nested decides (and says why)
        try:
            append(parse_nested(cell))
        except ParseError as exc:
            append(None)
            errors[i] = exc.reason
    return values, errors


# --- quick path -------------------------------------------------------------------------
# A keyword becomes its JSON spelling plus a newline. Outside strings the newline is
# insignificant whitespace; inside a string it is a raw control character, which the
# strict decoder refuses. So a keyword that was really text inside a string can never be
# silently rewritten: the cell fails the quick path and goes through parse_nested.
_QUICK_KEYWORDS = (("None", "null\n"), ("True", "true\n"), ("False", "false\n"))
_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant, strict=True)


def _quick_json(cell: str) -> str | None:
    """JSON text of a simple Python-literal cell using only C-speed ``str`` methods, or None.

    Simple = no backslash (no escapes to decode) and no JSON keyword (``null``/``true``/
    ``false``) anywhere, so that the only Python-vs-JSON differences are the quotes and
    None/True/False. Splitting on ``"`` gives, when every ``"`` delimits a string (the
    ``repr`` of a text holding ``'``), outside pieces at even positions and those strings'
    contents (already valid JSON content) at odd ones. Each outside piece must then hold
    whole ``'``-strings (an even number of ``'``; otherwise some ``"`` was inside a
    ``'``-string and the cell is not simple); there every ``'`` becomes ``"`` and keywords
    are rewritten as in :data:`_QUICK_KEYWORDS`. The caller decodes with the strict decoder
    and falls back to :func:`parse_nested` on any failure, so the quick path can only fail
    on a cell, never give it a different value. Nearly all Movies Dataset cells qualify.
    """
    if "\\" in cell or "'" not in cell or "null" in cell or "true" in cell or "false" in cell:
        return None
    if '"' not in cell:
        return _quick_outside(cell)
    parts = cell.split('"')
    if len(parts) % 2 == 0:
        return None
    for k in range(0, len(parts), 2):
        piece = parts[k]
        if piece.count("'") % 2:
            return None
        parts[k] = _quick_outside(piece)
    return '"'.join(parts)


def _quick_outside(text: str) -> str:
    """``text`` (outside double-quoted strings) with ``'`` -> ``"`` and keywords rewritten."""
    text = text.replace("'", '"')
    for word, json_word in _QUICK_KEYWORDS:
        if word in text:
            text = text.replace(word, json_word)
    return text
