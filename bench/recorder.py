"""Record benchmark results in ``reports/benchmarks.md``, one section per benchmark.

Each ``bench/*.py`` script calls :func:`record_benchmark` with its own section name; only
that section is replaced, so scripts can run in any order. Every section states the machine
and date it was measured on, because the numbers are only comparable within one run.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import re
import shutil
import tempfile
from pathlib import Path

from src.utils.io import write_text_atomic

_HEADER = (
    "# StreamRec benchmarks\n\n"
    "Speed targets are ratios against a baseline measured in the same run (see `bench/`).\n"
    "Regenerate with `invoke bench` (add `--full` for the full-scale runs).\n"
)


def machine_description() -> str:
    """One line naming the machine: CPU model, cores, memory, Python and OS."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def record_benchmark(section: str, body_markdown: str, path: str | os.PathLike | None = None) -> Path:
    """Replace (or append) the ``## {section}`` part of benchmarks.md with ``body_markdown``.

    In: a section title, its Markdown body (tables, targets, verdicts), and optionally the
    file (default ``reports/benchmarks.md`` of the repo). Out: the file path. The section
    gets a line with today's date and :func:`machine_description`.
    """
    if path is None:
        from src.config import PATHS

        path = PATHS.benchmarks
    path = Path(path)
    text = path.read_text() if path.exists() else _HEADER
    stamp = f"_Measured {_dt.date.today().isoformat()} on {machine_description()}._\n\n"
    block = f"## {section}\n\n{stamp}{body_markdown.strip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    write_text_atomic(text, path)
    return path


@contextlib.contextmanager
def bench_workspace(keep: str | os.PathLike | None, prefix: str):
    """The folder a benchmark builds its throw-away workspace in: ``keep`` (created if missing,
    kept afterwards, so a rerun can reuse it) or a new temp folder removed at the end, even when
    the benchmark fails. Yields the folder as a Path."""
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=prefix))
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
