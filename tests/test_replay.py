"""Updates that last: applied batches are kept and replayed by `invoke data`; `--out-dir`
writes every output elsewhere (real TMDB 5000 + a real Netflix snapshot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from src.config import Paths
from src.data.availability import read_availability
from src.pipeline.replay import applied_batches, rebuild
from src.pipeline.update import main as update_main
from src.utils.io import sha256_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "references" / "examples" / "platform_snapshot.csv"


@pytest.fixture()
def raw_ws(tmp_path, shared_data) -> Paths:
    """A workspace with TMDB 5000 + links in data/raw, built once with `invoke data`."""
    ws = Paths.from_root(tmp_path / "ws").ensure()
    for name in ("tmdb_5000_movies.csv.gz", "links_small.csv.gz"):
        (ws.raw / name).write_bytes((shared_data / name).read_bytes())
    rebuild(paths=ws)
    return ws


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative names)."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_update_then_invoke_data_keeps_titles_and_availability(raw_ws, tmp_path):
    ws = raw_ws
    mini = tmp_path / "mini.csv"
    mini.write_text("id,title,genres\n950001,A Kept Film,Drama\n")
    update_main(movies=mini, paths=ws)
    rep = update_main(movies=EXAMPLE, platform="hbo", as_of="2024-01-31", paths=ws)
    assert rep["status"] == "applied"
    kept = applied_batches(ws)
    assert [spec["platform"] for _, spec in kept] == [None, "hbo"]
    folder = kept[1][0]
    assert (folder / "movies-platform_snapshot.csv").read_bytes() == EXAMPLE.read_bytes()
    assert json.loads((folder / "report.json").read_text())["arrived"] == 4
    before = {"merged": pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index("id"),
              "avail": read_availability(ws.availability)}

    env = {"STREAMREC_HOME": str(ws.root), "PATH": str(Path(sys.executable).parent),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "invoke", "data"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    merged = pd.read_csv(ws.merged, dtype=str, keep_default_na=False).set_index("id")
    assert merged.loc["950001", "title"] == "A Kept Film"
    assert merged.loc["103", "platforms"] == "hbo"
    pd.testing.assert_frame_equal(merged.sort_index(), before["merged"].sort_index())
    pd.testing.assert_frame_equal(read_availability(ws.availability), before["avail"])
    assert len(applied_batches(ws)) == 2  # a replay records nothing new


@pytest.mark.slow
def test_out_dir_receives_every_output(raw_ws, tmp_path):
    ws = raw_ws
    update_main(movies=EXAMPLE, platform="hbo", as_of="2024-01-31", paths=ws)
    before = _tree(ws.data)
    out = tmp_path / "elsewhere"
    rebuild(out_dir=out, paths=ws)
    assert _tree(ws.data) == before  # the source workspace is only read
    target = Paths.from_root(out)
    assert target.merged.is_file() and (target.interim / "genres.csv").is_file()
    assert target.quarantine.is_dir() and target.title_sources.is_file()
    avail = read_availability(target.availability)
    assert (avail["platform"] == "hbo").sum() == 4  # the kept batch was replayed there
    same = pd.read_csv(ws.merged, dtype=str).set_index("id").sort_index()
    pd.testing.assert_frame_equal(pd.read_csv(target.merged, dtype=str).set_index("id").sort_index(), same)
