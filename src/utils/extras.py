"""Optional-dependency guard: a module that needs an extra says which one, in one line.

StreamRec's core install (ETL, features, models, CLI) leaves out the web stack and Jupyter;
``src.serving`` needs ``streamrec[serve]`` and ``src.pipeline.notebooks`` needs
``streamrec[notebooks]``. They call :func:`require_extra` before importing those libraries,
so a user without the extra gets :class:`MissingExtraError` naming the pip command instead of
a ``ModuleNotFoundError`` traceback from deep inside an import.
"""

from __future__ import annotations

import importlib.util
from typing import Iterable


class MissingExtraError(ImportError):
    """An optional dependency group is not installed; the message is the one-line fix."""


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The top-level module names in ``modules`` that cannot be imported here (not imported:
    ``find_spec`` only looks them up, so the check costs microseconds, not Gradio's import)."""
    missing = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):  # a broken or blocked package counts as missing
            missing.append(name)
    return missing


def require_extra(extra: str, modules: Iterable[str], who: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` can be imported.

    In: the extra's name (``"serve"``), its modules, the caller (``"src.serving"``) for the
    message. Out: None; the error reads e.g. ``src.serving needs the [serve] extra (missing:
    fastapi): pip install 'streamrec[serve]'``.
    """
    missing = missing_modules(modules)
    if missing:
        raise MissingExtraError(f"{who} needs the [{extra}] extra (missing: {', '.join(missing)}): "
                                f"pip install 'streamrec[{extra}]' (or -e '.[{extra}]' in a checkout)")
