"""The docs say what the code does: the README's two fresh-machine commands (and CI running the
test one verbatim), the sha256 of the real files the ETL was tested on, and every module path,
dotted name and ``invoke`` task named in README.md, install.md and references/*.md exists."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from src.utils.io import sha256_file
from tests.harness.repo_facts import tasks as repo_tasks

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = [ROOT / "README.md", ROOT / "install.md", *sorted((ROOT / "references").glob("*.md"))]
SETUP = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'


def _top_commands() -> list[str]:
    """The bash blocks before the README's first ``##`` section."""
    top = README.split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", top, re.S)]


def test_readme_top_has_exactly_the_two_fresh_machine_commands():
    cmds = _top_commands()
    assert cmds == [f"{SETUP} && invoke all", f"{SETUP} && invoke test"], cmds


def test_ci_runs_the_readme_test_command_verbatim_and_nothing_else():
    run = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in run
    lines = [ln.strip() for ln in run.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    # Only the shell's own set-up and the README command: CI does nothing a newcomer's paste doesn't.
    assert lines == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', _top_commands()[1]], lines


def test_real_data_hashes_in_readme_match_the_files(shared_data):
    section = README.split("## Using the real data", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| ([\d,]+) \| `([0-9a-f]{64})` \|$", section, re.M)
    assert len(rows) >= 5, section
    for name, n_rows, digest in rows:
        path = shared_data / name
        assert sha256_file(path) == digest, f"{name}: README sha256 is stale"
        assert len(pd.read_csv(path, dtype=str, usecols=[0])) == int(n_rows.replace(",", "")), name


def _module_exists(dotted: str) -> bool:
    """``src.a.b`` (or ``src.a.b.attr``): some prefix is a module or package, and the rest, if
    any, is a name that module defines or imports (a function, class, constant)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:i])
        for f in (base.with_suffix(".py"), base / "__init__.py"):
            if f.exists():
                rest = parts[i:]
                if not rest:
                    return True
                if rest[0] == "py":  # "src.config.py" style typo is not a module
                    return False
                text = f.read_text()
                if re.search(rf"(def|class) {rest[0]}\b|^{rest[0]}\s*[:=]|\b{rest[0]}\b.*import|import.*\b{rest[0]}\b",
                             text, re.M):
                    return True
                if f.name == "__init__.py" and "import *" in text:  # config re-exports its modules
                    return any(re.search(rf"^{rest[0]}\s*[:=]|(def|class) {rest[0]}\b", m.read_text(), re.M)
                               for m in f.parent.glob("*.py"))
                return False
    return False


def test_every_module_path_and_task_named_in_the_docs_exists():
    tasks = set(repo_tasks())
    missing = []
    for doc in DOCS:
        text = doc.read_text()
        for path in set(re.findall(r"\b((?:src|tests|bench|notebooks|references)/[\w./{}-]*\w)", text)):
            if "{" in path or "*" in path:
                continue
            # notebooks are named without their extension in prose ("notebooks/1.0-etl-flatten-merge")
            if not (ROOT / path).exists() and not (ROOT / f"{path}.ipynb").exists():
                missing.append(f"{doc.name}: path {path}")
        for dotted in set(re.findall(r"\b(src(?:\.\w+)+)", text)):
            if not _module_exists(dotted):
                missing.append(f"{doc.name}: module {dotted}")
        for name in set(re.findall(r"`invoke ([a-z][\w-]*)", text)):
            if name not in tasks:
                missing.append(f"{doc.name}: task invoke {name}")
    assert not missing, "docs name things that do not exist:\n" + "\n".join(sorted(missing))
