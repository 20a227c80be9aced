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


def _log():
    from src.utils.logging import setup_logging

    return setup_logging()


def _split(csv: str | None) -> list[str] | None:
    """A comma-separated option (``"Drama, Comedy"``) as a list of names; None when empty."""
    return [g.strip() for g in csv.split(",") if g.strip()] if csv else None


@task(help={
    "scale": "small (seconds; whole pipeline < 1 min) or full (45k movies, ~190 MB credits, 1M+ ratings)",
    "out_dir": "where to write the CSVs (default data/raw)",
    "seed": "random seed",
})
def demo_data(c, scale="small", out_dir=None, seed=0):
    """Generate a synthetic dataset in the exact Kaggle shapes (movies, credits, keywords, links, ratings)."""
    _log()
    from src.data.synthetic import generate

    generate(out_dir or _paths().raw, scale=scale, seed=int(seed))


@task(help={
    "movies": "movies CSV (movies_metadata/movies_dataset or tmdb_5000 schema); default: found in data/raw",
    "credits": "credits CSV (optional)",
    "keywords": "keywords CSV (optional)",
    "links": "MovieLens links CSV (optional)",
    "ratings": "MovieLens ratings CSV (optional)",
    "out_dir": "processed output folder (default data/processed)",
})
def data(c, movies=None, credits=None, keywords=None, links=None, ratings=None, out_dir=None):
    """ETL: flatten nested cells, clean, quarantine bad rows, merge into merged_data6.csv."""
    _log()
    from src.data.make_dataset import main

    main(movies=movies, credits=credits, keywords=keywords, links=links, ratings=ratings,
         out_dir=out_dir, paths=_paths())


@task
def features(c):
    """Build features.parquet (genre dummies, score_final, weighted_rating, text) from merged_data6.csv."""
    _log()
    from src.features.build_features import main

    main(paths=_paths())


@task
def figures(c):
    """Write the EDA (and, when present, model) figures to reports/figures."""
    _log()
    from src.visualization.visualize import main

    main(paths=_paths())


@task(help={"ratings": "ratings CSV (default: processed ratings)", "links": "links CSV mapping movieId->tmdbId"})
def tune(c, ratings=None, links=None):
    """Grid-search SVD hyper-parameters; save the best next to the model."""
    _log()
    from src.models.train_model import tune as run_tune

    run_tune(ratings=ratings, links=links, paths=_paths())


@task(help={"ratings": "ratings CSV (default: processed ratings + SQLite feedback)", "links": "links CSV"})
def train(c, ratings=None, links=None):
    """Train the SVD rating model and top-N ranker on real user ratings; save a checksummed bundle."""
    _log()
    from src.models.train_model import main

    main(ratings=ratings, links=links, paths=_paths())


@task(help={
    "ratings": "ratings CSV (default: processed ratings)",
    "links": "links CSV",
    "out": "metrics JSON (default reports/metrics.json)",
    "svdpp": "also run SVD++ (slow)",
})
def evaluate(c, ratings=None, links=None, out=None, svdpp=False):
    """5-fold CV RMSE/MAE, top-N metrics and the random/cold/temporal/new-title protocols vs baselines."""
    _log()
    from src.evaluation.evaluate import main
    from src.visualization.model_plots import plot_model_comparison

    from invoke.exceptions import Exit

    paths = _paths()
    try:
        metrics = main(ratings=ratings, links=links, out=out, svdpp=svdpp, paths=paths)
    except (ValueError, FileNotFoundError) as exc:   # bad input (e.g. MovieLens ids, no links): one line
        raise Exit(f"invoke evaluate: {exc}", code=2) from None
    plot_model_comparison(metrics, paths.figures)


@task(help={"user": "user id", "genres": "comma-separated genre filter",
            "n": "how many (invoke spells one-letter options -n)"})
def recommend(c, user=None, genres=None, n=10):
    """Print top-N recommendations for a user (cold start for unknown users)."""
    from invoke.exceptions import Exit

    # ``user`` has a default so that invoke parses it as a flag only: an argument without a
    # default is positional and would swallow ``--help`` as the user id.
    if user is None:
        raise Exit("invoke recommend: --user is required", code=2)
    _log()
    from src.models.predict_model import main

    try:
        main(user_id=int(user), genres=_split(genres), n=int(n), paths=_paths())
    except (ValueError, KeyError, FileNotFoundError) as exc:  # a message, not a traceback
        raise Exit(f"invoke recommend: {exc}", code=2) from exc


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
    from src.pipeline.notebooks import main

    main(paths=_paths())


@task(help={"host": "bind address", "port": "port"})
def serve(c, host="127.0.0.1", port=8000):
    """Serve the FastAPI API and the Gradio UI (at /ui) from one process."""
    _log()
    from src.serving.app import serve as run_serve

    run_serve(host=host, port=int(port), paths=_paths())


@task(help={
    "movies": "batch of new/changed titles (either catalogue schema; optional media_type)",
    "credits": "credits for the batch (optional)",
    "keywords": "keywords for the batch (optional)",
    "inbox": "process every file in data/external/incoming instead",
    "retrain": "retrain the model afterwards when enough new ratings exist",
    "server_url": "running server to tell to reload (default: $STREAMREC_SERVER_URL)",
})
def update(c, movies=None, credits=None, keywords=None, inbox=False, retrain=False, server_url=None):
    """Add or update movies and series incrementally, keeping every artifact consistent."""
    _log()
    from src.pipeline.update import main

    main(movies=movies, credits=credits, keywords=keywords, inbox=inbox, retrain=retrain,
         paths=_paths(), server_url=server_url)


@task(help={"full": "also run the slow benchmarks at full scale"})
def bench(c, full=False):
    """Run the benchmarks in bench/ and record ratios in reports/benchmarks.md."""
    flag = " --full" if full else ""
    for script in ("bench_parse.py", "bench_features.py", "bench_recommend.py", "bench_api.py",
                   "bench_models.py", "bench_protocols.py"):
        c.run(f"{sys.executable} bench/{script}{flag}", pty=False)


@task(help={"k": "only tests matching this expression", "x": "stop at first failure"})
def test(c, k=None, x=False):
    """Run the test suite (unit, integration on ../shared/data, API, browser)."""
    args = ["-q", "-ra"]
    if k:
        args += ["-k", f'"{k}"']
    if x:
        args.append("-x")
    c.run(f"{sys.executable} -m pytest {' '.join(args)}", pty=False)


@task
def all(c):  # noqa: A001 - "invoke all" is the documented name
    """The main job: data -> features -> train -> evaluate -> figures -> report (demo data if data/raw is empty)."""
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
    evaluate(c)
    figures(c)
    report(c)
    log.info("done: catalogue %s, model %s, report %s", paths.merged, paths.model_bundle,
             paths.reports / "README.md")
