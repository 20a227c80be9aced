"""Run the real ``invoke`` command line in a child process, as a user would type it.

Used by the CLI and deploy tests: ``run_invoke(["recommend", "--user", "abc"], home=ws.root)``
runs ``python -m invoke recommend --user abc`` in the repo root with ``STREAMREC_HOME`` set,
and returns the CompletedProcess (text stdout/stderr). ``block`` lists import names to make
unimportable in the child (a ``sitecustomize`` on its path maps them to None in
``sys.modules``), which is how a test sees a machine without an optional extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parents[2]
INVOKE_TIMEOUT_S = 180   # the slowest call here loads a model on a busy 2-core machine


def _child_env(site: str, block: Iterable[str], home: str | os.PathLike | None = None) -> dict:
    """The child's environment: the repo (and, when ``block`` is set, a ``sitecustomize`` in
    ``site`` that maps those modules to None) on PYTHONPATH, headless plots, the workspace."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    if home is not None:
        env["STREAMREC_HOME"] = str(home)
    blocked = list(block)
    if blocked:
        Path(site, "sitecustomize.py").write_text(
            "import sys\nfor _m in %r:\n    sys.modules[_m] = None\n" % (blocked,))
        env["PYTHONPATH"] = os.pathsep.join([site, str(ROOT)])
    return env


def run_invoke(args: Sequence[str], home: str | os.PathLike | None = None,
               block: Iterable[str] = (), timeout: float = INVOKE_TIMEOUT_S) -> subprocess.CompletedProcess:
    """``python -m invoke ARGS`` in the repo root. In: arguments, optional workspace root,
    module names to block. Out: the finished process (never raises on a non-zero exit)."""
    with tempfile.TemporaryDirectory() as site:
        return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT,
                              env=_child_env(site, block, home), capture_output=True, text=True,
                              timeout=timeout)


def python_child(code: str, block: Iterable[str] = ()) -> subprocess.CompletedProcess:
    """``python -c CODE`` with the repo on the path and ``block`` made unimportable."""
    with tempfile.TemporaryDirectory() as site:
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_child_env(site, block),
                              capture_output=True, text=True, timeout=INVOKE_TIMEOUT_S)
