"""The inbox is untrusted: links are never followed, error files never quote contents, one
file's failure affects only that file, half-written files are not picked up, and odd names
are logged and skipped (issue 11, references/untrusted_input.md).

Every case puts real files (and real symlinks) into a real workspace's inbox, then runs the
real ``update.main(inbox=True)`` and checks the catalogue and the inbox folders.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from src.config import ID_COL, MAX_CELL_BYTES, Paths
from src.features.build_features import main as features_main
from src.pipeline import update as upd
from src.utils.errors import InputFileError
from src.utils.io import sha256_file
from tests.harness.catalogue import movies_text, small_catalogue
from tests.update_batches import batch_rows, tmdb_frame


@pytest.fixture()
def ws(workspace: Paths, tmp_path: Path) -> Paths:
    """A 40-title catalogue with features and an empty inbox."""
    small_catalogue(workspace, tmp_path / "src", 40)
    features_main(paths=workspace)
    workspace.inbox.mkdir(parents=True, exist_ok=True)
    return workspace


def _ids(paths: Paths) -> set[int]:
    return set(pd.read_csv(paths.merged, usecols=[ID_COL])[ID_COL])


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _error_texts(paths: Paths) -> str:
    return "".join(p.read_text() for p in (paths.inbox / "failed").glob("*.error.txt"))


def test_symlinks_are_never_followed(ws, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(movies_text(3, start=500))
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-LINE:/root:/bin/bash\n")
    os.symlink(outside, ws.inbox / "a.csv")                       # link to a valid batch
    (ws.inbox / "b.csv").write_text(movies_text(2, start=600))
    os.symlink(secret, ws.inbox / "b.credits.csv")                # sibling -> "/etc/passwd"
    os.symlink(tmp_path / "missing.csv", ws.inbox / "c.csv")      # dangling
    os.symlink(ws.inbox / "d.csv", ws.inbox / "d.csv")            # loops onto itself
    before = sha256_file(ws.merged)

    out = upd.main(inbox=True, paths=ws)
    assert {b["stem"]: b["status"] for b in out["batches"]} == {
        "a": "failed", "b": "failed", "c": "failed", "d": "failed"}
    assert sha256_file(ws.merged) == before and not (_ids(ws) & {500, 501, 502, 600, 601})
    errors = _error_texts(ws)
    assert "SECRET-LINE" not in errors and "root:x" not in errors
    assert errors.count("symbolic link") == 4
    failed = ws.inbox / "failed"
    links = [p for p in failed.iterdir() if p.is_symlink()]
    assert len(links) == 4  # the links themselves were filed; their targets are untouched
    assert outside.exists() and secret.read_text().startswith("root:x")
    assert _names(ws.inbox) == ["failed"]


def test_error_files_name_the_problem_not_the_contents(ws):
    (ws.inbox / "junk.csv").write_text("PRIVATE-HEADER-A,PRIVATE-HEADER-B\nTOP-SECRET,1\n")
    out = upd.main(inbox=True, paths=ws)
    assert out["batches"][0]["status"] == "failed"
    text = _error_texts(ws)
    assert "junk.csv" in text and "schema" in text
    assert "PRIVATE" not in text and "TOP-SECRET" not in text


def test_a_240_character_name_is_filed_and_later_files_still_run(ws):
    long_stem = "x" * 236  # + ".csv" = 240 characters; + the 27-character prefix > 255
    (ws.inbox / f"{long_stem}.csv").write_text(movies_text(2, start=700))
    (ws.inbox / "zz-later.csv").write_text(movies_text(2, start=800))
    out = upd.main(inbox=True, paths=ws)
    assert [b["status"] for b in out["batches"]] == ["applied", "applied"]
    assert {700, 701, 800, 801} <= _ids(ws)
    processed = _names(ws.inbox / "processed")
    assert len(processed) == 2 and all(len(n.encode()) <= 255 for n in processed)
    assert any(n.endswith("xxxx.csv") for n in processed)
    assert _names(ws.inbox) == ["processed"]


def test_plain_and_gz_beside_each_other_are_both_applied(ws):
    (ws.inbox / "x.csv").write_text(movies_text(2, start=900))
    (ws.inbox / "x.csv.gz").write_bytes(gzip.compress(movies_text(2, start=950).encode()))
    out = upd.main(inbox=True, paths=ws)
    assert [b["status"] for b in out["batches"]] == ["applied", "applied"]
    assert {900, 901, 950, 951} <= _ids(ws)
    assert [n.split("-", 1)[1] for n in _names(ws.inbox / "processed")] == ["x.csv", "x.csv.gz"]


def test_uploads_hidden_and_odd_names_are_logged_and_left(ws, caplog):
    for name in ("big.csv.part", ".hidden.csv", "new\nline.csv"):
        (ws.inbox / name).write_text(movies_text(1, start=990))
    with caplog.at_level(logging.INFO, logger="streamrec"):
        out = upd.main(inbox=True, paths=ws)
    assert out["status"] == "empty"
    assert set(_names(ws.inbox)) == {"big.csv.part", ".hidden.csv", "new\nline.csv"}
    logged = caplog.text
    assert "upload in progress" in logged and "hidden file" in logged
    assert "control characters" in logged and "'new\\nline.csv'" in logged


def test_a_file_still_being_written_waits_for_the_next_run(ws):
    path = ws.inbox / "slow.csv"
    lines = movies_text(20, start=2000).splitlines(keepends=True)
    path.write_text(lines[0] + "".join(lines[1:6]))  # 5 of 20 rows so far

    def writer():
        with open(path, "a") as fh:
            for line in lines[6:]:
                time.sleep(0.15)
                fh.write(line)
                fh.flush()

    t = threading.Thread(target=writer)
    t.start()
    try:
        first = upd.main(inbox=True, paths=ws)  # the writer is busy during the stable check
    finally:
        t.join()
    assert first["status"] == "empty" and path.exists()
    second = upd.main(inbox=True, paths=ws)
    assert second["batches"][0]["added"] == 20
    assert set(range(2000, 2020)) <= _ids(ws)


def test_an_oversized_genres_cell_in_an_update_is_quarantined(ws, tmp_path):
    frame = tmdb_frame(batch_rows(3000, n_movies=3, seed=3))
    frame.loc[1, "genres"] = '[{"id": 1, "name": "' + "G" * (MAX_CELL_BYTES + 1) + '"}]'
    batch = tmp_path / "big.csv"
    frame.to_csv(batch, index=False)
    rep = upd.main(movies=batch, paths=ws)
    assert rep["added"] == 2 and rep["quarantined"] == {"cell_too_large": 1}
    table = pq.read_table(ws.features)  # what serve/recommend load still reads back
    assert 3001 not in set(table.column("id").to_pylist())
    assert ws.features.stat().st_size < 5_000_000


def test_a_planted_processed_link_or_file_stops_the_run_before_any_move(ws, tmp_path):
    from tests.harness.catalogue import run_invoke

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws.inbox / "a.csv").write_text(movies_text(2, start=4000))
    os.symlink(elsewhere, ws.inbox / "processed")
    proc = run_invoke(ws.root, "update", "--inbox")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is a symbolic link" in proc.stderr.strip().splitlines()[-1]
    assert list(elsewhere.iterdir()) == [] and (ws.inbox / "a.csv").exists()
    (ws.inbox / "processed").unlink()
    (ws.inbox / "failed").write_text("a file, not a folder")
    with pytest.raises(InputFileError, match="failed is not a folder"):
        upd.main(inbox=True, paths=ws)
    assert (ws.inbox / "a.csv").exists() and not (_ids(ws) & {4000, 4001})
