"""Frames of clips: a strip of frames with their indices, and clips under their true and predicted class."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hybridvid_lib.evaluation import predicted_labels, prepare_predictions
from hybridvid_lib.viz.common import RIGHT_COLOR, WRONG_COLOR, figure_and_axes, new_figure


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
    fig, ax = figure_and_axes(ax, (min(16.0, 1.4 * len(chosen) + 0.4), 1.9))
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
        fig = new_figure((width, 1.5))
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified clip", ha="center", va="center")
        ax.set_axis_off()
        return fig
    fig = new_figure((width, 1.75 * rows.size + (0.3 if title else 0)))
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
