"""What every plot of :mod:`hybridvid_lib.viz` shares: colours, new figures, drawing into a given Axes, saving.

New figures are made through ``pyplot``, so a notebook shows (and then closes) every figure a
cell draws; :func:`save_figure` writes a PNG atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hybridvid_lib.io_utils import atomic_path

RIGHT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"
BAR_COLOR = "tab:blue"
HIGHLIGHT_COLOR = "tab:orange"
DEFAULT_DPI = 110


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A pyplot figure (so a notebook shows it) with constrained layout (labels never overlap)."""
    return plt.figure(figsize=figsize, layout="constrained")


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Draw into ``ax`` when given, else into a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = DEFAULT_DPI, close: bool = False) -> Path:
    """Write ``fig`` as a PNG atomically (no half-written image if interrupted); return the path.

    ``close=True`` also releases the figure (scripts and the course report; in a notebook it
    would keep the figure from being shown).
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; the path must end in .png, got {path.name!r}.")
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path
