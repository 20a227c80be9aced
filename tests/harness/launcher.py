"""Start the StreamRec server as a child process on a free loopback port and wait until it
answers ``/health`` — used by the API, browser and durability tests and by ``bench/``.

The child is the real command line (``python -m src.serving.app --home WS --port P``), so what
is tested is what ``invoke serve`` runs. Its output goes to a log file whose tail is shown if
the server fails to come up.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from src.config import API_HOST, Paths
from src.utils.logging import get_logger
from src.utils.paths import project_root

log = get_logger(__name__)

START_TIMEOUT_S = 120.0   # Gradio's import alone takes several seconds on a busy 2-core box


def free_port(host: str = API_HOST) -> int:
    """Out: a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def copy_workspace(src: Paths, dst: str | os.PathLike) -> Paths:
    """Copy a workspace (data, models) to ``dst`` without its ratings store.

    Tests and benchmarks serve a private copy so that the ratings they post and the bundles
    they tamper with never leak into a workspace other tests share. Out: the copy's Paths.
    """
    dst_paths = Paths.from_root(dst)
    shutil.copytree(src.root, dst_paths.root, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("ratings.db*"))
    return dst_paths.ensure()


class ServerProcess:
    """One server child process. Use as a context manager, or call start()/stop().

    In: the workspace to serve, ``ui`` (mount Gradio or not), an optional fixed port, and
    ``extra_args`` for the command line (e.g. ``["--cache-size", "0"]``).
    ``base_url`` is ``http://127.0.0.1:<port>``. ``kill()`` sends SIGKILL (durability tests).
    """

    def __init__(self, paths: Paths, ui: bool = True, port: int | None = None,
                 log_path: str | os.PathLike | None = None, extra_args: list[str] | None = None) -> None:
        self.paths = paths
        self.ui = ui
        self.extra_args = list(extra_args or [])
        self.port = port or free_port()
        self.base_url = f"http://{API_HOST}:{self.port}"
        self.log_path = Path(log_path) if log_path else Path(
            tempfile.mkstemp(prefix="streamrec-server-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = START_TIMEOUT_S) -> "ServerProcess":
        """Spawn the server and block until ``/health`` answers 200 (RuntimeError if not)."""
        cmd = [sys.executable, "-m", "src.serving.app", "--home", str(self.paths.root),
               "--host", API_HOST, "--port", str(self.port)]
        if not self.ui:
            cmd.append("--no-ui")
        cmd += self.extra_args
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        self._log_fh = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=project_root(), env=env, stdout=self._log_fh,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/health", timeout=2.0).status_code == 200:
                    log.info("server up at %s (pid %d)", self.base_url, self.proc.pid)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        """The last ``chars`` characters of the server's output."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL the server (no shutdown hooks run) and reap it."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM, then SIGKILL after 15 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._close_log()

    def _close_log(self) -> None:
        fh = getattr(self, "_log_fh", None)
        if fh is not None and not fh.closed:
            fh.close()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
