"""Install StreamRec's ``src`` package: ``pip install -e ".[dev]"`` for users and tests."""

from setuptools import find_packages, setup

INSTALL_REQUIRES = [
    "numpy>=1.26",
    "pandas>=2.1",
    "pyarrow>=14",
    "scipy>=1.11",
    "scikit-learn>=1.4",
    "threadpoolctl>=3.1",
    "scikit-surprise>=1.1.4",
    "matplotlib>=3.8",
    "seaborn>=0.13",
    "tqdm>=4.66",
    "invoke>=2.2",
    "pyprojroot>=0.3",
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
    "jupyter>=1.0",
    "ipykernel>=6.29",
    "nbformat>=5.10",
    "nbclient>=0.10",
    "nbconvert>=7.16",
]

DEV_REQUIRES = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "playwright>=1.44",
]

setup(
    name="streamrec",
    version="0.1.0",
    description="StreamRec: movie-and-series recommender (ETL, features, Surprise SVD, FastAPI + Gradio)",
    author="StreamRec contributors",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["src", "src.*"]),
    install_requires=INSTALL_REQUIRES,
    extras_require={"dev": DEV_REQUIRES},
)
