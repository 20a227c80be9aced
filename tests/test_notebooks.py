"""Notebooks: every committed notebook executes headlessly on the small synthetic workspace and
exports HTML; a failing cell is reported with notebook and cell; the committed files carry no
outputs and follow the conventions (autoreload first, a parameters cell, narrative markdown).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from src.config import Paths
from src.pipeline.notebooks import (
    NOTEBOOKS_DIR,
    NotebookExecutionError,
    inject_parameters,
    list_notebooks,
    main,
)

EXPECTED = ["1.0-etl-flatten-merge", "2.0-eda-genres-score", "3.0-train-svd",
            "4.0-evaluate-models", "5.0-recommend-demo"]


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_committed_notebooks_are_clean_and_conventional():
    books = list_notebooks()
    assert [p.stem for p in books] == EXPECTED
    for path in books:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[0].source.startswith("%load_ext autoreload\n%autoreload 2"), path.name
        assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1, path.name
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 3, path.name
        assert any("from src." in c.source for c in code), path.name
        assert all(c.outputs == [] and c.execution_count is None for c in code), f"{path.name} has outputs"
        assert "def " not in "".join(c.source for c in code), f"{path.name} defines logic src lacks"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow  # executes notebooks in Jupyter kernels (5-35 s)
def test_every_notebook_runs_on_the_synthetic_workspace(synthetic_pipeline, tmp_path):
    # A private copy: the session workspace is shared with other tests.
    ws = Paths.from_root(shutil.copytree(synthetic_pipeline.root, tmp_path / "ws"))
    before = _digest(list_notebooks())
    # After an update (a real catalogue change), the notebooks must not undo or redo it.
    from src.pipeline.update import main as update_main

    batch = tmp_path / "mini.csv"
    batch.write_text("id,title,genres\n950001,A Notebook-Proof Film,Drama\n")
    update_main(movies=batch, paths=ws)
    data_before, models_before = _tree(ws.data), _tree(ws.models)
    html = main(paths=ws, parameters={"4.0-evaluate-models": {"n_splits": 2, "tune": False}})
    assert [p.name for p in html] == [f"{n}.html" for n in EXPECTED]
    for p in html:
        text = p.read_text()
        assert p.parent == ws.reports and len(text) > 10_000
        # STREAMREC_HOME reached the kernel: a temporary copy, never the workspace itself.
        assert "workspace: " in text and f"workspace: {ws.root}" not in text
        assert "Traceback" not in text
        # The export says what data it shows (the synthetic demo here), before any cell.
        banner = text.find("Data: synthetic demo data")
        assert text.find("<body") < banner < text.find('class="jp-Cell jp-CodeCell'), p.name
    assert _tree(ws.data) == data_before and _tree(ws.models) == models_before
    assert _digest(list_notebooks()) == before              # sources never get outputs written back


@pytest.mark.slow  # executes notebooks in Jupyter kernels (5-35 s)
def test_failing_cell_names_notebook_and_cell(workspace, tmp_path):
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# broken"),
        nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("assert x == 2, f'x is {x}'"),
    ])
    nbformat.write(nb, nb_dir / "broken.ipynb")
    with pytest.raises(NotebookExecutionError) as info:
        main(paths=workspace, notebooks_dir=nb_dir, timeout=120)
    err = info.value
    assert (err.notebook, err.cell_index) == ("broken.ipynb", 3)
    assert "AssertionError" in str(err) and "x is 1" in str(err)
    assert not (workspace.reports / "broken.html").exists()
    # the injected parameter fixes it, and the kernel runs this very interpreter's environment
    out = main(paths=workspace, notebooks_dir=nb_dir, timeout=120, parameters={"broken": {"x": 2}})
    assert sys.prefix in out[0].read_text()


def test_parameter_injection_rejects_code_and_unknowns(tmp_path):
    nb = nbformat.read(NOTEBOOKS_DIR / "5.0-recommend-demo.ipynb", as_version=4)
    n = len(nb.cells)
    inject_parameters(nb, {"n": 3, "genres": ["Drama"]})
    assert len(nb.cells) == n + 1
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert injected.source.splitlines()[1:] == ["n = 3", "genres = ['Drama']"]
    with pytest.raises(ValueError, match="only str/int"):
        inject_parameters(nb, {"n": object()})
    with pytest.raises(ValueError, match="identifier"):
        inject_parameters(nb, {"n; import os": 1})
    with pytest.raises(ValueError, match="no cell tagged"):
        inject_parameters(nbformat.v4.new_notebook(), {"n": 1})
    with pytest.raises(ValueError, match="unknown notebook"):
        list_notebooks(names=["9.9-nope"])
