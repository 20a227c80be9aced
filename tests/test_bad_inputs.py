"""Untrusted catalogue files: every record is output, quarantined with a reason or a counted
duplicate; files that cannot be read are refused with one line (exit 2); a broken file never
replaces a good catalogue (issue 11, references/untrusted_input.md).

Each case writes a real file into tmp_path and runs the real ETL (``make_dataset.main``) or
the real ``invoke`` command in a subprocess (for exit codes and what the operator sees).
"""

from __future__ import annotations

import codecs
import gzip
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from src.config import MAX_CELL_BYTES, Paths
from src.data.catalogue_store import update_lock
from src.data.make_dataset import main as etl_main
from src.data.readers import read_raw_csv
from src.utils.errors import InputFileError, ShrinkRefusedError
from src.utils.io import sha256_file
from tests.harness.catalogue import movies_text, run_invoke, small_catalogue
from tests.update_batches import batch_rows, tmdb_frame

N_BASE = 40


def _movies_text(n: int = N_BASE, start: int = 1) -> str:
    """A tmdb_5000-schema movies CSV of ``n`` valid titles, as text."""
    return movies_text(n, start)


def _lines(n: int = N_BASE) -> list[str]:
    """Header + one line per title (batch_rows' cells hold no line breaks)."""
    lines = _movies_text(n).splitlines()
    assert len(lines) == n + 1
    return lines


invoke = run_invoke


