"""StreamRec: a movie-and-series recommender in the cookiecutter-data-science layout.

Stages live in sub-packages, each with a thin entry point that ``tasks.py`` calls:

- ``src.data``          raw files -> flattened, cleaned, merged ``merged_data6.csv``
- ``src.features``      merged catalogue -> model-ready ``features.parquet``
- ``src.models``        ratings -> trained, checksummed model bundle; recommendations
- ``src.visualization`` figures written to ``reports/figures``
- ``src.serving``       FastAPI + Gradio app
- ``src.utils``         paths, atomic writes, logging

``src.config`` owns every path and tunable parameter.
"""

__version__ = "0.1.0"
