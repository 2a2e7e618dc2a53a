"""Training curves: how loss and metrics moved over the epochs, train against validation."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hybridvid_lib.viz.common import new_figure

# Keras logs these per epoch, but they are not curves to compare train against val.
_NOT_CURVES = ("lr", "learning_rate")


def plot_history(
    history: Any,
    *,
    metrics: Sequence[str] | None = None,
    ax: Axes | Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Training curves, one panel per metric (loss first), train solid and validation dashed.

    Args:
        history: a Keras ``History`` (its ``.history`` is used) or ``{"loss": [...], "val_loss": [...],
            "accuracy": [...], ...}`` with one value per epoch.
        metrics: the metrics to draw (default: every logged one except the learning rate).
        ax: one Axes per panel (a single Axes when there is one panel); default: a new figure.
        title: figure title.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(
            "plot_history expects a Keras History or a non-empty dict like {'loss': [...], 'val_loss': [...]}."
        )
    bases = [k for k in logs if not k.startswith("val_") and k not in _NOT_CURVES]
    bases += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]  # val-only metrics
    if metrics is None:
        metrics = sorted(bases, key=lambda k: (k != "loss", bases.index(k)))
    for name in metrics:
        if name not in bases:
            raise ValueError(f"Metric {name!r} is not in the history; logged metrics: {', '.join(bases)}.")
    if not metrics:
        raise ValueError("plot_history found no metric to draw in the history.")
    if ax is None:
        fig = new_figure((4.2 * len(metrics), 3.4))
        axes = list(fig.subplots(1, len(metrics), squeeze=False)[0])
    else:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != len(metrics):
            raise ValueError(
                f"plot_history draws {len(metrics)} panels ({', '.join(metrics)}); got {len(axes)} axes."
            )
        fig = axes[0].figure
    for panel, name in zip(axes, metrics):
        for key, label, style in ((name, "train", "-"), (f"val_{name}", "validation", "--")):
            if key in logs:
                values = np.asarray(logs[key], dtype=float)
                panel.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        panel.set_xlabel("epoch")
        panel.set_ylabel(name)
        panel.set_title(name.replace("_", " "))
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.grid(alpha=0.3)
        panel.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
