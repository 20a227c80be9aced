"""The ``invoke`` command line as users run it (child processes): arguments are validated
before any heavy work with the API's own validators, errors are one line with exit code 2,
interactive commands are quiet by default, and a missing extra names the pip command."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from src.config import USER_COL
from tests.harness.invoke_cli import python_child, run_invoke

# Slow: every check is a real `invoke` child process (~1 s each; 5-10 s per test).
pytestmark = pytest.mark.slow

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (INFO|DEBUG) ", re.M)


def _one_line_error(proc, *needles: str) -> None:
    """Exit 2, no traceback, one non-empty stderr line containing every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_arguments_fail_before_anything_loads(workspace):
    # An empty workspace: had the task loaded anything first, the error would be about the
    # missing catalogue instead of the argument.
    _one_line_error(run_invoke(["recommend", "--user", "abc"], home=workspace.root), "--user", "'abc'")
    _one_line_error(run_invoke(["recommend", "--user", "5", "-n", "0"], home=workspace.root), "-n", "0")
    _one_line_error(run_invoke(["recommend", "--user", "5", "-n", "x"], home=workspace.root), "-n")
    _one_line_error(run_invoke(["recommend"], home=workspace.root), "--user is required")
    _one_line_error(run_invoke(["demo-data", "--seed", "x"], home=workspace.root), "--seed")
    _one_line_error(run_invoke(["demo-data", "--scale", "huge"], home=workspace.root), "--scale")
    _one_line_error(run_invoke(["serve", "--port", "70000"], home=workspace.root), "--port")
    for args in (["data", "--movies", "/no/such.csv"], ["evaluate", "--ratings", "/no/such.csv"],
                 ["train", "--links", "/no/such.csv"], ["update", "--movies", "/no/such.csv"]):
        _one_line_error(run_invoke(args, home=workspace.root), "/no/such.csv: no such file")
    _one_line_error(run_invoke(["update"], home=workspace.root), "either --movies PATH or --inbox")
    _one_line_error(run_invoke(["update", "--inbox", "--credits", "c.csv"], home=workspace.root),
                    "go with --movies")
    assert not any(workspace.raw.iterdir()), "demo-data wrote files despite a bad argument"
    # Valid arguments on the empty workspace reach the next check: a one-line hint.
    _one_line_error(run_invoke(["recommend", "--user", "5"], home=workspace.root), "invoke all")


def test_recommend_accepts_what_the_api_accepts_and_is_quiet_by_default(ws):
    user = int(pd.read_csv(ws.ratings)[USER_COL].value_counts().idxmax())
    proc = run_invoke(["recommend", "--user", str(user), "--genres", "drama, COMEDY", "-n", "4"], home=ws.root)
    assert proc.returncode == 0, proc.stderr
    assert not LOG_LINE.search(proc.stdout + proc.stderr), "INFO logs on an interactive command"
    out = proc.stdout.splitlines()
    assert out[0].startswith(f"Top 4 for user {user} (known user")
    rows = out[2:]
    assert len(rows) == 4 and all(("Drama" in r) or ("Comedy" in r) for r in rows), proc.stdout
    # Unknown genre: the service's own message, one line.
    _one_line_error(run_invoke(["recommend", "--user", str(user), "--genres", "nope"], home=ws.root),
                    "unknown genre 'nope'")
    # -v brings the progress logs back.
    verbose = run_invoke(["recommend", "--user", str(user), "-n", "2", "-v"], home=ws.root)
    assert verbose.returncode == 0 and LOG_LINE.search(verbose.stderr + verbose.stdout)


def test_missing_extra_is_one_line_naming_pip(workspace):
    # src.serving.app without FastAPI: the guard's message, before FastAPI is imported.
    child = python_child("import src.serving.app", block=["fastapi"])
    assert child.returncode != 0
    assert "src.serving.app needs the [serve] extra (missing: fastapi)" in child.stderr
    assert "pip install 'streamrec[serve]'" in child.stderr
    _one_line_error(run_invoke(["serve"], home=workspace.root, block=["fastapi", "gradio"]),
                    "[serve] extra", "fastapi, gradio")
    _one_line_error(run_invoke(["notebooks"], home=workspace.root, block=["nbclient"]),
                    "[notebooks] extra", "nbclient")
    # The core CLI does not need the extra: recommend still validates and answers.
    _one_line_error(run_invoke(["recommend", "--user", "x"], home=workspace.root, block=["fastapi", "gradio"]),
                    "--user")
