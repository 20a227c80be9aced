"""Facts read from the repo's own files without running them: invoke tasks and their options
(``tasks.py``), extras and requirements (``setup.py``). Used by the docs and deploy tests."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tasks() -> dict[str, set[str]]:
    """``{task name as typed ("demo-data"): {its option names ("--out-dir", "-n", ...)}}``."""
    tree = ast.parse((ROOT / "tasks.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
                (isinstance(d, ast.Name) and d.id == "task")
                or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "task")
                for d in node.decorator_list):
            opts = set()
            for a in node.args.args[1:]:  # the first is invoke's context
                name = a.arg.replace("_", "-")
                opts.add(f"-{name}" if len(name) == 1 else f"--{name}")
            found[node.name.replace("_", "-")] = opts
    return found


def setup_constants() -> dict[str, object]:
    """The literal top-level assignments of setup.py (lists of requirements, EXTRAS_REQUIRE)
    evaluated with ``ast.literal_eval`` or as list concatenations of those."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    env: dict[str, object] = {}

    def value(node):
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left) + value(node.right)
        if isinstance(node, ast.Dict):
            return {ast.literal_eval(k): value(v) for k, v in zip(node.keys, node.values)}
        return ast.literal_eval(node)

    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            env[node.targets[0].id] = value(node.value)
    return env


def requirement_name(req: str) -> str:
    """``"uvloop>=0.19; sys_platform != 'win32'"`` -> ``"uvloop"`` (lower case, - for _)."""
    for sep in ";<>=!~[ ":
        req = req.split(sep, 1)[0]
    return req.strip().lower().replace("_", "-")
