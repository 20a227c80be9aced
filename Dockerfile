# StreamRec API + web UI image: `invoke serve` on 0.0.0.0:8000 with data/ and models/ as volumes.
# Build:  docker build -t streamrec .      Run: docker compose up   (see README "Deploy")
# tests/test_deploy.py checks every command here against the package and lints this file.

# --- build stage: scikit-surprise compiles a C extension, so the compiler stays out of the
# runtime image; everything is installed into one venv that the runtime stage copies.
FROM python:3.11-slim AS build
# Debian's current build-essential (unpinned: pins break on every point release of the base).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY setup.py ./
COPY src ./src
# The [serve] extra only: no Jupyter, no test tools. Versions are bounded in setup.py (the
# package's own requirements), hence no pins on this line.
# hadolint ignore=DL3013
RUN pip install ".[serve]"

# --- runtime stage
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STREAMREC_HOME=/app \
    GRADIO_ANALYTICS_ENABLED=False
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# tasks.py is what `invoke` runs; .here marks the project root; the package is in the venv.
COPY .here tasks.py setup.py ./
COPY src ./src
# A non-root user owns only the folders the server writes: the workspace volumes.
RUN useradd --create-home --uid 10001 streamrec \
    && mkdir -p data/raw data/interim data/processed data/external models reports/figures \
    && chown -R streamrec:streamrec data models reports
# Numeric, so Kubernetes' runAsNonRoot can verify it without the image's /etc/passwd.
USER 10001
VOLUME ["/app/data", "/app/models"]
EXPOSE 8000
# /health answers once the model is loaded; the first load can take a while on a small box.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["invoke", "serve", "--host", "0.0.0.0"]
