"""Run the bad-input corpus of issue 11 through the real commands; record what each produced.

Each case writes its file(s) into a fresh copy of a small real workspace (40 titles built by
the ETL, features included) and runs the real ``invoke`` command in a subprocess: ``invoke
data`` for catalogue files, ``invoke update`` for batches and the inbox, the other tasks on
an empty workspace. The table in reports/benchmarks.md ("Bad-input corpus") gives per case
the exit code, what came out (titles, quarantine reasons, or the one-line refusal), whether
a traceback was printed and what happened to the catalogue (unchanged, replaced by an
accepted rebuild, updated). Expected: no traceback anywhere, exit 0 or 2 only, and the
catalogue unchanged by every refusal (exit 2).

Usage: ``python bench/bench_bad_inputs.py`` (about a minute: ~25 ``invoke`` subprocesses).
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.recorder import record_benchmark  # noqa: E402
from src.config import Paths  # noqa: E402
from src.data.catalogue_store import update_lock  # noqa: E402
from src.features.build_features import main as features_main  # noqa: E402
from src.utils.io import sha256_file  # noqa: E402
from src.utils.logging import setup_logging  # noqa: E402
from tests.harness.catalogue import movies_text, run_invoke, small_catalogue  # noqa: E402
from tests.update_batches import batch_rows, tmdb_frame  # noqa: E402

N_BASE = 40
GENRE_CELL_MB = 50  # the size of the cell that once made features.parquet unreadable


def _frame(n: int, start: int = 1) -> pd.DataFrame:
    return tmdb_frame(batch_rows(start, n_movies=n, seed=start)).astype(str)


def catalogue_files(d: Path) -> dict[str, bytes]:
    """Every catalogue-corpus case: file name -> bytes (run with ``invoke data --movies``)."""
    good = movies_text(N_BASE)
    lines = good.splitlines(keepends=True)
    extra_first = lines[0] + lines[1].rstrip("\n") + ",surplus,fields\n" + "".join(lines[2:])
    stray = lines[:]
    stray[20] = stray[20].replace(",", ',"stray,', 1)
    half = good + movies_text(1, start=999).splitlines()[1][:60]
    fw = _frame(N_BASE)
    fw.loc[4, "id"] = "０１２"
    header = lines[0]
    invalid = _frame(N_BASE).assign(id="not-an-id").to_csv(index=False)
    accented = good.replace("Tagline.", "Café crème déjà vu")
    gz = gzip.compress(good.encode())
    return {
        "extra_fields_first_row.csv": extra_first.encode(),
        "stray_quote_line_21.csv": "".join(stray).encode(),
        "half_written_last_line.csv": half.encode(),
        "full_width_id.csv": fw.to_csv(index=False).encode(),
        "header_only.csv": header.encode(),
        "blank_only.csv": b"\n\n   \n",
        "all_invalid_ids.csv": invalid.encode(),
        "a_third_of_the_catalogue.csv": movies_text(N_BASE // 3).encode(),
        "latin1.csv": accented.encode("latin-1"),
        "utf16_bom.csv": codecs.BOM_UTF16_LE + accented.encode("utf-16-le"),
        "gzip_named.csv": gz,
        "truncated.csv.gz": gz[: len(gz) // 2],
        "semicolons.csv": _frame(N_BASE).to_csv(index=False, sep=";").encode(),
        "binary.csv": bytes(range(256)) * 64,
    }


def _outcome(proc, paths: Paths, before: str | None, report_name: str | None) -> dict:
    """What one run produced: exit code, traceback?, catalogue intact?, a short result."""
    err = (proc.stderr or "").strip().splitlines()
    same = before is not None and paths.merged.exists() and sha256_file(paths.merged) == before
    out = {"rc": proc.returncode, "traceback": "Traceback" in proc.stderr + proc.stdout,
           "intact": "n/a" if before is None else ("unchanged" if same else "replaced")}
    if proc.returncode != 0:
        out["result"] = err[-1] if err else "(no message)"
    elif report_name is not None:
        rep = json.loads(paths.etl_report.read_text())
        st = next(iter(v for k, v in rep["inputs"].items() if v["kind"] == "movies"))
        out["result"] = (f"{st['rows_in']} in, {st['rows_out']} out, quarantined "
                         f"{st['quarantined'] or '{}'}")
    return out


def run_catalogue_cases(base: Paths, work: Path) -> list[dict]:
    rows = []
    for name, data in catalogue_files(work).items():
        ws = Paths.from_root(work / f"ws-{name}")
        shutil.copytree(base.root, ws.root)
        path = work / name
        path.write_bytes(data)
        before = sha256_file(ws.merged)
        proc = run_invoke(ws.root, "data", "--movies", str(path))
        rows.append({"case": name, "command": "invoke data --movies",
                     **_outcome(proc, ws, before, name)})
    return rows


def run_update_cases(base: Paths, work: Path) -> list[dict]:
    rows = []
    ws = Paths.from_root(work / "ws-update")
    shutil.copytree(base.root, ws.root)
    big = _frame(3, start=3000)
    big.loc[1, "genres"] = '[{"id": 1, "name": "' + "G" * (GENRE_CELL_MB * 10**6) + '"}]'
    batch = work / "genre_50mb.csv"
    big.to_csv(batch, index=False)
    before = sha256_file(ws.merged)
    feat_before = ws.features.stat().st_size
    t0 = time.perf_counter()
    proc = run_invoke(ws.root, "update", "--movies", str(batch))
    seconds = time.perf_counter() - t0
    o = _outcome(proc, ws, before, None)
    rep = json.loads(sorted(ws.updates.glob("*.json"))[-1].read_text())
    o["result"] = (f"{rep['added']} added, quarantined {rep['quarantined']}; features.parquet "
                   f"{feat_before / 1e3:.0f} KB -> {ws.features.stat().st_size / 1e3:.0f} KB, "
                   f"reads back: {len(pd.read_parquet(ws.features))} titles ({seconds:.1f} s)")
    o["intact"] = "updated"
    rows.append({"case": f"{GENRE_CELL_MB} MB genres cell in a batch", "command": "invoke update --movies", **o})

    small = work / "b.csv"
    small.write_text(movies_text(3, start=5000))
    before = sha256_file(ws.merged)
    with update_lock(ws):
        proc = run_invoke(ws.root, "update", "--movies", str(small))
    rows.append({"case": "second update while one runs", "command": "invoke update --movies",
                 **_outcome(proc, ws, before, None)})
    return rows


def run_inbox_case(base: Paths, work: Path) -> list[dict]:
    """All inbox cases in one ``invoke update --inbox`` run; where each file ended up."""
    ws = Paths.from_root(work / "ws-inbox")
    shutil.copytree(base.root, ws.root)
    inbox = ws.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    outside = work / "outside.csv"
    outside.write_text(movies_text(2, start=600))
    secret = work / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    cases = {
        "link.csv": "symlink to a valid file outside the inbox",
        "s.csv": "valid batch ...", "s.credits.csv": "... with credits -> a passwd-like file",
        "dangling.csv": "dangling symlink", "loop.csv": "symlink to itself",
        "y" * 236 + ".csv": "240-character name",
        "x.csv": "x.csv beside ...", "x.csv.gz": "... x.csv.gz",
        "up.csv.part": "upload in progress", ".hidden.csv": "hidden file",
        "new\nline.csv": "newline in the name",
    }
    os.symlink(outside, inbox / "link.csv")
    (inbox / "s.csv").write_text(movies_text(2, start=650))
    os.symlink(secret, inbox / "s.credits.csv")
    os.symlink(work / "missing.csv", inbox / "dangling.csv")
    os.symlink(inbox / "loop.csv", inbox / "loop.csv")
    (inbox / ("y" * 236 + ".csv")).write_text(movies_text(2, start=700))
    (inbox / "x.csv").write_text(movies_text(2, start=800))
    (inbox / "x.csv.gz").write_bytes(gzip.compress(movies_text(2, start=850).encode()))
    for name in ("up.csv.part", ".hidden.csv", "new\nline.csv"):
        (inbox / name).write_text(movies_text(1, start=990))
    proc = run_invoke(ws.root, "update", "--inbox")
    errors = "".join(p.read_text() for p in (inbox / "failed").glob("*.error.txt"))
    rows = []
    for name, what in cases.items():
        where = "left in inbox" if os.path.lexists(inbox / name) else next(
            (d for d in ("processed", "failed") if any(
                p.name.endswith(name[-40:]) for p in (inbox / d).iterdir())), "?")
        rows.append({"case": f"inbox: {what}", "command": "invoke update --inbox",
                     "rc": proc.returncode, "traceback": "Traceback" in proc.stderr,
                     "intact": "n/a", "result": where})
    rows.append({"case": "inbox: error files quote the passwd line?", "command": "",
                 "rc": "", "traceback": "", "intact": "",
                 "result": "yes (LEAK)" if "root:x" in errors else "no"})
    return rows


def run_empty_workspace(work: Path) -> list[dict]:
    home = work / "empty"
    home.mkdir()
    rows = []
    for args in (["data"], ["features"], ["train"], ["recommend", "--user", "1"],
                 ["serve", "--port", "18999"], ["update", "--movies", "x.csv"]):
        proc = run_invoke(home, *args, timeout=60)
        rows.append({"case": "empty workspace", "command": "invoke " + " ".join(args),
                     **_outcome(proc, Paths.from_root(home), None, None), "intact": "n/a"})
    return rows


def _cell(v) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")[:240]


def main() -> None:
    setup_logging()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-bad-") as tmp:
        work = Path(tmp)
        base = small_catalogue(Paths.from_root(work / "base").ensure(), work / "src", N_BASE)
        features_main(paths=base)
        rows = (run_catalogue_cases(base, work) + run_update_cases(base, work)
                + run_inbox_case(base, work) + run_empty_workspace(work))
    seconds = time.perf_counter() - t0
    bad = [r for r in rows if r["traceback"] is True or r["rc"] not in (0, 2, "")
           or (r["rc"] == 2 and r["intact"] not in ("unchanged", "n/a"))]
    lines = ["| case | command | exit | traceback | catalogue | result |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {_cell(r['case'])} | {_cell(r['command'])} | {r['rc']} | "
              f"{'yes' if r['traceback'] is True else ('no' if r['traceback'] is False else '')} | "
              f"{_cell(r['intact'])} | {_cell(r['result'])} |" for r in rows]
    body = (f"`python bench/bench_bad_inputs.py`: the issue-11 bad-input corpus through the real "
            f"commands, on a {N_BASE}-title workspace ({len(rows)} cases, {seconds:.0f} s). "
            f"Target: no traceback, exit 0/2 only, every refusal (exit 2) leaves the catalogue "
            f"unchanged. "
            f"**{'PASS' if not bad else 'FAIL: ' + str(len(bad)) + ' case(s)'}**.\n\n"
            + "\n".join(lines))
    print(body)
    record_benchmark("Bad-input corpus", body)


if __name__ == "__main__":
    main()
