"""Execute the notebooks headlessly and export them as HTML to ``reports/`` (``invoke notebooks``).

Each notebook runs in a fresh ``python3`` kernel (the venv's own kernelspec under
``sys.prefix/share/jupyter/kernels``; jupyter_client swaps its ``python`` for this interpreter)
with ``STREAMREC_HOME`` set to a temporary copy of the workspace (``data/``, ``models/``,
``reports/``), so ``src.config.PATHS`` inside the notebook sees the caller's catalogue and
model, but the notebooks' own ETL/training/evaluation cells never rewrite the workspace
they document (``in_place=True`` runs them on the workspace itself). The committed
``.ipynb`` files are never modified: outputs only go to the HTML copies, written to the
workspace's ``reports/``. A failing cell raises :class:`NotebookExecutionError`
naming the notebook and the cell.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator
from typing import Any, Mapping, Sequence

from src.config import EXTRA_MODULES
from src.utils.extras import require_extra

# Before the Jupyter imports: without the extra, one line naming the pip command.
require_extra("notebooks", EXTRA_MODULES["notebooks"], "src.pipeline.notebooks")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from src.config import PATHS, Paths  # noqa: E402
from src.data.provenance import markdown as provenance_markdown  # noqa: E402
from src.data.provenance import workspace_provenance  # noqa: E402
from src.utils.io import write_text_atomic  # noqa: E402
from src.utils.logging import get_logger, setup_logging, timed  # noqa: E402

log = get_logger(__name__)

# The notebooks ship with the code (repo/notebooks), not with a data workspace.
NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "python3"
PARAMETERS_TAG = "parameters"
_LITERAL_TYPES = (bool, int, float, str, type(None))


class NotebookExecutionError(RuntimeError):
    """A notebook cell failed; carries ``notebook``, ``cell_index`` and the kernel's error."""

    def __init__(self, notebook: str, cell_index: int | None, error: str):
        self.notebook, self.cell_index, self.error = notebook, cell_index, error
        where = f"cell {cell_index}" if cell_index is not None else "an unknown cell"
        super().__init__(f"notebook {notebook} failed at {where}: {error}")


def list_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR, names: Sequence[str] | None = None) -> list[Path]:
    """The ``.ipynb`` files to run, sorted; ``names`` (stems or file names) picks some.

    ValueError names any requested notebook that does not exist.
    """
    available = {p.stem: p for p in sorted(Path(notebooks_dir).glob("*.ipynb"))}
    if names is None:
        return list(available.values())
    wanted = [n.removesuffix(".ipynb") for n in names]
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ValueError(f"names: unknown notebook(s) {unknown}; have {sorted(available)}")
    return [available[n] for n in wanted]


def _literal(value: Any, name: str) -> str:
    """Python source for a parameter value; only plain literals (no code) are accepted."""
    def ok(v: Any) -> bool:
        if isinstance(v, (list, tuple)):
            return all(ok(x) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and ok(x) for k, x in v.items())
        return isinstance(v, _LITERAL_TYPES)

    if not ok(value):
        raise ValueError(f"parameter {name!r}: only str/int/float/bool/None and lists/dicts of them")
    return repr(value)


