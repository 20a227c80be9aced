"""The ETL's fast CSV writer (src.data.csv_out) writes exactly the bytes of pandas' to_csv."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.csv_out import frame_to_csv_bytes, write_frame_csv

# Text that exercises every quoting rule: delimiter, quote, newline, CR, blanks, unicode.
_TEXT = st.one_of(st.none(),
                  st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t|é💡\'')), max_size=8))
_FLOAT = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.5, 4.0, 1e20, 1e-5, 123456789012.0, -0.0]))


def _pandas_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TEXT, _FLOAT, st.integers(-2**63, 2**63 - 1), st.booleans(),
                          st.one_of(st.none(), st.integers(0, 10**12))), max_size=12))
def test_same_bytes_as_to_csv(rows):
    """Text (quoted or not), floats (repr, NaN empty), ints, bools and nullable ints."""
    df = pd.DataFrame({
        "name": pd.Series([r[0] for r in rows], dtype="str"),
        "x": pd.Series([r[1] for r in rows], dtype="float64"),
        "n": pd.Series([r[2] for r in rows], dtype="int64"),
        "flag": pd.Series([r[3] for r in rows], dtype="bool"),
        "tmdbId": pd.Series([r[4] for r in rows], dtype="Int64"),
    })
    assert frame_to_csv_bytes(df) == _pandas_bytes(df)


def test_header_quoting_and_unsupported_fallback(tmp_path):
    """A header needing quotes is quoted; an object column falls back to to_csv itself."""
    df = pd.DataFrame({"a,b": ["x"], 'say "hi"': [1]})
    assert frame_to_csv_bytes(df) == _pandas_bytes(df)
    mixed = pd.DataFrame({"id": [1, 2], "v": pd.Series([1, "a"], dtype=object)})
    assert frame_to_csv_bytes(mixed) is None
    out = tmp_path / "mixed.csv"
    digest = write_frame_csv(mixed, out)
    assert out.read_bytes() == _pandas_bytes(mixed)
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()


def test_write_returns_sha_of_file(tmp_path):
    """The returned sha256 is that of the bytes on disk; empty frames keep their header."""
    df = pd.DataFrame({"id": np.arange(1000), "r": np.tile([0.5, 4.0, np.nan, 3.5], 250)})
    out = tmp_path / "r.csv"
    assert write_frame_csv(df, out) == hashlib.sha256(out.read_bytes()).hexdigest()
    assert out.read_bytes() == _pandas_bytes(df)
    empty = df.iloc[:0]
    assert frame_to_csv_bytes(empty) == _pandas_bytes(empty) == b"id,r\n"