def assert_one_line_refusal(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, no traceback, and a last stderr line naming the task and each needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("invoke "), last
    for needle in needles:
        assert needle in last, (needle, last)
    return last


@pytest.fixture()
def catalogue(workspace: Paths, tmp_path: Path) -> Paths:
    """A workspace whose ETL ran on ``N_BASE`` good titles."""
    return small_catalogue(workspace, tmp_path / "src", N_BASE)


def _etl_file(tmp_path: Path, name: str, data: bytes | str, paths: Paths) -> dict:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return etl_main(movies=path, paths=paths, force=True)["inputs"][name.removesuffix(".gz")]


def _accounted(stats: dict) -> int:
    return stats["rows_out"] + sum(stats["quarantined"].values()) + stats["duplicates_dropped"]


# --- records: explicit header, physical lines, one bad row quarantines only itself ---------

def test_extra_fields_in_first_data_row_quarantine_only_that_row(workspace, tmp_path):
    lines = _lines()
    lines[1] += ",surplus,fields"
    stats = _etl_file(tmp_path, "m.csv", "\n".join(lines) + "\n", workspace)
    assert (stats["rows_in"], stats["rows_out"]) == (N_BASE, N_BASE - 1)
    assert stats["quarantined"] == {"wrong_field_count": 1}
    q = pd.read_csv(workspace.quarantine / "m.csv")
    assert q["_line"].tolist() == [2] and q["raw"].str.endswith("surplus,fields").all()


def test_unterminated_quote_swallows_nothing(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,title\n1,"never closed\n2,b\n3,c\n')
    df, bad = read_raw_csv(path)
    assert df["id"].tolist() == ["2", "3"] and df["_line"].tolist() == [3, 4]
    assert bad[["_line", "reason"]].values.tolist() == [[2, "unterminated_quote"]]
    assert df.attrs["records"] == 3


def test_stray_quote_and_half_written_last_line_are_quarantined(workspace, tmp_path):
    lines = _lines(50)
    lines[20] = lines[20].replace(",", ',"stray,', 1)  # a quote the next quoted cell "closes"
    text = "\n".join(lines) + "\n"
    half = _movies_text(1, start=999).splitlines()[1]
    text += half[: len(half) // 3]  # the writer died mid-line: no newline, too few fields
    stats = _etl_file(tmp_path, "m.csv", text, workspace)
    assert stats["rows_in"] == 51 == _accounted(stats)
    assert stats["rows_out"] == 49
    # The last line stops inside a quoted cell: its quote never closes.
    assert stats["quarantined"] == {"bad_quoting": 1, "unterminated_quote": 1}
    q = pd.read_csv(workspace.quarantine / "m.csv").set_index("reason")
    assert q.loc["bad_quoting", "_line"] == 21 and q.loc["unterminated_quote", "_line"] == 52


def test_full_width_digit_id_quarantines_its_row_alone(workspace, tmp_path):
    frame = tmdb_frame(batch_rows(1, n_movies=N_BASE, seed=1)).astype(str)
    frame.loc[4, "id"] = "０１２"
    stats = _etl_file(tmp_path, "m.csv", frame.to_csv(index=False), workspace)
    assert stats["rows_out"] == N_BASE - 1 and stats["quarantined"] == {"id_not_integer": 1}


def test_over_limit_cell_is_quarantined_and_not_copied(workspace, tmp_path):
    lines = _lines()
    big = "A" * (MAX_CELL_BYTES + 10)
    lines[3] = lines[3].replace("Tagline.", big)
    stats = _etl_file(tmp_path, "m.csv", "\n".join(lines) + "\n", workspace)
    assert stats["rows_out"] == N_BASE - 1 and stats["quarantined"] == {"cell_too_large": 1}
    qfile = workspace.quarantine / "m.csv"
    assert qfile.stat().st_size < 50_000  # an excerpt, not the cell
    assert "cut:" in pd.read_csv(qfile)["raw"].item()


# --- encodings, compression, delimiters -------------------------------------------------

def test_latin1_utf16_gzip_named_csv_and_semicolons_read(workspace, tmp_path):
    text = _movies_text().replace("Tagline.", "Café crème déjà vu")
    expect = pd.read_csv(pd.io.common.StringIO(text), dtype=str)["tagline"].tolist()
    variants = {
        "latin1.csv": text.encode("latin-1"),
        "utf16.csv": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "gz_named.csv": gzip.compress(text.encode()),
    }
    for name, data in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        df, bad = read_raw_csv(path)
        assert len(bad) == 0 and df["tagline"].tolist() == expect, name
    stats = etl_main(movies=tmp_path / "latin1.csv", paths=workspace)["inputs"]["latin1.csv"]
    assert (stats["encoding"], stats["rows_out"]) == ("cp1252", N_BASE)  # said in the report
    semi = tmp_path / "semi.csv"
    pd.read_csv(pd.io.common.StringIO(text), dtype=str).to_csv(semi, sep=";", index=False)
    df, bad = read_raw_csv(semi)
    assert df.attrs["delimiter"] == ";" and len(df) == N_BASE and len(bad) == 0


def test_unreadable_files_are_refused_with_one_line(catalogue, tmp_path):
    before = sha256_file(catalogue.merged)
    whole = gzip.compress(_movies_text().encode())
    cases = {
        "cut.csv.gz": (whole[: len(whole) // 2], "truncated or corrupt gzip"),
        "binary.csv": (bytes(range(256)) * 64, "binary.csv"),
        "empty.csv": (b"", "is empty"),
        "blank.csv": (b"\n\n  \n", "is empty"),
        "noschema.csv": (b"a,b\n1,2\n", "matches no catalogue reader"),
    }
    for name, (data, needle) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputFileError, match=needle):
            etl_main(movies=path, paths=catalogue)
    assert sha256_file(catalogue.merged) == before
    proc = invoke(catalogue.root, "data", "--movies", str(tmp_path / "cut.csv.gz"))
    assert_one_line_refusal(proc, "cut.csv.gz", "truncated")


# --- shrink guard ---------------------------------------------------------------------------

def test_shrinking_rebuilds_are_refused_unless_forced(catalogue, tmp_path):
    before = {p: sha256_file(p) for p in (catalogue.merged, catalogue.etl_report)}
    header_only = tmp_path / "header.csv"
    header_only.write_text(_lines()[0] + "\n")
    all_invalid = tmp_path / "invalid.csv"
    invalid = tmdb_frame(batch_rows(1, n_movies=10, seed=1)).assign(id="not-an-id")
    invalid.to_csv(all_invalid, index=False)
    small = tmp_path / "small.csv"
    small.write_text(_movies_text(N_BASE // 3))
    for path in (header_only, all_invalid, small):
        with pytest.raises(ShrinkRefusedError, match="previous outputs are unchanged"):
            etl_main(movies=path, paths=catalogue)
        assert {p: sha256_file(p) for p in before} == before
    proc = invoke(catalogue.root, "data", "--movies", str(small))
    assert_one_line_refusal(proc, "would leave 13 titles", f"{N_BASE} titles now", "--force")
    assert {p: sha256_file(p) for p in before} == before
    report = etl_main(movies=small, paths=catalogue, force=True)
    assert report["outputs"]["merged"]["rows"] == N_BASE // 3


def test_first_build_with_no_titles_is_refused(workspace, tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text(_lines()[0] + "\n")
    with pytest.raises(ShrinkRefusedError, match="no catalogue yet"):
        etl_main(movies=header_only, paths=workspace)
    assert not workspace.merged.exists()


# --- invoke tasks: one line and exit 2, never a traceback ----------------------------------

@pytest.mark.slow
def test_tasks_on_an_empty_workspace_say_what_to_do(tmp_path):
    home = tmp_path / "empty"
    home.mkdir()
    batch = tmp_path / "x.csv"  # a readable batch: the refusal is about the empty workspace
    batch.write_text(_movies_text(3))
    for args, needle in ((["data"], "invoke demo-data"), (["features"], "invoke data"),
                         (["train"], "ratings"), (["recommend", "--user", "1"], "invoke features"),
                         (["update", "--movies", str(batch)], "invoke data")):
        assert_one_line_refusal(invoke(home, *args), needle)


@pytest.mark.slow
def test_concurrent_update_loser_exits_2(catalogue, tmp_path):
    batch = tmp_path / "b.csv"
    batch.write_text(_movies_text(3, start=5000))
    (catalogue.inbox / "b.csv").write_text(batch.read_text())
    before = sha256_file(catalogue.merged)
    with update_lock(catalogue):
        direct = invoke(catalogue.root, "update", "--movies", str(batch))
        cron = invoke(catalogue.root, "update", "--inbox")
    assert_one_line_refusal(direct, "another update is running")
    assert_one_line_refusal(cron, "another update is running")
    assert sha256_file(catalogue.merged) == before and (catalogue.inbox / "b.csv").exists()


def test_file_size_limits_stop_big_files_and_gzip_bombs(tmp_path):
    from src.data.decode import read_bytes

    plain = tmp_path / "plain.csv"
    plain.write_text("id\n" + "1\n" * 600)
    with pytest.raises(InputFileError, match="over the input limit"):
        read_bytes(plain, limit=1000)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"0" * 1_000_000))  # ~1 KB that inflates to 1 MB
    assert bomb.stat().st_size < 2000
    with pytest.raises(InputFileError, match="decompresses to more than"):
        read_bytes(bomb, limit=100_000)
    assert read_bytes(bomb, limit=2_000_000) == (b"0" * 1_000_000, True)


def test_over_limit_row_of_cells_under_the_cell_limit(tmp_path):
    from src.config import MAX_ROW_BYTES

    cell = "b" * (MAX_ROW_BYTES // 3 + 1)  # each cell fine, the three together too big
    path = tmp_path / "wide.csv"
    path.write_text(f'id,a,b,c\n1,x,y,z\n2,"{cell}","{cell}","{cell}"\n3,x,y,z\n')
    df, bad = read_raw_csv(path)
    assert df["id"].tolist() == ["1", "3"]
    assert bad[["_line", "reason"]].values.tolist() == [[3, "row_too_large"]]
