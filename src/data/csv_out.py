"""Fast CSV writer for the ETL outputs, byte-identical to ``DataFrame.to_csv(index=False)``.

``to_csv`` formats every cell in Python (``csv.writer``): about 6 s for the full-scale
outputs (1M ratings, ~1M cast/crew rows). Here each column is turned into one Arrow
string array with the exact text pandas writes, quoted by the same rule, and the rows are
joined by Arrow compute kernels (C++); the file is one ``write`` of the resulting bytes,
and its sha256 is taken from those bytes instead of re-reading the file.

pandas' rules reproduced (default ``to_csv`` arguments, QUOTE_MINIMAL, ``\\n`` line ends):

* missing values (NaN/NA/None) are written as an empty field, unquoted;
* float64: ``numpy.ndarray.astype(str)`` (shortest round-trip repr: ``4.0``, ``1e+20``);
* int/bool numpy columns: ``astype(str)`` (``True``/``False``); nullable ``Int64``: the int;
* text: as is, quoted (``"`` doubled) when it holds ``,``, ``"`` or ``\\n``.

Anything else (object columns of mixed types, datetimes, a one-column frame whose empty
string pandas would quote) falls back to ``to_csv`` itself, so the output never depends
on which path was taken; tests/test_csv_out.py checks both agree.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from src.utils.io import atomic_path, sha256_file

__all__ = ["frame_to_csv_bytes", "write_frame_csv", "write_frame_csv_atomic"]

_NEEDS_QUOTES = r'[,"\n]'  # csv.writer's QUOTE_MINIMAL triggers for pandas' defaults
_QUOTE = pa.scalar('"', pa.large_string())
_COMMA = pa.scalar(",", pa.large_string())
_NEWLINE = pa.scalar("\n", pa.large_string())
_EMPTY = pa.scalar("", pa.large_string())


def _quote(text: pa.Array) -> pa.Array:
    """Quote the cells of a (large_)string array that csv.writer would quote."""
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise(_QUOTE, doubled, _QUOTE, _EMPTY)
    return pc.if_else(needs, quoted, text)


def _float_text(values: np.ndarray) -> pa.Array:
    """pandas' text of a float64 column: ``astype(str)`` of each distinct value, NaN -> ''.

    Formatting the distinct values only keeps this cheap for low-cardinality columns
    such as ratings (10 distinct values in 1M rows).
    """
    # Distinct bit patterns, not values: 0.0 and -0.0 are equal but written differently.
    bits, inverse = np.unique(np.ascontiguousarray(values).view(np.int64), return_inverse=True)
    uniq = bits.view(np.float64)
    text = uniq.astype(str).astype(object)
    text[np.isnan(uniq)] = ""
    return pa.array(text, type=pa.large_string()).take(pa.array(inverse.ravel()))


def _column_text(s: pd.Series) -> pa.Array | None:
    """Cell texts of one column exactly as ``to_csv`` writes them, or None if unsupported."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype):
        values = s.to_numpy()
        if dtype.kind == "f" and dtype.itemsize == 8:
            return _float_text(values)
        if dtype.kind in "iu":
            return pc.cast(pa.array(values), pa.large_string())
        if dtype.kind == "b":
            return pa.array(np.where(values, "True", "False"), type=pa.large_string())
        return None
    if isinstance(dtype, pd.Int64Dtype):
        return pc.fill_null(pc.cast(pa.array(s.array), pa.large_string()), _EMPTY)
    if isinstance(dtype, pd.StringDtype):
        text = pa.array(s.array, type=pa.large_string())
        return _quote(pc.fill_null(text, _EMPTY))
    return None


def frame_to_csv_bytes(df: pd.DataFrame) -> bytes | None:
    """The bytes ``df.to_csv(index=False)`` would write, or None when a column's dtype is
    not handled here (callers then use ``to_csv``)."""
    if df.shape[1] < 2 or not all(isinstance(c, str) for c in df.columns):
        return None
    header = pa.array(list(df.columns), type=pa.large_string())
    header_line = ",".join(_quote(header).to_pylist()) + "\n"
    if len(df) == 0:
        return header_line.encode()
    cols = []
    for name in df.columns:
        text = _column_text(df[name])
        if text is None:
            return None
        cols.append(text)
    # row = cells joined by ","; then row + "\n" (joining with an empty last piece).
    rows = pc.binary_join_element_wise(*cols, _COMMA)
    lines = pc.binary_join_element_wise(rows, _EMPTY, _NEWLINE)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64,
                            count=len(lines) + 1, offset=lines.offset * 8)
    body = memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])]
    return header_line.encode() + bytes(body)


def write_frame_csv(df: pd.DataFrame, path: str | os.PathLike) -> str:
    """Write ``df`` as CSV (same bytes as ``to_csv(index=False)``) to ``path``.

    In: the frame and the (temp) file to write. Out: the sha256 of the written bytes.
    """
    data = frame_to_csv_bytes(df)
    if data is None:
        df.to_csv(path, index=False)
        return sha256_file(path)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_frame_csv_atomic(df: pd.DataFrame, target: str | os.PathLike) -> Path:
    """:func:`write_frame_csv` through ``src.utils.io.atomic_path``: the fast equivalent of
    ``src.utils.io.write_csv_atomic(df, target)`` (same bytes). Out: ``target``."""
    with atomic_path(target) as tmp:
        write_frame_csv(df, tmp)
    return Path(target)
