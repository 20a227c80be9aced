"""Save a figure as PNG atomically with its data source as a footer and in the PNG metadata.

Every StreamRec figure goes through :func:`save_png`: the footer line ("Data: synthetic demo
data (src.data.synthetic, seed 0)" or the real files with their sha256, from
:mod:`src.data.provenance`) is drawn under the plot, and the same text is stored in the PNG's
``Description`` chunk so a test or a script can read it without OCR.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from matplotlib.figure import Figure

from src.config import FIGURE_DPI
from src.data.provenance import caption
from src.utils.io import atomic_path


def save_png(fig: Figure, target: Path, provenance: Mapping | None = None) -> Path:
    """Write ``fig`` to ``target`` (PNG, atomic) with the data-source footer; free it.

    In: the figure, the target path, the data's provenance (None gives "unknown data
    source": a figure never goes out without a source line). Out: ``target``.
    """
    text = caption(provenance)
    # Just under the axes; bbox_inches="tight" grows the canvas to include it.
    fig.text(0.01, -0.01, text, fontsize=7, color="0.35", ha="left", va="top")
    try:
        with atomic_path(target, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=FIGURE_DPI, format="png", bbox_inches="tight",
                        metadata={"Description": text})
    finally:
        fig.clear()  # Figure objects are not in pyplot's registry: clearing frees them
    return target
