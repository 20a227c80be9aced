"""``invoke test``'s Chromium set-up (src.pipeline.browser): found, installed, or a one-line
reason. Each branch runs with an injected environment, so no test installs anything."""

from __future__ import annotations

from src.pipeline.browser import ensure_chromium, find_chromium, install_command


def test_explicit_binary_wins_and_a_wrong_one_is_reported(tmp_path):
    exe = tmp_path / "chromium"
    exe.write_text("")
    assert find_chromium({"STREAMREC_CHROMIUM": str(exe)}, which=lambda _: None) == exe
    msg = ensure_chromium({"STREAMREC_CHROMIUM": str(tmp_path / "nope")}, which=lambda _: "/x", is_root=True,
                          run=lambda c: 0)
    assert msg and "STREAMREC_CHROMIUM" in msg and "\n" not in msg


def test_not_root_or_no_apt_gives_one_line_reason(tmp_path):
    ran = []
    nowhere = str(tmp_path / "no-chromium-here")
    msg = ensure_chromium({}, which=lambda n: "/usr/bin/apt-get" if n == "apt-get" else None,
                          is_root=False, run=ran.append, fallback=nowhere)
    assert not ran and "not root" in msg and "apt-get install chromium" in msg and "\n" not in msg
    msg = ensure_chromium({}, which=lambda n: None, is_root=True, run=ran.append, fallback=nowhere)
    assert not ran and "no apt-get" in msg
    assert install_command(False, "/usr/bin/apt-get") is None
    assert install_command(True, None) is None


def test_root_with_apt_installs_then_finds_it(tmp_path):
    installed = tmp_path / "bin" / "chromium"
    calls = []

    def fake_which(name):
        if name == "apt-get":
            return "/usr/bin/apt-get"
        return str(installed) if installed.exists() else None

    def fake_run(cmd):  # stands in for apt-get: "installs" the binary
        calls.append(cmd)
        installed.parent.mkdir(parents=True)
        installed.write_text("")
        return 0

    nowhere = str(tmp_path / "no-chromium-here")
    assert ensure_chromium({}, which=fake_which, is_root=True, run=fake_run, fallback=nowhere) is None
    assert calls and "apt-get update" in calls[0][-1] and "install -y" in calls[0][-1]
    failed = ensure_chromium({}, which=lambda n: "/usr/bin/apt-get" if n == "apt-get" else None,
                             is_root=True, run=lambda c: 100, fallback=nowhere)
    assert failed and "exit 100" in failed
