"""One configured logger for StreamRec, routed through ``tqdm.write`` so bars stay clean.

Call :func:`setup_logging` explicitly from entry points (tasks, servers, notebooks);
importing this module configures nothing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Iterator

from tqdm.auto import tqdm

LOGGER_NAME = "streamrec"


class _TqdmHandler(logging.Handler):
    """Logging handler that prints through ``tqdm.write`` (keeps progress bars intact)."""

    def emit(self, record: logging.LogRecord) -> None:  # noqa: D401 - logging API
        try:
            tqdm.write(self.format(record))
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def setup_logging(level: int | str = logging.INFO) -> logging.Logger:
    """Configure and return the ``streamrec`` logger (idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if not any(isinstance(h, _TqdmHandler) for h in logger.handlers):
        handler = _TqdmHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def get_logger(name: str) -> logging.Logger:
    """Return a child of the ``streamrec`` logger, e.g. ``get_logger(__name__)``."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


@contextlib.contextmanager
def timed(logger: logging.Logger, what: str) -> Iterator[dict]:
    """Log how long the ``with`` block took; yields a dict that receives ``seconds``."""
    info: dict = {}
    start = time.perf_counter()
    try:
        yield info
    finally:
        info["seconds"] = time.perf_counter() - start
        logger.info("%s took %.2fs", what, info["seconds"])
