"""Parse and flatten a big credits file in a second process, beside the rest of the ETL.

At full scale the credits file (~190 MB of nested cast/crew cells) costs as much as all the
other ETL steps together, and its parsing is pure-Python work that one process cannot
spread over two cores. :class:`CreditsJob` hands it to a worker process:

1. the worker reads and cleans the credits file (``run_input("credits", ...)``) while the
   main process reads and cleans movies, keywords, links and ratings;
2. the main process sends the clean catalogue's ids (:meth:`CreditsJob.send_ids`) once
   its own inputs are done;
3. the worker flattens the credits of exactly those titles (:func:`flatten_credits`, the
   same code the in-process path runs) and sends back the small per-title columns
   (``has_credits``, ``cast``, ``directors``), its quarantine rows and stats;
4. the worker writes the big tidy ``cast``/``crew`` tables to the *staged temp files* the
   main process gave it and reports their rows and sha256. The main process renames them
   with all the other outputs, so the ETL stays all-or-nothing.

The worker is a fresh interpreter (``python -m src.data.credits_worker``): no fork of a
process that may hold threads and locks, and unlike multiprocessing's ``spawn`` it never
re-runs the caller's ``__main__`` script. Messages go over two private pipes with
``multiprocessing.connection`` framing. Any failure in the worker comes back as a
RuntimeError in the main process with the worker's traceback; leaving the ``with`` block
stops the worker.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.utils.logging import LOGGER_NAME, get_logger, setup_logging, timed

__all__ = ["CreditsJob"]

log = get_logger("src.data.credits_worker")  # not "__main__" when run with -m


class CreditsJob:
    """A credits file being parsed and flattened in a worker process (context manager).

    In: the credits path and ``{"cast": tmp_path, "crew": tmp_path}``, the staged files
    the worker writes the tidy tables to.
    """

    def __init__(self, path: str | os.PathLike, staged: dict[str, Path]):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        parent_logger = logging.getLogger(LOGGER_NAME)
        log_level = str(parent_logger.level if parent_logger.handlers else "")
        self._display_path = str(path)  # reported as given, like the in-process run_input
        root = Path(__file__).resolve().parents[2]  # the project root: makes ``src`` importable
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "src.data.credits_worker", str(to_child_r),
                 str(from_child_w), str(Path(path).resolve()), log_level,
                 *(f"{k}={Path(v).resolve()}" for k, v in staged.items())],
                pass_fds=(to_child_r, from_child_w), env=env)
        except BaseException:
            os.close(to_child_w)
            os.close(from_child_r)
            raise
        finally:
            os.close(to_child_r)  # the worker holds these ends; EOF here means it died
            os.close(from_child_w)
        self._send = Connection(to_child_w, readable=False)
        self._recv = Connection(from_child_r, writable=False)
        log.info("credits %s: parsing in worker process %d", Path(path).name, self._proc.pid)

    def __enter__(self) -> "CreditsJob":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def send_ids(self, ids: np.ndarray) -> None:
        """Give the worker the clean catalogue's ids (the order of the tidy tables).

        A worker that already failed (a bad credits file is rejected in milliseconds) has
        closed its end: its own error is raised then, not the BrokenPipeError of this send.
        """
        try:
            self._send.send(np.asarray(ids, dtype=np.int64))
        except (BrokenPipeError, ConnectionResetError):
            self._receive("columns")  # raises the worker's error (or "worker died")
            raise

    def columns(self) -> tuple[dict[str, Any], pd.DataFrame, dict]:
        """Wait for the per-title columns. Out: ``(columns, quarantine, stats)``: columns as
        from :func:`src.data.flatten.flatten_credits` (``has_credits``, ``cast``,
        ``directors`` aligned with the ids sent), the quarantined credits rows and the
        input's stats (with sha256 and seconds, like ``run_input``)."""
        _, columns, quarantine, stats = self._receive("columns")
        # The worker opened an absolute path; report the one the caller gave, so the ETL
        # report does not depend on which process parsed the file.
        stats["file"] = self._display_path
        return columns, quarantine, stats

    def written(self) -> dict[str, tuple[int, str]]:
        """Wait for the tidy tables to be written. Out: ``{name: (rows, sha256)}``."""
        return self._receive("written")[1]

    def close(self) -> None:
        """Stop the worker (at once if it is still busy, e.g. after a failure)."""
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait()
        self._send.close()
        self._recv.close()

    def _receive(self, expected: str) -> tuple:
        """Next message from the worker; raise RuntimeError if it failed or died."""
        try:
            msg = self._recv.recv()
        except EOFError:
            raise RuntimeError(f"credits worker died (exit code {self._proc.wait()})") from None
        if msg[0] == "error":
            # Re-raise the worker's own exception (e.g. the ValueError naming a missing
            # column) so callers see the same error as with in-process credits.
            exc = msg[2] if isinstance(msg[2], BaseException) else \
                RuntimeError("credits worker failed")
            exc.add_note(f"raised in the credits worker process:\n{msg[1]}")
            raise exc
        if msg[0] != expected:  # pragma: no cover - protocol bug
            raise RuntimeError(f"credits worker sent {msg[0]!r}, expected {expected!r}")
        return msg


def _worker_main(argv: list[str]) -> None:
    """Body of the worker process: ``argv`` = read fd, write fd, credits path, log level
    ('' = no logging set up by the parent), ``name=staged_path`` per tidy table."""
    conn_in = Connection(int(argv[0]), writable=False)
    conn_out = Connection(int(argv[1]), readable=False)
    path, log_level = argv[2], argv[3]
    staged = dict(arg.split("=", 1) for arg in argv[4:])
    try:
        if log_level:  # log like the parent when it logs
            setup_logging(int(log_level))
        from src.data.csv_out import write_frame_csv
        from src.data.flatten import flatten_credits
        from src.data.ingest import run_input

        clean, quarantine, stats = run_input("credits", path)
        ids = conn_in.recv()
        with timed(log, "flatten credits (worker)"):
            columns, tables = flatten_credits(ids, clean)
        del clean
        conn_out.send(("columns", columns, quarantine, stats))
        written = {}
        with timed(log, "write cast/crew tables (worker)"):
            for name, table in tables.items():
                written[name] = (int(len(table)), write_frame_csv(table, staged[name]))
        conn_out.send(("written", written))
    except EOFError:
        pass  # the main process went away (it failed): nothing to report to
    except BaseException:  # noqa: BLE001 - everything is reported to the parent
        exc = sys.exc_info()[1]
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an unpicklable exception travels as text only
            exc = None
        try:
            conn_out.send(("error", traceback.format_exc(), exc))
        except OSError:
            pass
    finally:
        conn_in.close()
        conn_out.close()


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
