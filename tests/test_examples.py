"""The template batches in references/examples/ apply cleanly with the real ``invoke update``
command (a child process on a private copy of the trained synthetic workspace)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.harness.invoke_cli import ROOT, run_invoke
from tests.harness.launcher import copy_workspace

EXAMPLES = ROOT / "references" / "examples"

# Slow: two `invoke update` child processes, each rebuilding features (~4 s each).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name, media_type", [("new_movie", "movie"), ("new_series", "series")])
def test_template_batch_applies_cleanly_and_rerun_is_a_noop(synthetic_pipeline, tmp_path, name, media_type):
    ws = copy_workspace(synthetic_pipeline, tmp_path / "ws")
    batch = EXAMPLES / f"{name}.csv"
    # The optional keywords sibling, written here in the documented shape (no data file in git).
    keywords = tmp_path / f"{name}.keywords.csv"
    pd.DataFrame({"id": pd.read_csv(batch)["id"],
                  "keywords": "[{'id': 9990000, 'name': 'island'}, {'id': 9990001, 'name': 'storm'}]"}
                 ).to_csv(keywords, index=False)
    args = ["update", "--movies", str(batch), "--credits", str(EXAMPLES / f"{name}.credits.csv"),
            "--keywords", str(keywords)]
    proc = run_invoke(args, home=ws.root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reports = sorted(ws.updates.glob("*.json"))
    report = json.loads(reports[-1].read_text())
    ids = pd.read_csv(batch)["id"].tolist()
    assert report["status"] == "applied" and report["added"] == len(ids)
    assert report["quarantined"] == {} and report["added_ids"] == ids
    merged = pd.read_csv(ws.merged).set_index("id")
    for tid in ids:
        row = merged.loc[tid]
        assert row["media_type"] == media_type and row["directors"] and row["keywords"]
    again = run_invoke(args, home=ws.root)
    assert again.returncode == 0
    assert json.loads(sorted(ws.updates.glob("*.json"))[-1].read_text())["status"] == "unchanged"
