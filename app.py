"""Hugging Face Spaces entry point: the StreamRec Gradio demo (``src.serving.ui``).

A Space (SDK: gradio) runs ``python app.py`` and serves port 7860. A fresh Space holds no
catalogue or model, so the first start runs the main job (``invoke all``: the Kaggle files in
``data/raw`` if the Space ships them, else the synthetic demo set — the UI's data are then
synthetic, as the reports say) and then launches the same UI that ``invoke serve`` mounts at
``/ui``. Locally: ``python app.py`` (needs the ``[serve]`` extra), or ``invoke serve`` for the
API and UI together.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from src.config import HF_SPACES_PORT, PATHS, Paths


def ensure_workspace(paths: Paths = PATHS) -> None:
    """Build the catalogue and model with ``invoke all`` when ``paths`` has no features yet."""
    if paths.features.exists():
        return
    subprocess.run([sys.executable, "-m", "invoke", "all"], check=True,
                   cwd=Path(__file__).resolve().parent, env={**os.environ, "STREAMREC_HOME": str(paths.root)})


def build_demo(paths: Paths = PATHS):
    """The Gradio Blocks of ``src.serving.ui`` over a :class:`~src.serving.service.Service` of ``paths``."""
    from src.serving.service import Service
    from src.serving.ui import build_ui

    return build_ui(Service(paths))


if __name__ == "__main__":
    from src.utils.logging import setup_logging

    setup_logging()
    ensure_workspace()
    build_demo().launch(server_name="0.0.0.0", server_port=int(os.environ.get("PORT", HF_SPACES_PORT)))
