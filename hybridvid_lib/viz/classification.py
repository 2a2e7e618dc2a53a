"""How well a classifier did: confusion matrix, per-class accuracy, ROC curves, and a leaderboard of runs."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hybridvid_lib.evaluation import prepare_predictions
from hybridvid_lib.viz.common import BAR_COLOR, HIGHLIGHT_COLOR, figure_and_axes


def plot_confusion_matrix(
    cm: Any,
    class_names: Sequence[str],
    *,
    normalize: bool = True,
    order: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Annotated confusion matrix heat map (rows = true class, columns = predicted), via scikit-learn.

    Args:
        cm: ``(C, C)`` counts, e.g. ``evaluate_predictions(...)["confusion_matrix"]``.
        class_names: ``C`` names.
        normalize: colour and annotate each row as fractions of that class's samples (a class
            without samples keeps a zero row); ``False`` shows the raw counts.
        order: the class names in the order to show them (every name once), e.g.
            :func:`~hybridvid_lib.evaluation.pair_order` so that the two classes of each pair sit
            side by side and their confusions form 2 x 2 blocks on the diagonal.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.asarray(cm)
    names = [str(n) for n in class_names]
    if counts.ndim != 2 or counts.shape != (len(names), len(names)):
        raise ValueError(
            f"cm must be a square (C, C) matrix with C = {len(names)} class names; got shape {counts.shape}."
        )
    if order is not None:
        order = [str(n) for n in order]
        if sorted(order) != sorted(names):
            raise ValueError(f"order must list every class name once; got {order!r} for {names!r}.")
        positions = [names.index(n) for n in order]
        counts, names = counts[np.ix_(positions, positions)], order
    if counts.dtype.kind not in "iuf" or np.any(counts < 0):
        raise ValueError("cm must hold counts (numbers >= 0).")
    num = len(names)
    side = max(4.0, 0.42 * num + 2.2)
    fig, ax = figure_and_axes(ax, (side + 0.8, side))
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
    fig, ax = figure_and_axes(ax, (6.0, max(2.5, 0.32 * len(items) + 1.2)))
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
    fig, ax = figure_and_axes(ax, (5.6, 4.8))
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
    fig, ax = figure_and_axes(ax, (7.0, max(2.2, 0.4 * len(entries) + 1.2)))
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


def plot_per_class_comparison(
    per_class: Mapping[str, Mapping[str, float | None]],
    *,
    highlight: Sequence[str] = (),
    chance: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Per-class accuracy of several models side by side: one group of horizontal bars per class.

    Args:
        per_class: ``{model: {class: accuracy or None}}``, every model over the same classes
            (``evaluate_predictions(...)["per_class_accuracy"]`` of each model), drawn in this order.
        highlight: classes whose names are drawn in bold orange (e.g. the time-reverse pairs).
        chance: draw a dotted vertical line at this accuracy.
    """
    if not per_class:
        raise ValueError("per_class must map at least one model name to its per-class accuracies.")
    models = list(per_class)
    classes = list(per_class[models[0]])
    for name in models[1:]:
        if list(per_class[name]) != classes:
            raise ValueError(f"every model must cover the same classes in the same order; {name!r} differs from "
                             f"{models[0]!r}.")
    unknown = [h for h in highlight if h not in classes]
    if unknown:
        raise ValueError(f"Cannot highlight unknown classes {unknown}; known classes: {', '.join(classes)}.")
    fig, ax = figure_and_axes(ax, (7.0, max(3.0, 0.22 * len(classes) * len(models) + 1.5)))
    height = 0.8 / len(models)
    ys = np.arange(len(classes))
    for i, name in enumerate(models):
        values = [per_class[name][c] for c in classes]
        offsets = ys - 0.4 + height * (i + 0.5)
        ax.barh(offsets, [v or 0.0 for v in values], height=height, label=name)
    if chance is not None:
        ax.axvline(chance, color="gray", linestyle=":", label=f"chance ({chance:.2f})")
    ax.set_yticks(ys, classes)
    for label in ax.get_yticklabels():
        if label.get_text() in highlight:
            label.set_color(HIGHLIGHT_COLOR)
            label.set_fontweight("bold")
    ax.set_ylim(len(classes) - 0.5, -0.5)
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("accuracy (recall)")
    ax.set_title(title or "per-class accuracy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize="small")
    return fig
