"""Tests of the nested-cell parser: real Kaggle cells, tricky strings, code that must not
run, and hypothesis fuzzing (only ParseError ever escapes; literals round-trip)."""

from __future__ import annotations

import ast
import json
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.data.nested import ParseError, parse_many, parse_nested


def test_real_credits_cells_match_literal_eval(shared_data):
    """Every cast/crew cell of the real credits sample parses exactly like ast.literal_eval."""
    credits = pd.read_csv(shared_data / "credits_sample.csv.gz", dtype=str)
    cells = list(credits["cast"]) + list(credits["crew"])
    assert len(cells) == 70
    for cell in cells:
        assert parse_nested(cell) == ast.literal_eval(cell)


def test_real_json_cells_match_json(shared_data):
    """TMDB 5000 JSON cells (genres, keywords) parse like json.loads."""
    movies = pd.read_csv(shared_data / "tmdb_5000_movies.csv.gz", dtype=str, nrows=300)
    for cell in list(movies["genres"]) + list(movies["keywords"]):
        assert parse_nested(cell) == json.loads(cell)


@pytest.mark.parametrize("cell, expected", [
    ("[{'id': 16, 'name': 'Animation'}]", [{"id": 16, "name": "Animation"}]),
    ('[{"id": 1, "name": "O\'Brien"}]', [{"id": 1, "name": "O'Brien"}]),
    ("""['say "hi"', "O'Brien", 'a\\'b"c', None, True, False, -1.5e-05, {}]""",
     ['say "hi"', "O'Brien", 'a\'b"c', None, True, False, -1.5e-05, {}]),
    ("{'a': None, 'b': 'None of True \\x41\\u00e9\\N{BULLET}\\t'}",
     {"a": None, "b": "None of True A\u00e9\u2022\t"}),
    ("['back\\\\slash', '\\u0027\"']", ["back\\slash", "'\""]),
    ("{'id': 10194, 'name': 'Toy Story Collection', 'poster_path': None}",
     {"id": 10194, "name": "Toy Story Collection", "poster_path": None}),
    ("[]", []),
    ("  [1, 2.5, -3]  ", [1, 2.5, -3]),
])
def test_python_literals(cell, expected):
    """Python literals with every quoting/escape style parse to the right objects."""
    assert parse_nested(cell) == expected


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan"), pd.NA])
def test_missing_cells_are_none(cell):
    """Missing cells are None, not an error."""
    assert parse_nested(cell) is None


@pytest.mark.parametrize("cell, reason_part", [
    ("__import__('os').system('touch /tmp/pwned_streamrec')", "unexpected"),
    ("[f(1)]", "unexpected 'f'"),
    ("[{'a': open('x')}]", "unexpected"),
    ("(1, 2)", "unexpected '('"),
    ("{1, 2}", "not a literal"),
    ("{1: 'a'}", "not a literal"),
    ("['abc", "unterminated"),
    ("[1,]", "not a literal"),
    ("[NaN]", "unexpected"),
    ("[1j]", "unexpected 'j'"),
    ("b'bytes'", "unexpected 'b'"),
    ("[1] + [2]", "not a literal"),
    ("lambda: 0", "unexpected"),
])
def test_bad_cells_raise_parse_error(cell, reason_part, tmp_path):
    """Code and non-literals fail with a ParseError that says why; nothing executes."""
    with pytest.raises(ParseError) as info:
        parse_nested(cell)
    assert reason_part in info.value.reason
    assert isinstance(info.value, ValueError)


def test_code_cell_does_not_execute(tmp_path, monkeypatch):
    """A cell that would create a file if evaluated leaves no file behind."""
    target = tmp_path / "pwned"
    cell = f"__import__('pathlib').Path({str(target)!r}).touch()"
    with pytest.raises(ParseError):
        parse_nested(cell)
    assert not target.exists()


def test_json_nan_constant_refused():
    """JSON's NaN/Infinity extensions are not literals."""
    with pytest.raises(ParseError):
        parse_nested('[{"a": NaN}]')


def test_deep_nesting_is_a_parse_error():
    """Absurd nesting fails cleanly instead of crashing the interpreter."""
    with pytest.raises(ParseError):
        parse_nested("[" * 100_000 + "]" * 100_000)


def test_parse_many_collects_errors():
    """parse_many returns values in order and the reason of every failed position."""
    values, errors = parse_many(["[1]", "[f(1)]", None, "{'a': 'b'}"])
    assert values == [[1], None, None, {"a": "b"}]
    assert list(errors) == [1] and "unexpected" in errors[1]


# --- fuzzing ------------------------------------------------------------------------------
_scalars = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | st.text())
_literals = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=25,
)


def _same(a, b) -> bool:
    """Equality that also checks types (1 vs 1.0 vs True) and float signs."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_literals)
def test_roundtrip_python_repr(value):
    """parse(repr(x)) == x for every JSON-compatible Python literal."""
    assert _same(parse_nested(repr(value)), value)


@settings(max_examples=200, deadline=None)
@given(_literals, st.booleans())
def test_roundtrip_json(value, ascii_only):
    """parse(json.dumps(x)) == x."""
    assert _same(parse_nested(json.dumps(value, ensure_ascii=ascii_only)), value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]{}:,'\"\\ aNTFonerulx0123456789.-e()_")),
               max_size=60) | st.text(max_size=60))
def test_fuzz_only_parse_error(text):
    """Arbitrary text parses or raises ParseError; when Python accepts it as a plain
    literal, the results agree."""
    try:
        got = parse_nested(text)
    except ParseError:
        return
    try:
        expected = ast.literal_eval(text.strip())
    except Exception:  # noqa: BLE001 - literal_eval raises many types; JSON-only forms are fine
        return
    if text.strip():
        assert _same(got, expected)


def _per_cell(cells):
    """Reference for parse_many: parse_nested cell by cell, errors by position."""
    values, errors = [], {}
    for i, cell in enumerate(cells):
        try:
            values.append(parse_nested(cell))
        except ParseError as exc:
            values.append(None)
            errors[i] = exc.reason
    return values, errors


# Python-repr-like text built from the pieces the quick path of parse_many rewrites with
# plain str methods: quotes of both kinds, keywords in and out of strings, JSON keywords.
_quick_alphabet = st.sampled_from(
    ["'", '"', "None", "True", "False", "null", "true", ": ", ", ", "[", "]", "{", "}",
     "1", "a", "O'B", 'say "x"', "\n", "\t", "\\", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_quick_alphabet, max_size=14).map("".join)
                | _literals.map(repr) | _literals.map(json.dumps), max_size=8))
def test_parse_many_equals_parse_nested(cells):
    """The quick path of parse_many gives exactly parse_nested's values and reasons, also
    on adversarial cells (keywords inside strings, a double quote inside a single-quoted
    string, JSON keywords written as Python)."""
    got = parse_many(cells)
    assert got[1] == _per_cell(cells)[1]
    assert len(got[0]) == len(cells) and all(
        _same(a, b) for a, b in zip(got[0], _per_cell(cells)[0]))


def test_parse_many_keyword_inside_string_is_text():
    """'None' inside a string stays text; a double quote inside a single-quoted string
    does not confuse the quick path (it must not read ['x", "y'] as two strings)."""
    cells = ["[{'a': 'None: None, True'}]", "['x\", \"y']", "[{'n': \"O'Brien\", 'p': None}]"]
    values, errors = parse_many(cells)
    assert not errors
    assert values == [[{"a": "None: None, True"}], ['x", "y'], [{"n": "O'Brien", "p": None}]]
