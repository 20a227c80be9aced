"""StreamRec pipeline tasks (``invoke --list``). Each task is a thin call into ``src``.

raw -> ``data`` -> interim/processed -> ``features`` -> ``train``/``evaluate`` -> models,
reports -> ``figures``/``report``/``notebooks``; ``serve`` runs the API + UI; ``update``
ingests new titles. ``all`` runs the main job end to end (generating a synthetic demo
dataset in ``data/raw`` when it holds no movies file).
"""

from __future__ import annotations

import sys

from invoke import task


def _paths(home: str | None = None):
    """The workspace paths: the repo's, or those rooted at ``home``."""
    from src.config import PATHS, Paths

    return Paths.from_root(home) if home else PATHS


def _log(verbose: bool = True):
    """Configure logging: INFO for pipeline stages; interactive commands pass ``verbose`` from
    ``-v`` and default to WARNING so their output is the answer, not the log."""
    import logging

    from src.utils.logging import setup_logging

    return setup_logging(logging.INFO if verbose else logging.WARNING)


def _fail(task_name: str, exc: BaseException):
    """A one-line error for bad input or a missing extra, exit code 2 (never a traceback)."""
    from invoke.exceptions import Exit

    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return Exit(f"invoke {task_name}: {msg}", code=2)


def _int_arg(task_name: str, value, field: str, lo: int, hi: int) -> int:
    """An integer option checked before any work (the same validator the API uses).

    Integer options have *string* defaults in the task signatures: invoke casts a value to
    the default's type itself and would print a traceback for ``-n abc``.
    """
    from src.data.feedback_store import validate_int

    try:
        return validate_int(value, field, lo, hi)
    except ValueError as exc:
        raise _fail(task_name, exc) from None


