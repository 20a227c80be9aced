"""The reader's three paths (verified scan + pandas, quote-free lines, careful ``csv``
module) give the same records for the same text, and irregular text never takes a fast one.

Real text: tricky but regular CSV written here, and the real shared catalogue files.
"""

from __future__ import annotations

import pytest

import src.data.csv_records as cr
from src.config import SHARED_DATA_DIR
from src.data.decode import read_text


def _both(text: str, monkeypatch) -> tuple[cr.CsvRecords, cr.CsvRecords]:
    fast = cr.split_records(text, "t.csv")
    with monkeypatch.context() as m:
        m.setattr(cr, "scan_verified", lambda *a, **k: None)  # force the careful path
        careful = cr.split_records(text, "t.csv")
    return fast, careful


def _same(a: cr.CsvRecords, b: cr.CsvRecords) -> bool:
    return (a.to_frame().equals(b.to_frame()) and a.bad == b.bad and a.header == b.header
            and (a.physical_lines, a.blank_lines) == (b.physical_lines, b.blank_lines))


REGULAR = ('id,title,cast\r\n'
           '1,"Line one\r\nline two","[{\'name\': \'O""Brien\'}]"\r\n'
           '\r\n'
           '2,"",plain\r\n'
           '3,"a, b and c","""quoted"""\r\n'
           '4,last,no newline')


def test_regular_quoted_text_takes_the_verified_scan_and_matches(monkeypatch):
    fast, careful = _both(REGULAR, monkeypatch)
    assert fast.frame is not None and careful.frame is None
    assert _same(fast, careful)
    df = fast.to_frame()
    assert df["_line"].tolist() == [2, 5, 6, 7]
    assert df.loc[0, "title"] == "Line one\r\nline two" and df.loc[2, "cast"] == '"quoted"'
    assert df["title"].isna().tolist() == [False, True, False, False]
    assert (fast.physical_lines, fast.blank_lines) == (7, 1)


@pytest.mark.parametrize("bad_line, reason", [
    ('5,"a"b,c', "bad_quoting"),
    ('5,"never closed,c', "unterminated_quote"),
    ('5,too,many,fields', "wrong_field_count"),
])
def test_irregular_text_falls_back_and_quarantines_one_line(monkeypatch, bad_line, reason):
    text = REGULAR + "\r\n" + bad_line + "\r\n6,after,it\r\n"
    fast, careful = _both(text, monkeypatch)
    assert fast.frame is None and _same(fast, careful)
    assert [(line, r) for line, _, r in fast.bad] == [(8, reason)]
    assert fast.to_frame()["id"].tolist()[-1] == "6"


@pytest.mark.parametrize("name", ["tmdb_5000_movies.csv.gz", "credits_sample.csv.gz",
                                  "links_small.csv.gz"])
def test_real_files_read_the_same_on_every_path(monkeypatch, name):
    text = read_text(SHARED_DATA_DIR / name).text
    fast, careful = _both(text, monkeypatch)
    assert _same(fast, careful) and fast.records == careful.records > 0


def test_many_broken_lines_stay_linear():
    import time

    lines = ["id,a,b\n"] + [f'{i},"x"y,z\n' for i in range(20_000)]
    t0 = time.perf_counter()
    recs = cr.split_records("".join(lines), "t.csv")
    assert len(recs.bad) == 20_000 and {r for _, _, r in recs.bad} == {"bad_quoting"}
    assert time.perf_counter() - t0 < 5  # quadratic resumes took minutes
