"""Layers import one way: utils <- config <- data <- features <- models <- {evaluation, serving,
visualization} <- pipeline (orchestration) <- tasks.py.

Every ``import`` in ``src`` and ``tasks.py`` is parsed, including those inside functions
(a lazy import is still a dependency), and each must point to the same or a lower layer.
The three peers of the fifth layer may not import each other either: evaluation draws no
figures, serving does not run evaluations. Test and benchmark harnesses live outside ``src``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package (first part after ``src.``) -> layer; peers share a number.
LAYERS = {
    "utils": 0,
    "config": 1,
    "data": 2,
    "features": 3,
    "models": 4,
    "evaluation": 5,
    "serving": 5,
    "visualization": 5,
    "pipeline": 6,
}
TASKS_LAYER = 7


def _package(module: str) -> str | None:
    """``src.data.clean`` -> ``data``; None for modules outside ``src``."""
    parts = module.split(".")
    if parts[0] != "src":
        return None
    return parts[1] if len(parts) > 1 else ""


def _imports(text: str, rel: Path) -> list[tuple[int, str]]:
    """Every imported module name in a file's ``text`` as (line, dotted name); ``rel`` is its
    path from the repo root (relative imports are resolved against it)."""
    tree = ast.parse(text, filename=str(rel))
    here = list(rel.with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            # ``from src import data`` / ``from src.data import update`` name sub-modules too
            found += [(node.lineno, f"{mod}.{a.name}") for a in node.names if a.name != "*"]
    return found


def _layer_of(rel: Path) -> tuple[str, int]:
    if rel == Path("tasks.py"):
        return "tasks", TASKS_LAYER
    pkg = rel.parts[1] if len(rel.parts) > 2 else ""
    return pkg, LAYERS.get(pkg, -1)


def _sources() -> list[Path]:
    return sorted((ROOT / "src").rglob("*.py")) + [ROOT / "tasks.py"]


def test_every_src_package_has_a_layer():
    packages = {p.name for p in (ROOT / "src").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), f"packages without a layer: {sorted(packages - set(LAYERS))}"


def _violations(text: str, rel: Path) -> list[str]:
    """The imports of one file that point up or sideways, as readable lines."""
    pkg, layer = _layer_of(rel)
    bad = []
    for line, mod in _imports(text, rel):
        target = _package(mod)
        if target is None or target == "" or target == pkg:
            continue
        if target not in LAYERS:
            # a name imported from a package __init__ (``from src.data import x``) that is
            # not a sub-package is fine; an unknown top-level package is not
            if (ROOT / "src" / target).is_dir() or (ROOT / "src" / f"{target}.py").exists():
                bad.append(f"line {line}: {mod} (package without a layer)")
            continue
        t_layer = LAYERS[target]
        if t_layer > layer or (t_layer == layer and target != pkg):
            bad.append(f"line {line}: {mod} ({target}, layer {t_layer}) from {pkg} (layer {layer})")
    return bad


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path):
    rel = path.relative_to(ROOT)
    bad = _violations(path.read_text(), rel)
    assert not bad, f"{rel} imports against the layer direction:\n" + "\n".join(bad)


def test_harnesses_live_outside_src():
    """Test/benchmark harnesses (server launcher, benchmark recorder) are not product code."""
    names = {p.name for p in (ROOT / "src").rglob("*.py")}
    assert not names & {"launcher.py", "bench.py"}
    assert (ROOT / "tests" / "harness" / "launcher.py").exists()
    assert (ROOT / "bench" / "recorder.py").exists()


def test_checker_sees_lazy_upward_and_sideways_imports():
    """The checker itself must catch an import placed inside a function, and peers."""
    lazy = "def f():\n    from src.serving import app\n    return app\n"
    assert _violations(lazy, Path("src/data/probe.py"))
    assert _violations("import src.visualization.plots\n", Path("src/evaluation/probe.py"))
    assert _violations("from ..models import topn\n", Path("src/features/probe.py"))
    assert not _violations("from src.data import schema\n", Path("src/models/probe.py"))
    assert not _violations("from src.pipeline import update\n", Path("tasks.py"))
