"""Where a result's data came from: the synthetic demo generator, or real files by name + sha256.

Every report (``reports/README.md``), metrics file (``metrics.json``/``metrics.md``) and figure
states its data source with :func:`workspace_provenance` / :func:`files_provenance` and
:func:`caption`. Synthetic data is recognised by *content*, never by file name: the generator
(:mod:`src.data.synthetic`) records the sha256 of every file it writes in
``synthetic_manifest.json``, and an input whose sha256 is listed in a manifest beside it (or in
``data/raw``) is synthetic. Real-data targets (e.g. RMSE ≤ 0.865, measured on MovieLens) are
judged only when every input is real (:func:`is_real`); otherwise they read "n/a: synthetic data".

A provenance is a plain dict (it goes into JSON as is)::

    {"kind": "synthetic" | "real" | "mixed" | "unknown", "label": "one line for captions",
     "seed": 0 | None, "scale": "small" | None,
     "files": [{"name": "ratings.csv", "sha256": "…", "synthetic": True}, ...]}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Mapping

from src.config import PROVENANCE_SHA_CHARS, SYNTHETIC_MANIFEST, Paths
from src.utils.io import sha256_file
from src.utils.logging import get_logger

log = get_logger(__name__)

GENERATOR = "src.data.synthetic"
NA_SYNTHETIC = "n/a: synthetic data"


def manifest_digests(folders: Iterable[str | os.PathLike]) -> dict[str, dict]:
    """sha256 -> {"name", "seed", "scale"} for every file listed in a ``synthetic_manifest.json``
    found in ``folders``. A missing or unreadable manifest contributes nothing (logged)."""
    found: dict[str, dict] = {}
    for folder in dict.fromkeys(Path(f) for f in folders):
        path = folder / SYNTHETIC_MANIFEST
        if not path.is_file():
            continue
        try:
            manifest = json.loads(path.read_text())
            files = manifest.get("files", {})
            for name, rec in files.items():
                if isinstance(rec, dict) and isinstance(rec.get("sha256"), str):
                    found[rec["sha256"]] = {"name": name, "seed": manifest.get("seed"),
                                            "scale": manifest.get("scale")}
        except (OSError, ValueError, AttributeError) as exc:  # a bad manifest proves nothing
            log.warning("ignoring unreadable %s: %s", path, exc)
    return found


def _short(digest: str) -> str:
    """The first PROVENANCE_SHA_CHARS hex digits, for one-line captions."""
    return digest[:PROVENANCE_SHA_CHARS]


def unknown(reason: str) -> dict:
    """The provenance of data that cannot be identified, e.g. ``unknown("no ETL report")``."""
    return {"kind": "unknown", "label": f"unknown data source ({reason})", "seed": None,
            "scale": None, "files": []}


def classify(files: Iterable[Mapping], search_dirs: Iterable[str | os.PathLike]) -> dict:
    """Provenance of ``files`` (each ``{"name", "sha256"}``, optionally ``"path"``).

    In: the input files and folders to look for manifests in (each file's own folder is
    searched too). Out: the provenance dict described in the module docstring.
    """
    files = [dict(f) for f in files]
    dirs = list(search_dirs) + [Path(f["path"]).parent for f in files if f.get("path")]
    digests = manifest_digests(dirs)
    out_files, seeds, scales = [], set(), set()
    for f in files:
        hit = digests.get(str(f.get("sha256")))
        out_files.append({"name": f["name"], "sha256": f.get("sha256"), "synthetic": hit is not None})
        if hit:
            seeds.add(hit["seed"])
            scales.add(hit["scale"])
    if not out_files:
        return unknown("no input files recorded")
    n_syn = sum(f["synthetic"] for f in out_files)
    seed = next(iter(seeds)) if len(seeds) == 1 else None
    scale = next(iter(scales)) if len(scales) == 1 else None
    synthetic = f"synthetic demo data ({GENERATOR}, seed {seed if seed is not None else '?'})"
    real = [f for f in out_files if not f["synthetic"]]
    real_text = ", ".join(f"{f['name']} (sha256 {_short(str(f['sha256']))}…)" for f in real)
    if n_syn == len(out_files):
        kind, label = "synthetic", synthetic
    elif n_syn == 0:
        kind, label = "real", f"real data: {real_text}"
    else:
        kind, label = "mixed", f"mixed: {synthetic} with real files {real_text}"
    return {"kind": kind, "label": label, "seed": seed, "scale": scale, "files": out_files}


def from_etl_report(report: Mapping | None, paths: Paths) -> dict:
    """Provenance of a workspace's ETL inputs (``etl_report.json``'s ``inputs``: name ->
    {file, sha256}); "unknown" when there is no report."""
    if not report:
        return unknown("no ETL report: run `invoke data`")
    inputs = report.get("inputs", {}) if isinstance(report, Mapping) else {}
    # The file's own name (``ratings_small.csv.gz``) when recorded: the report's key drops ``.gz``.
    files = [{"name": Path(rec["file"]).name if rec.get("file") else name, "sha256": rec.get("sha256"),
              "path": rec.get("file")}
             for name, rec in inputs.items() if isinstance(rec, Mapping)]
    return classify(files, [paths.raw])


def workspace_provenance(paths: Paths) -> dict:
    """Provenance of everything derived from the workspace's ETL run (catalogue, ratings,
    features, models): reads ``paths.etl_report``. A malformed report raises ValueError."""
    if not paths.etl_report.exists():
        return from_etl_report(None, paths)
    try:
        report = json.loads(paths.etl_report.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{paths.etl_report}: not valid JSON ({exc})") from exc
    return from_etl_report(report, paths)


def files_provenance(files: Iterable[str | os.PathLike], paths: Paths) -> dict:
    """Provenance of files given directly (e.g. ``invoke evaluate --ratings F``): hashes them."""
    recs = [{"name": Path(f).name, "sha256": sha256_file(f), "path": str(f)} for f in files]
    return classify(recs, [paths.raw])


def is_real(provenance: Mapping | None) -> bool:
    """True only when every input is known to be real: the condition for judging real-data targets."""
    return bool(provenance) and provenance.get("kind") == "real"


def na_reason(provenance: Mapping | None) -> str:
    """What a real-data target shows instead of a verdict for these data."""
    kind = (provenance or {}).get("kind")
    return NA_SYNTHETIC if kind in ("synthetic", "mixed") else "n/a: data source unknown"


def target_verdict(target: Mapping) -> str:
    """A metrics target's verdict for tables: "met", "NOT met", or its "n/a: …" reason."""
    return target.get("verdict") or ("met" if target.get("met") else "NOT met")


def caption(provenance: Mapping | None) -> str:
    """The one-line "Data: …" footer for figures and reports."""
    label = (provenance or {}).get("label") or "unknown data source"
    return f"Data: {label}"


def markdown(provenance: Mapping | None) -> str:
    """A Markdown block naming the data source: the caption, then each file with its full sha256."""
    prov = provenance or {}
    lines = [f"**{caption(prov)}**", ""]
    files = prov.get("files") or []
    if files:
        lines += ["| input | sha256 | source |", "|---|---|---|"]
        lines += [f"| {f['name']} | `{f.get('sha256')}` | "
                  f"{'synthetic (' + GENERATOR + ')' if f.get('synthetic') else 'real'} |" for f in files]
        lines.append("")
    if prov.get("kind") != "real":
        lines += ["Results on these data are not compared with the real-data targets "
                  f"(shown as \"{na_reason(prov)}\").", ""]
    return "\n".join(lines)