def _guarded(task_name: str, fn, *args, **kwargs):
    """Run a stage; the project's own errors become one line and exit code 2, no traceback.

    In: the task's name (for the message), the stage function and its arguments. Out: what
    it returns. ``StreamRecError`` (src.utils.errors: bad input, missing workspace files,
    a refused shrink, another update running) and a missing file (FileNotFoundError, e.g.
    ``invoke serve`` on an empty workspace) say what was wrong and what to do next; any
    other exception is a bug and keeps its traceback.
    """
    from invoke.exceptions import Exit

    from src.utils.errors import StreamRecError

    try:
        return fn(*args, **kwargs)
    except (StreamRecError, FileNotFoundError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Exit(f"invoke {task_name}: {first}", code=2) from None


def _split(csv: str | None) -> list[str] | None:
    """A comma-separated option (``"Drama, Comedy"``) as a list of names; None when empty."""
    return [g.strip() for g in csv.split(",") if g.strip()] if csv else None


def _input_files(task_name: str, **options) -> None:
    """Every input-file option that was given names an existing file (one-line error, exit 2,
    before any stage starts; what is *in* the file is the stage's to check)."""
    from pathlib import Path

    for name, value in options.items():
        if value is not None and not Path(value).is_file():
            flag = "--" + name.replace("_", "-")
            raise _fail(task_name, FileNotFoundError(f"{flag} {value}: no such file"))


@task(help={
    "scale": "small (seconds; whole pipeline < 1 min) or full (45k movies, ~190 MB credits, 1M+ ratings)",
    "out_dir": "where to write the CSVs (default data/raw)",
    "seed": "random seed",
})
def demo_data(c, scale="small", out_dir=None, seed="0"):
    """Generate a synthetic dataset in the exact Kaggle shapes (movies, credits, keywords, links, ratings)."""
    from src.config import SYNTHETIC_SCALES

    if scale not in SYNTHETIC_SCALES:
        raise _fail("demo-data", ValueError(f"--scale must be one of {', '.join(SYNTHETIC_SCALES)}, got {scale!r}"))
    seed = _int_arg("demo-data", seed, "--seed", 0, 2**32 - 1)
    _log()
    from src.data.synthetic import generate

    generate(out_dir or _paths().raw, scale=scale, seed=seed)


SCHEMA_HELP = ("catalogue reader to use (movies_metadata, tmdb_5000, justwatch, show_id, minimal); "
               "default: detected from the header")


@task(help={
    "movies": "catalogue CSV of any registered schema (see --schema); default: found in data/raw",
    "credits": "credits CSV (optional)",
    "keywords": "keywords CSV (optional)",
    "links": "MovieLens links CSV (optional)",
    "ratings": "MovieLens ratings CSV (optional)",
    "out_dir": "write every output (processed, interim, quarantine) under this folder "
               "instead of the workspace's data/",
    "schema": SCHEMA_HELP,
    "force": "accept a catalogue that shrinks by more than half (or to 0) vs the current one",
})
def data(c, movies=None, credits=None, keywords=None, links=None, ratings=None, out_dir=None,
         schema=None, force=False):
    """ETL: flatten nested cells, clean, quarantine bad rows, merge into merged_data6.csv;
    then replay every applied update (data/external/applied) so none is lost."""
    _input_files("data", movies=movies, credits=credits, keywords=keywords, links=links, ratings=ratings)
    _log()
    from src.pipeline.replay import rebuild

    _guarded("data", rebuild, movies=movies, credits=credits, keywords=keywords, links=links,
             ratings=ratings, out_dir=out_dir, paths=_paths(), schema=schema, force=force)


@task
def features(c):
    """Build features.parquet (genre dummies, score_final, weighted_rating, text) from merged_data6.csv."""
    _log()
    from src.features.build_features import main

    _guarded("features", main, paths=_paths())


@task
def figures(c):
    """Write the EDA (and, when present, model) figures to reports/figures."""
    _log()
    from src.visualization.visualize import main

    main(paths=_paths())


@task(help={"ratings": "ratings CSV (default: processed ratings)", "links": "links CSV mapping movieId->tmdbId"})
def tune(c, ratings=None, links=None):
    """Grid-search SVD hyper-parameters; save the best next to the model."""
    _input_files("tune", ratings=ratings, links=links)
    _log()
    from src.models.train_model import tune as run_tune

    _guarded("tune", run_tune, ratings=ratings, links=links, paths=_paths())


@task(help={"ratings": "ratings CSV (default: processed ratings + SQLite feedback)", "links": "links CSV",
            "server_url": "running server to tell to reload the new model (default: $STREAMREC_SERVER_URL)",
            "engine": "surprise (SVD + EASE, default) | implicit (ALS, every title) | spark (MLlib ALS)",
            "master": "Spark master for --engine spark: local[2] (default), local[*], spark://host:7077"})
def train(c, ratings=None, links=None, server_url=None, engine="surprise", master=None):
    """Train the SVD rating model and top-N ranker on real user ratings; save a checksummed bundle."""
    from src.config import TRAIN_ENGINES

    if engine not in TRAIN_ENGINES:
        raise _fail("train", ValueError(f"--engine {engine!r}: choose one of {', '.join(TRAIN_ENGINES)}"))
    if master is not None and engine != "spark":
        raise _fail("train", ValueError("--master is only for --engine spark"))
    _input_files("train", ratings=ratings, links=links)
    _log()
    from src.models.train_model import main
    from src.pipeline.update import notify_server

    paths = _paths()
    try:
        _guarded("train", main, ratings=ratings, links=links, paths=paths, engine=engine, master=master)
    except ImportError as exc:  # the engine's extra is missing: MissingExtraError names the pip line
        raise _fail("train", exc) from exc
    # Same reload as `invoke update`: sends the admin key, never fails a finished training.
    result = notify_server(server_url, paths=paths)
    if result.get("error"):
        print(f"model saved, but the server did not reload: {result['error']}")


@task(help={
    "ratings": "ratings CSV (default: processed ratings)",
    "links": "links CSV",
    "out": "metrics JSON (default reports/metrics.json)",
    "svdpp": "also run SVD++ (slow)",
    "no-tune": "skip tuning the chain's knobs on validation (config values; no `tuned` row; faster)",
})
def evaluate(c, ratings=None, links=None, out=None, svdpp=False, no_tune=False):
    """5-fold CV RMSE/MAE, top-N metrics and the random/cold/temporal/new-title protocols vs baselines
    (past the size budgets of config.EVAL_BUDGETS: on user samples, listed under "Limited by size")."""
    _input_files("evaluate", ratings=ratings, links=links)
    _log()

    from src.evaluation.evaluate import main
    from src.visualization.model_plots import plot_model_comparison

    paths = _paths()
    try:
        metrics = _guarded("evaluate", main, ratings=ratings, links=links, out=out, svdpp=svdpp,
                           tune=not no_tune, paths=paths)
    except ValueError as exc:  # bad ratings/links content (e.g. no links for MovieLens ids): one line
        raise _fail("evaluate", exc) from None
    plot_model_comparison(metrics, paths.figures)


@task(help={"user": "user id (integer, as in the API)",
            "genres": "comma-separated genre filter, any case (drama,Comedy)",
            "n": "how many, 1..MAX_N (invoke spells one-letter options -n)",
            "verbose": "log progress at INFO (default: warnings only)"})
def recommend(c, user=None, genres=None, n="10", verbose=False):
    """Print top-N recommendations for a user (cold start for unknown users)."""
    # ``user`` has a default so that invoke parses it as a flag only: an argument without a
    # default is positional and would swallow ``--help`` as the user id.
    if user is None:
        raise _fail("recommend", ValueError("--user is required"))
    _log(verbose)
    try:
        from src.serving.cli import print_recommendations

        _guarded("recommend", print_recommendations, user, genres=genres, n=n, paths=_paths())
    except (ValueError, KeyError, FileNotFoundError, ImportError) as exc:  # a message, not a traceback
        raise _fail("recommend", exc) from exc


@task
def report(c):
    """Write reports/README.md: dataset summary, figures and model metrics."""
    _log()
    from src.visualization.report import main

    main(paths=_paths())


@task
def notebooks(c):
    """Execute every notebook headlessly and export HTML to reports/."""
    _log()
    try:
        from src.pipeline.notebooks import main
    except ImportError as exc:  # the [notebooks] extra is missing: say which
        raise _fail("notebooks", exc) from exc

    main(paths=_paths())


@task
def warm(c):
    """Build the serving cache of the live model and catalogue (known users' ranked lists, the
    TF-IDF matrix, the content map), so the next `invoke serve` or reload loads in seconds and
    a factor model's known users are answered from their lists (a server start does not rank
    them: ~15 min at 162k users × 59k titles)."""
    _log()
    from src.models.predict_model import Recommender

    _guarded("warm", Recommender.load, _paths(), build_lists=True)


@task(help={"host": "bind address", "port": "port",
            "workers": "worker processes (default 1; each loads the model, memory-mapped arrays are shared)"})
def serve(c, host="127.0.0.1", port="8000", workers="1"):
    """Serve the API, the viewer web app (at /) and the Gradio tool (at /ui): one process, or
    --workers processes sharing the port (each follows the model pointer by itself)."""
    port = _int_arg("serve", port, "--port", 1, 65535)
    workers = _int_arg("serve", workers, "--workers", 1, 64)
    if not str(host).strip():
        raise _fail("serve", ValueError("--host must not be empty"))
    _log()
    try:
        from src.serving.app import serve as run_serve
    except ImportError as exc:  # the [serve] extra is missing: say which
        raise _fail("serve", exc) from exc

    _guarded("serve", run_serve, host=host, port=port, paths=_paths(), workers=workers)


@task(help={
    "movies": "batch of new/changed titles (any registered catalogue schema; see --schema)",
    "credits": "credits for the batch (optional)",
    "keywords": "keywords for the batch (optional)",
    "inbox": "process every file in data/external/incoming instead",
    "retrain": "retrain the model afterwards when enough new ratings exist",
    "server_url": "running server to tell to reload (default: $STREAMREC_SERVER_URL)",
    "schema": SCHEMA_HELP,
    "platform": "the batch is this platform's whole catalogue (netflix, hbo, ...): titles it "
                "lists arrive, titles it no longer lists depart; needs --as-of",
    "as_of": "date of that platform snapshot, YYYY-MM-DD (snapshots must come in date order)",
    "force": "accept a batch that would shrink the catalogue past the guard (--movies only)",
})
def update(c, movies=None, credits=None, keywords=None, inbox=False, retrain=False, schema=None,
           server_url=None, platform=None, as_of=None, force=False):
    """Add or update movies and series incrementally, keeping every artifact consistent."""
    # schema before server_url: invoke gives the first of them -s; the other would get -h,
    # which must stay free for --help.
    if bool(movies) == bool(inbox):
        raise _fail("update", ValueError("give either --movies PATH or --inbox"))
    if not movies and (credits or keywords):
        raise _fail("update", ValueError("--credits/--keywords go with --movies"))
    _input_files("update", movies=movies, credits=credits, keywords=keywords)
    _log()
    from invoke.exceptions import Exit

    from src.pipeline.update import main

    out = _guarded("update", main, movies=movies, credits=credits, keywords=keywords,
                   inbox=inbox, retrain=retrain, paths=_paths(), server_url=server_url,
                   schema=schema, platform=platform, as_of=as_of, force=force)
    if out.get("status") == "locked":  # --inbox loser: same one line and code as --movies
        raise Exit(f"invoke update: {out['reason']}", code=2)


@task(help={"full": "also run the slow benchmarks at full scale"})
def bench(c, full=False):
    """Run the benchmarks in bench/ and record ratios in reports/benchmarks.md."""
    flag = " --full" if full else ""
    for script in ("bench_parse.py", "bench_features.py", "bench_recommend.py", "bench_api.py",
                   "bench_models.py", "bench_bad_inputs.py", "bench_protocols.py", "bench_scale.py"):
        c.run(f"{sys.executable} bench/{script}{flag}", pty=False)
    for script in ("bench_bundle.py", "bench_api_badinput.py", "bench_catalogue.py",  # one scale only
                   "bench_collab_blend.py", "bench_ann_serving.py", "bench_spark_engine.py"):
        c.run(f"{sys.executable} bench/{script}", pty=False)
    for data in ("ratings_small", "ml100k-style"):   # the validated rating blend, 5-fold CV
        c.run(f"{sys.executable} bench/bench_rating_blend.py --data {data} --cv", pty=False)
    if full:
        # the whole `invoke train --engine implicit`, `invoke warm` and serving at 25M (~25 min,
        # ~6 GB, ~4 GB of workspace), then on that workspace the ANN's recall and the API load
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bench-25m-") as ws:
            c.run(f"{sys.executable} bench/bench_fullscale.py --workspace {ws}", pty=False)
            c.run(f"{sys.executable} bench/bench_ann_recall.py --home {ws}", pty=False)
            c.run(f"{sys.executable} bench/bench_api.py --home {ws} --workers 1,2 --repeat 3 --no-ui --seconds 20 "
                  "--section 'API load: factor bundle, 25M ratings (--home workspace)'", pty=False)
        # the README's main job at full synthetic scale through `invoke` children (issue 14)
        c.run(f"{sys.executable} bench/bench_fullsynth.py", pty=False)
        # EASE's item cap there: NDCG@10 against fit time (why EASE_MAX_ITEMS is 12k)
        c.run(f"{sys.executable} bench/bench_ease_cap.py", pty=False)
        # issue 14's Spark crossover: every engine on one hold-out at 5M, then 25M (a seeded 30k
        # test-user sample: scoring all 162k costs more than the fits; Spark's heap 4g; EASE
        # peaks ~8.3 GB there). ~1 h + ~1.5 h on a busy 2-core box.
        c.run(f"{sys.executable} bench/bench_scale.py --crossover 5000000", pty=False)
        c.run(f"{sys.executable} bench/bench_scale.py --crossover 25000000 --eval-users 30000 "
              "--spark-driver-memory 4g", pty=False)


@task(help={"k": "only tests matching this expression", "x": "stop at first failure",
            "quick": "skip the tests marked slow (browser, crash, notebooks, end-to-end): -m 'not slow'"})
def test(c, k=None, x=False, quick=False):
    """Run the test suite (unit, integration on ../shared/data, API, browser); installs Chromium and Java if missing."""
    import shlex

    from src.pipeline.browser import ensure_chromium
    from src.pipeline.java import ensure_java

    # The browser test needs Debian's Chromium and the Spark test a JRE: install them (root +
    # apt-get) or say why not, before pytest starts, so the README's command sets up a fresh
    # machine on its own (--quick runs neither slow test).
    problem = None if quick else (ensure_chromium() or ensure_java())
    if problem:
        raise _fail("test", RuntimeError(problem))
    args = ["-q", "-ra"]
    if k:
        args += ["-k", k]
    if x:
        args.append("-x")
    if quick:
        args += ["-m", "not slow"]
    c.run(f"{shlex.quote(sys.executable)} -m pytest {shlex.join(args)}", pty=False)


@task
def all(c):  # noqa: A001 - "invoke all" is the documented name
    """The main job: data -> features -> train -> warm -> evaluate -> figures -> report (demo data if
    data/raw is empty)."""
    log = _log()
    from src.data.make_dataset import find_raw_inputs

    paths = _paths().ensure()
    if find_raw_inputs(paths.raw).get("movies") is None:
        log.info("data/raw holds no movies file: generating the small synthetic demo dataset there "
                 "(download the Kaggle 'The Movies Dataset' files into data/raw to use real data)")
        demo_data(c)
    data(c)
    features(c)
    train(c)
    warm(c)   # the first server start after a train would otherwise build it (minutes at full scale)
    evaluate(c)
    figures(c)
    report(c)
    log.info("done: catalogue %s, model %s, report %s", paths.merged, paths.model_bundle,
             paths.reports / "README.md")