def inject_parameters(nb: nbformat.NotebookNode, params: Mapping[str, Any]) -> nbformat.NotebookNode:
    """Insert a cell assigning ``params`` right after the cell tagged ``parameters``.

    In: a notebook and {variable: literal value}. Out: the same notebook object, modified
    (the caller works on a copy read from disk). ValueError if there is no parameters cell
    or a name is not an identifier.
    """
    if not params:
        return nb
    idx = next((i for i, c in enumerate(nb.cells)
                if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])), None)
    if idx is None:
        raise ValueError("parameters: notebook has no cell tagged 'parameters'")
    lines = ["# Injected parameters"]
    for key, value in params.items():
        if not str(key).isidentifier():
            raise ValueError(f"parameter name {key!r} is not a Python identifier")
        lines.append(f"{key} = {_literal(value, key)}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(idx + 1, cell)
    return nb


def _failed_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell whose outputs hold an error, or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


def execute_notebook(path: Path, paths: Paths, timeout: int = 600,
                     params: Mapping[str, Any] | None = None) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel pointed at ``paths``; return the executed copy.

    In: the .ipynb path, the workspace, per-cell timeout in seconds, optional parameters.
    Out: the executed notebook (the file on disk is untouched). Raises
    NotebookExecutionError with the notebook name and failing cell index.
    """
    nb = inject_parameters(nbformat.read(path, as_version=4), params or {})
    env = {**os.environ, "STREAMREC_HOME": str(paths.root)}
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        detail = f"{exc.ename}: {exc.evalue}" if getattr(exc, "ename", None) else str(exc)
        raise NotebookExecutionError(path.name, _failed_cell(nb), detail) from exc
    except TimeoutError as exc:  # nbclient raises a TimeoutError subclass for slow cells
        raise NotebookExecutionError(path.name, _running_cell(nb), f"timed out after {timeout}s") from exc
    return nb


def _running_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell without an execution count (the one that was running)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count") is None:
            return i
    return None


def export_html(nb: nbformat.NotebookNode, target: Path, provenance: Mapping | None = None) -> Path:
    """Render an executed notebook to standalone HTML at ``target`` (atomic write).

    With ``provenance`` (:func:`src.data.provenance.workspace_provenance`), the export opens
    with its "Data: …" block, so an HTML copy read on its own still says whether its numbers
    come from the synthetic demo or from real files (the ``.ipynb`` is not changed)."""
    if provenance is not None:
        nb = nbformat.from_dict(nb)   # a copy: the banner goes into the export only
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(provenance_markdown(provenance)))
    body, _ = HTMLExporter().from_notebook_node(nb)
    return write_text_atomic(body, target)


@contextlib.contextmanager
def workspace_copy(paths: Paths) -> Iterator[Paths]:
    """A throw-away copy of the workspace's ``data/``, ``models/`` and ``reports/`` (removed
    on exit), for notebooks to run against without changing the original."""
    with tempfile.TemporaryDirectory(prefix="streamrec-notebooks-") as tmp:
        copy = Paths.from_root(tmp)
        for name in ("data", "models", "reports"):
            src = paths.root / name
            if src.is_dir():
                # Update staging/lock files are transient and may vanish while copying.
                shutil.copytree(src, copy.root / name, symlinks=True,
                                ignore=shutil.ignore_patterns(".update-*", "*.lock"))
        log.info("notebooks run on a copy of %s at %s", paths.root, copy.root)
        yield copy.ensure()


def main(paths: Paths = PATHS, names: Sequence[str] | None = None, timeout: int = 600,
         notebooks_dir: Path = NOTEBOOKS_DIR,
         parameters: Mapping[str, Mapping[str, Any]] | None = None,
         in_place: bool = False) -> list[Path]:
    """Execute notebooks against (a copy of) the workspace ``paths``; export each to
    ``paths.reports``.

    In: workspace, optional notebook names (default all), per-cell timeout, the folder of the
    notebooks, optional parameters per notebook stem (injected after its ``parameters`` cell),
    ``in_place`` to run on the workspace itself instead of a temporary copy.
    Out: the HTML paths, in notebook order. Stops at the first failing notebook with
    NotebookExecutionError (notebook + cell).
    """
    setup_logging()
    books = list_notebooks(notebooks_dir, names)
    unknown = set(parameters or {}) - {p.stem for p in books}
    if unknown:
        raise ValueError(f"parameters: given for notebook(s) not being run: {sorted(unknown)}")
    paths.reports.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    provenance = workspace_provenance(paths)
    with (contextlib.nullcontext(paths) if in_place else workspace_copy(paths)) as run_on:
        for path in tqdm(books, desc="notebooks", unit="nb"):
            with timed(log, f"notebook {path.name}"):
                nb = execute_notebook(path, run_on, timeout, (parameters or {}).get(path.stem))
                written.append(export_html(nb, paths.reports / f"{path.stem}.html", provenance))
    log.info("executed %d notebook(s); HTML in %s", len(written), paths.reports)
    return written


if __name__ == "__main__":  # pragma: no cover - `invoke notebooks` is the entry point
    main()
