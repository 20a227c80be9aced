"""``invoke train --server-url URL`` retrains and makes a running server reload the new model
(with the admin key from the workspace, as ``invoke update`` does)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from src.utils.paths import project_root
from tests.harness.launcher import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_invoke_train_reloads_the_running_server(ws):
    with ServerProcess(ws, ui=False) as srv, httpx.Client(base_url=srv.base_url, timeout=30.0) as c:
        before = c.get("/health").json()["loaded_at"]
        env = {**os.environ, "STREAMREC_HOME": str(ws.root)}
        env.pop("STREAMREC_ADMIN_TOKEN", None)  # the key file must be what is sent
        run = subprocess.run([sys.executable, "-m", "invoke", "train", "--server-url", srv.base_url],
                             cwd=project_root(), env=env, capture_output=True, text=True, timeout=540)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "did not reload" not in run.stdout
        after = c.get("/health").json()
        assert after["loaded_at"] > before and after["status"] == "ok"
