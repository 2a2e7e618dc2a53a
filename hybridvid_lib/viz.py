"""Plots a learner would rather look at than read: curves, confusion, per-class bars, ROC, clips, leaderboard.

Every function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``::

    from hybridvid_lib.viz import plot_history, plot_confusion_matrix, save_figure
    fig = plot_history(history)                     # a Keras History or its .history dict
    save_figure(fig, OUTPUT_DIR / "history.png")    # atomic PNG
    plot_confusion_matrix(metrics["confusion_matrix"], class_names);

New figures are made through ``pyplot``, so a notebook shows (and then closes) every figure a
cell draws, as learners expect from matplotlib. End a plotting line with ``;`` or assign the
figure: a figure that is also the cell's last value is otherwise shown twice. Without a display
(tests, the course runner) matplotlib falls back to the Agg backend; scripts that draw many
figures pass ``close=True`` to :func:`save_figure`. Functions that draw one panel take ``ax=``
to draw into an existing figure instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hybridvid_lib.evaluation import predicted_labels, prepare_predictions
from hybridvid_lib.io_utils import atomic_path

RIGHT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"
BAR_COLOR = "tab:blue"
HIGHLIGHT_COLOR = "tab:orange"
DEFAULT_DPI = 110
# Keras logs these per epoch, but they are not curves to compare train against val.
_NOT_CURVES = ("lr", "learning_rate")


def _new_figure(figsize: tuple[float, float]) -> Figure:
    """A pyplot figure (so a notebook shows it) with constrained layout (labels never overlap)."""
    return plt.figure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Draw into ``ax`` when given, else into a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig = _new_figure(figsize)
    return fig, fig.add_subplot()


def to_uint8_frames(frames: Any) -> np.ndarray:
    """``(..., H, W, 3 or 1)`` uint8, or float in [-1, 1] (the pipeline's clips) -> ``(..., H, W, 3)`` uint8 RGB."""
    arr = np.asarray(frames)
    if arr.ndim < 3 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"Frames must end in (H, W, 3) or (H, W, 1); got shape {arr.shape}.")
    if arr.dtype != np.uint8:
        if arr.dtype.kind != "f":
            raise ValueError(f"Frames must be uint8 or float in [-1, 1]; got dtype {arr.dtype}.")
        arr = np.clip(np.round((arr.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def _frame_strip(frames: np.ndarray, gap: int) -> tuple[np.ndarray, list[float]]:
    """``(K, H, W, 3)`` uint8 -> one ``(H, K*W + (K-1)*gap, 3)`` image (white gaps) and each frame's centre x."""
    k, h, w, _ = frames.shape
    strip = np.full((h, k * w + (k - 1) * gap, 3), 255, dtype=np.uint8)
    centres = []
    for i, frame in enumerate(frames):
        x = i * (w + gap)
        strip[:, x:x + w] = frame
        centres.append(x + (w - 1) / 2)
    return strip, centres


def _evenly_spaced(total: int, num: int) -> np.ndarray:
    """``min(num, total)`` indices spread evenly over ``range(total)``, first and last included."""
    if num < 1:
        raise ValueError(f"The number of frames to show must be >= 1; got {num}.")
    return np.unique(np.round(np.linspace(0, total - 1, min(num, total))).astype(int))


# --------------------------------------------------------------------------- training
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
        fig = _new_figure((4.2 * len(metrics), 3.4))
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


# --------------------------------------------------------------------------- evaluation
def plot_confusion_matrix(
    cm: Any,
    class_names: Sequence[str],
    *,
    normalize: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Annotated confusion matrix heat map (rows = true class, columns = predicted), via scikit-learn.

    Args:
        cm: ``(C, C)`` counts, e.g. ``evaluate_predictions(...)["confusion_matrix"]``.
        class_names: ``C`` names.
        normalize: colour and annotate each row as fractions of that class's samples (a class
            without samples keeps a zero row); ``False`` shows the raw counts.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.asarray(cm)
    names = [str(n) for n in class_names]
    if counts.ndim != 2 or counts.shape != (len(names), len(names)):
        raise ValueError(
            f"cm must be a square (C, C) matrix with C = {len(names)} class names; got shape {counts.shape}."
        )
    if counts.dtype.kind not in "iuf" or np.any(counts < 0):
        raise ValueError("cm must hold counts (numbers >= 0).")
    num = len(names)
    side = max(4.0, 0.42 * num + 2.2)
    fig, ax = _figure_and_axes(ax, (side + 0.8, side))
    if normalize:
        totals = counts.sum(axis=1, keepdims=True).astype(float)
        values = np.divide(counts, totals, out=np.zeros(counts.shape, float), where=totals > 0)
        fmt, im_kw = ".2f", {"vmin": 0.0, "vmax": 1.0}
    else:
        values, fmt, im_kw = counts.astype(int), "d", {}
    fontsize = float(np.clip(110 / num, 5, 10))
    display = ConfusionMatrixDisplay(values, display_labels=names)
    display.plot(ax=ax, cmap="Blues", values_format=fmt, colorbar=True, im_kw=im_kw,
                 text_kw={"fontsize": fontsize}, xticks_rotation=45 if num <= 20 else 90)
    # scikit-learn picks the text colour from the data range; with a fixed 0..1 scale that puts
    # white text on pale cells, so choose it from the cell's place on the colour scale instead.
    top = 1.0 if normalize else max(1, int(values.max()))
    for text, value in zip(display.text_.ravel(), values.ravel()):
        text.set_color("white" if value > 0.55 * top else "black")
        if normalize and value == 0:  # "0" instead of "0.00": with 12+ classes most cells are empty
            text.set_text("0")
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    ax.tick_params(labelsize=fontsize + 1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion matrix (each row sums to 1)" if normalize else "confusion matrix (counts)"))
    return fig


def plot_per_class_accuracy(
    per_class: Mapping[str, float | None],
    *,
    highlight: Sequence[str] = (),
    sort: bool = False,
    chance: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars of per-class accuracy (recall), top to bottom in class order or sorted best first.

    Args:
        per_class: ``{class: accuracy in [0, 1], or None when the class had no test sample}``
            (``evaluate_predictions(...)["per_class_accuracy"]``). ``None`` classes get no bar and an
            "no test sample" note.
        highlight: classes drawn in orange (e.g. the time-reverse pairs); unknown names are refused.
        sort: best first instead of class order (classes without a sample last).
        chance: draw a dotted vertical line at this accuracy (e.g. ``1 / num_classes``).
    """
    if not per_class:
        raise ValueError("per_class must map at least one class name to its accuracy.")
    unknown = [h for h in highlight if h not in per_class]
    if unknown:
        raise ValueError(f"Cannot highlight unknown classes {unknown}; known classes: {', '.join(per_class)}.")
    items = list(per_class.items())
    if sort:
        items.sort(key=lambda kv: (kv[1] is None, -(kv[1] or 0.0)))
    fig, ax = _figure_and_axes(ax, (6.0, max(2.5, 0.32 * len(items) + 1.2)))
    ys = np.arange(len(items))
    for y, (name, value) in zip(ys, items):
        if value is None:
            ax.text(0.01, y, "no test sample", va="center", fontsize="small", color="gray")
            continue
        ax.barh(y, value, color=HIGHLIGHT_COLOR if name in highlight else BAR_COLOR)
        ax.text(value + 0.01, y, f"{value:.2f}", va="center", fontsize="small")
    if chance is not None:
        ax.axvline(chance, color="gray", linestyle=":", label=f"chance ({chance:.2f})")
        ax.legend(loc="lower right", fontsize="small")
    ax.set_yticks(ys, [name for name, _ in items])
    ax.set_ylim(len(items) - 0.5, -0.5)  # first class at the top, as in a table; room for bar-less rows
    ax.set_xlim(0, 1.12)  # room right of a full bar for its number
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("accuracy (recall)")
    ax.set_title(title or "per-class accuracy")
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_roc_curves(
    y_true: Any,
    y_prob: Any,
    class_names: Sequence[str],
    *,
    max_classes: int = 12,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """One-vs-rest ROC curve per class (scikit-learn's ``roc_curve``), AUC in the legend, chance diagonal.

    Args:
        y_true: ``(N,)`` int class indices.
        y_prob: ``(N, C)`` probabilities (logits go through softmax, as in ``evaluate_predictions``).
        class_names: ``C`` names.
        max_classes: with more classes present than this, only the ``max_classes`` with the lowest
            AUC (the hardest) are drawn, and the title says so.

    Classes absent from ``y_true`` have no curve. With fewer than two classes present no ROC exists:
    the panel says so instead of raising, so a tiny smoke run still completes.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    names = [str(n) for n in class_names]
    labels, probs, _ = prepare_predictions(y_true, y_prob, names)
    if max_classes < 1:
        raise ValueError(f"max_classes must be >= 1; got {max_classes}.")
    fig, ax = _figure_and_axes(ax, (5.6, 4.8))
    present = [int(c) for c in np.unique(labels)]
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    heading = title or "one-vs-rest ROC"
    if len(present) < 2:
        ax.text(0.5, 0.5, "ROC undefined: the test labels hold a single class", ha="center", va="center")
        ax.set_title(heading)
        return fig
    aucs = {c: float(roc_auc_score(labels == c, probs[:, c])) for c in present}
    shown = present
    if len(present) > max_classes:
        shown = sorted(sorted(present, key=lambda c: aucs[c])[:max_classes])
        heading += f" ({max_classes} hardest of {len(present)} classes)"
    # tab10 repeats after ten curves; tab20 keeps up to twenty apart.
    palette = colormaps["tab10" if len(shown) <= 10 else "tab20"]
    for k, c in enumerate(shown):
        fpr, tpr, _ = roc_curve(labels == c, probs[:, c])
        ax.plot(fpr, tpr, linewidth=1.4, color=palette(k % palette.N),
                label=f"{names[c]} (AUC {aucs[c]:.3f})")
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1, label="chance (AUC 0.5)")
    ax.legend(loc="lower right", fontsize="x-small" if len(shown) > 6 else "small")
    ax.set_title(heading)
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- frames
def show_frames(
    frames: Any,
    *,
    num: int = 8,
    indices: Sequence[int] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A strip of frames, each labelled with its frame index (to compare sampling strategies).

    Args:
        frames: ``(T, H, W, 3)`` uint8, or float in [-1, 1].
        num: how many frames, spread evenly over ``T`` (all when ``T <= num``).
        indices: exactly these frame indices instead (e.g. the ones a sampler picked); overrides ``num``.
    """
    arr = to_uint8_frames(frames)
    if arr.ndim != 4:
        raise ValueError(f"show_frames expects frames of shape (T, H, W, 3); got {np.asarray(frames).shape}.")
    total = arr.shape[0]
    if indices is None:
        chosen = _evenly_spaced(total, num)
    else:
        chosen = np.asarray(list(indices), dtype=int)
        if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= total:
            raise ValueError(f"indices must be frame numbers in [0, {total}); got {chosen.tolist()}.")
    strip, centres = _frame_strip(arr[chosen], gap=max(1, arr.shape[2] // 16))
    fig, ax = _figure_and_axes(ax, (min(16.0, 1.4 * len(chosen) + 0.4), 1.9))
    ax.imshow(strip, interpolation="nearest")
    ax.set_xticks(centres, [str(i) for i in chosen], fontsize="small")
    ax.set_yticks([])
    ax.set_xlabel("frame")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return fig


def plot_sample_predictions(
    clips: Any,
    y_true: Any,
    y_prob: Any,
    class_names: Sequence[str],
    *,
    frames_per_clip: int = 4,
    max_clips: int = 6,
    errors_only: bool = False,
    title: str | None = None,
) -> Figure:
    """A grid of clips, one row each: frames under "true / predicted (p)", green when right, red when wrong.

    Args:
        clips: ``(N, T, H, W, 3)`` float in [-1, 1] (the pipeline's clips) or uint8.
        y_true: ``(N,)`` int class indices.
        y_prob: ``(N, C)`` probabilities or logits; ``p`` is the probability of the predicted class.
        class_names: ``C`` names.
        frames_per_clip: frames shown per row.
        max_clips: rows at most (the first clips, or the first mistakes with ``errors_only``).
        errors_only: show only misclassified clips (a "no mistake" note when there is none).

    The grid builds its own figure (one Axes per row), so there is no ``ax`` argument.
    """
    names = [str(n) for n in class_names]
    labels, probs, _ = prepare_predictions(y_true, y_prob, names)
    arr = to_uint8_frames(clips)
    if arr.ndim != 5 or arr.shape[0] != labels.shape[0]:
        raise ValueError(
            f"clips must have shape (N, T, H, W, 3) with N = {labels.shape[0]} like y_true; "
            f"got {np.asarray(clips).shape}."
        )
    if max_clips < 1:
        raise ValueError(f"max_clips must be >= 1; got {max_clips}.")
    pred = predicted_labels(probs)
    rows = np.flatnonzero(pred != labels) if errors_only else np.arange(labels.shape[0])
    rows = rows[:max_clips]
    chosen = _evenly_spaced(arr.shape[1], frames_per_clip)
    width = min(16.0, 1.5 * len(chosen) + 0.5)
    if rows.size == 0:
        fig = _new_figure((width, 1.5))
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified clip", ha="center", va="center")
        ax.set_axis_off()
        return fig
    fig = _new_figure((width, 1.75 * rows.size + (0.3 if title else 0)))
    axes = fig.subplots(rows.size, 1, squeeze=False)[:, 0]
    for ax, i in zip(axes, rows):
        strip, _ = _frame_strip(arr[i][chosen], gap=max(1, arr.shape[3] // 16))
        ax.imshow(strip, interpolation="nearest")
        ax.set_axis_off()
        right = pred[i] == labels[i]
        ax.set_title(f"{names[labels[i]]} / {names[pred[i]]} ({probs[i, pred[i]]:.2f})",
                     color=RIGHT_COLOR if right else WRONG_COLOR, fontsize="medium")
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- course report
def plot_leaderboard(
    rows: Sequence[Mapping[str, Any]],
    *,
    xlabel: str = "test accuracy",
    sort: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars of mean +- std over seeds, annotated "mean +- std (n=...)", best at the top.

    Args:
        rows: dicts with ``label`` (or ``model``), ``mean``, ``std`` and ``n``, e.g. a label plus
            :func:`hybridvid_lib.evaluation.summarize_runs`.
        sort: best mean first (else the given order, top to bottom).
    """
    if not rows:
        raise ValueError(
            "plot_leaderboard needs at least one row like {'label': 'cnn_lstm', 'mean': 0.8, 'std': 0.02, 'n': 3}."
        )
    entries = []
    for i, row in enumerate(rows):
        label = row.get("label", row.get("model"))
        if label is None or "mean" not in row:
            raise ValueError(f"Leaderboard row {i} needs 'label' (or 'model') and 'mean'; got keys {sorted(row)}.")
        entries.append((str(label), float(row["mean"]), float(row.get("std") or 0.0), int(row.get("n", 1))))
    if sort:
        entries.sort(key=lambda e: -e[1])
    fig, ax = _figure_and_axes(ax, (7.0, max(2.2, 0.4 * len(entries) + 1.2)))
    ys = np.arange(len(entries))
    means = np.array([e[1] for e in entries])
    stds = np.array([e[2] for e in entries])
    ax.barh(ys, means, xerr=stds, color=BAR_COLOR, alpha=0.85, capsize=4, error_kw={"elinewidth": 1.2})
    right = float(max(1.0, np.max(means + stds))) if np.all(means >= 0) else None
    for y, (_, mean, std, n) in zip(ys, entries):
        ax.text(mean + std + 0.01 * (right or 1.0), y, f"{mean:.3f} ± {std:.3f} (n={n})",
                va="center", fontsize="small")
    ax.set_yticks(ys, [e[0] for e in entries])
    ax.invert_yaxis()
    if right is not None:
        ax.set_xlim(0, right * 1.25)  # room for the annotations
    ax.set_xlabel(f"{xlabel} (mean ± std over seeds)")
    ax.set_title(title or "leaderboard")
    ax.grid(axis="x", alpha=0.3)
    return fig


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
