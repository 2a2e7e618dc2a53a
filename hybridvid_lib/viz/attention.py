"""Attention over time (chapter 07): where the hybrid's temporal attention put its weight along a clip.

The hybrid's attention gives one weight per feature step (``(T',)``, summing to 1). An I3D feature step is one
every 8 frames (chapter 06: Mixed_5c has a temporal stride of 8), so step ``t`` is drawn over frames
``[8t, 8t + 8)`` of the clip the features were extracted from. That is where the step's *centre of stride*
lies, not all it sees: its receptive field is 99 frames wide, so on a 40-frame clip every step has seen most
of the clip. The weights say where the pooling put weight, not what caused the decision.

::

    from hybridvid_lib.viz.attention import AttentionScrubber, plot_attention_over_frames
    plot_attention_over_frames(clips, weights, titles=names);        # one panel per clip
    plot_mean_attention_by_class(weights, labels, class_names);      # classes x steps heat map
    scrubber = AttentionScrubber(load_clip, clip_names)              # load_clip(name) -> (frames, weights)
    scrubber.widget                                                  # display it (last expression of a cell)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import ipywidgets as w
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from hybridvid_lib.data.video import check_rgb_clip
from hybridvid_lib.drawing import enlarge
from hybridvid_lib.viz.common import BAR_COLOR, HIGHLIGHT_COLOR, figure_and_axes, new_figure
from hybridvid_lib.viz.frames import to_uint8_frames
from hybridvid_lib.widgets import encode_png

#: Frames per I3D feature step (the temporal stride of Mixed_5c).
FRAMES_PER_STEP = 8

ClipLoader = Callable[[str], "tuple[np.ndarray, np.ndarray]"]


def _check_weights(weights: Any, who: str) -> np.ndarray:
    arr = np.asarray(weights, dtype=np.float64)
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or arr.min() < 0:
        raise ValueError(f"{who} expects one non-negative attention weight per feature step, shape (T',); got "
                         f"shape {arr.shape}.")
    return arr


def step_of_frame(frame: int, num_steps: int, frames_per_step: int = FRAMES_PER_STEP) -> int:
    """The feature step drawn over ``frame``: ``frame // frames_per_step``, the last step for any frame past it."""
    if num_steps < 1 or frames_per_step < 1:
        raise ValueError(f"num_steps and frames_per_step must be >= 1; got {num_steps}, {frames_per_step}.")
    return int(min(max(int(frame), 0) // frames_per_step, num_steps - 1))


def step_frames(step: int, num_frames: int, num_steps: int, frames_per_step: int = FRAMES_PER_STEP) -> range:
    """The frames step ``step`` is drawn over: ``[8 step, 8 step + 8)``, the last step up to the clip's end."""
    start = step * frames_per_step
    end = num_frames if step == num_steps - 1 else min(num_frames, start + frames_per_step)
    return range(min(start, num_frames), end)


def plot_attention_over_frames(clips: Sequence[Any], weights: Any, *, titles: Sequence[str] | None = None,
                               frames_per_step: int = FRAMES_PER_STEP, frames_shown: int = 2,
                               scale_to: float | None = None) -> Figure:
    """One panel per clip: its frames as a strip, each feature step's attention weight as a bar over its frames.

    Args:
        clips: ``N`` clips ``(T, H, W, 3)``, uint8 or float in [-1, 1] (the pipeline's clips).
        weights: ``(N, T')`` attention weights (the model's ``attention`` output).
        titles: one title per clip (e.g. "SitDown, predicted SitDown").
        frames_per_step: frames per feature step (8 for I3D).
        frames_shown: frames drawn per step (evenly spaced within the step's frames).
        scale_to: the bar height that fills the bar row; ``None``: the largest weight shown (at least ``1/T'``).

    Returns:
        The figure; its axes are the ``N`` panels, in order.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or len(weights) != len(clips) or len(clips) == 0:
        raise ValueError(f"plot_attention_over_frames expects N clips and (N, T') weights; got {len(clips)} clips "
                         f"and weights of shape {weights.shape}.")
    if titles is not None and len(titles) != len(clips):
        raise ValueError(f"Give one title per clip: {len(clips)} clips, {len(titles)} titles.")
    num_steps = weights.shape[1]
    top = float(scale_to) if scale_to else max(float(weights.max()), 1.0 / num_steps)
    fig = new_figure((min(1.15 * num_steps * frames_shown, 16), 2.0 * len(clips)))
    axes = fig.subplots(len(clips), 1, squeeze=False)[:, 0]
    for n, (ax, clip) in enumerate(zip(axes, clips)):
        frames = to_uint8_frames(clip)
        if frames.ndim != 4:
            raise ValueError(f"Clip {n} must be (T, H, W, 3); got shape {np.shape(clip)}.")
        row = _check_weights(weights[n], "plot_attention_over_frames")
        h, wd = frames.shape[1:3]
        bar_h = 0.8 * h  # the bar row, in pixels of the frame strip
        for t in range(num_steps):
            span = step_frames(t, len(frames), num_steps, frames_per_step)
            picks = np.asarray(span)[np.unique(np.linspace(0, len(span) - 1, frames_shown).round().astype(int))] \
                if len(span) else []
            for k, f in enumerate(picks):
                x0 = (t * frames_shown + k) * wd
                ax.imshow(frames[f], extent=(x0, x0 + wd, bar_h + h + 2, bar_h + 2), interpolation="nearest")
            x0 = t * frames_shown * wd
            height = bar_h * min(row[t] / top, 1.0)
            ax.add_patch(Rectangle((x0 + 1, bar_h - height), frames_shown * wd - 2, height,
                                   color=HIGHLIGHT_COLOR if row[t] == row.max() else BAR_COLOR))
            first = span[0] if len(span) else 0
            last = span[-1] if len(span) else 0
            ax.text(x0 + frames_shown * wd / 2, bar_h - height - 1, f"{row[t]:.2f}", ha="center", va="bottom",
                    fontsize=8)
            ax.text(x0 + frames_shown * wd / 2, bar_h + h + 3, f"step {t}: frames {first}-{last}", ha="center",
                    va="top", fontsize=7)
        ax.set_xlim(0, num_steps * frames_shown * wd)
        ax.set_ylim(bar_h + h + 3 + 0.25 * h, -0.15 * h)  # image rows: bars on top of their frames, growing up
        ax.set_aspect("equal")
        ax.axis("off")
        if titles is not None:
            ax.set_title(str(titles[n]), fontsize=9, loc="left")
    return fig


def plot_mean_attention_by_class(weights: Any, labels: Any, class_names: Sequence[str], *,
                                 ax: Axes | None = None, title: str | None = None) -> Figure:
    """The mean attention weight of every feature step, class by class: a ``classes x steps`` heat map.

    Args:
        weights: ``(N, T')`` attention weights.
        labels: ``(N,)`` class ids (true or predicted: say which in the title).
        class_names: the names of the classes (rows); a class with no clip is left blank.
    """
    weights = np.asarray(weights, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    if weights.ndim != 2 or len(weights) != len(labels):
        raise ValueError(f"plot_mean_attention_by_class expects (N, T') weights and N labels; got {weights.shape} "
                         f"and {labels.shape}.")
    num_steps = weights.shape[1]
    means = np.full((len(class_names), num_steps), np.nan)
    for c in range(len(class_names)):
        if np.any(labels == c):
            means[c] = weights[labels == c].mean(axis=0)
    fig, ax = figure_and_axes(ax, (1.2 + 0.9 * num_steps, 0.5 + 0.35 * len(class_names)))
    image = ax.imshow(means, aspect="auto", cmap="viridis", vmin=0)
    for c in range(len(class_names)):
        for t in range(num_steps):
            if np.isfinite(means[c, t]):
                ax.text(t, c, f"{means[c, t]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if means[c, t] < 0.6 * np.nanmax(means) else "black")
    ax.set_yticks(range(len(class_names)), list(class_names))
    ax.set_xticks(range(num_steps), [f"{t}\n{t * FRAMES_PER_STEP}-{t * FRAMES_PER_STEP + FRAMES_PER_STEP - 1}"
                                     for t in range(num_steps)])
    ax.set_xlabel("feature step (frames it is drawn over)")
    fig.colorbar(image, ax=ax, label="mean attention weight")
    ax.set_title(title or f"mean attention per class (uniform: {1 / num_steps:.2f})")
    return fig


class AttentionScrubber:
    """A frame scrubber that shows, under each frame, the attention weight of the feature step it belongs to.

    Below the frame a row of bars gives every step's weight (the current step's bar in orange, the others in
    blue, full height = weight 1), and a marker shows where the current frame lies. A drop-down picks the clip
    (loaded through ``load_clip``), a slider and a Play button move through its frames. Outside a live kernel
    (papermill, a static page) the widget still renders its first frame.

    Args:
        load_clip: ``load_clip(name) -> (frames (T, H, W, 3) uint8 RGB, weights (T',))``.
        clip_names: the clips offered by the drop-down; the first one is shown first.
        frames_per_step: frames per feature step (8 for I3D): frame ``f`` belongs to step ``f // 8``.
        fps: playback speed of the Play button.
        scale: on-screen enlargement of the (small) frames.
    """

    BAR_ROWS = 24  # pixels of the bar row, before enlarging

    def __init__(self, load_clip: ClipLoader, clip_names: Sequence[str], *,
                 frames_per_step: int = FRAMES_PER_STEP, fps: int = 8, scale: int = 3):
        if not clip_names:
            raise ValueError("AttentionScrubber needs at least one clip name to offer.")
        if frames_per_step < 1:
            raise ValueError(f"frames_per_step must be >= 1; got {frames_per_step}.")
        self._load_clip = load_clip
        self.frames_per_step = int(frames_per_step)
        self.scale = int(scale)
        self.frames: np.ndarray = np.zeros((1, 1, 1, 3), np.uint8)
        self.weights: np.ndarray = np.ones(1)

        self.picker = w.Dropdown(options=list(clip_names), description="clip")
        self.slider = w.IntSlider(value=0, min=0, max=0, description="frame", continuous_update=True)
        self.play = w.Play(value=0, min=0, max=0, interval=max(1, round(1000 / fps)), description="play")
        self.image = w.Image(format="png")
        self.caption = w.Label()
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.picker.observe(lambda change: self.set_clip(change["new"]), names="value")
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.widget = w.VBox([self.picker, self.image, w.HBox([self.play, self.slider]), self.caption])
        self.set_clip(self.picker.value)

    def set_clip(self, name: str) -> None:
        """Load clip ``name`` and show its first frame."""
        frames, weights = self._load_clip(name)
        frames = check_rgb_clip(frames, "AttentionScrubber's load_clip result")
        weights = _check_weights(weights, "AttentionScrubber's load_clip result")
        if len(weights) > -(-len(frames) // self.frames_per_step):
            most = -(-len(frames) // self.frames_per_step)
            raise ValueError(f"load_clip returned {len(frames)} frames and {len(weights)} attention weights; at "
                             f"{self.frames_per_step} frames a step that is at most {most} steps.")
        self.frames, self.weights = frames, weights
        self.slider.value = 0
        self.slider.max = self.play.max = len(frames) - 1
        self.show(0)

    def step(self, t: int) -> int:
        """The feature step frame ``t`` belongs to."""
        return step_of_frame(t, len(self.weights), self.frames_per_step)

    def render(self, t: int) -> np.ndarray:
        """Frame ``t`` enlarged, above a row of bars: every step's weight, the current step's in orange."""
        t = int(np.clip(t, 0, len(self.frames) - 1))
        frame = self.frames[t]
        h, wd = frame.shape[:2]
        rows = self.BAR_ROWS
        canvas = np.full((h + rows, wd, 3), 255, np.uint8)
        canvas[:h] = frame
        current = self.step(t)
        num_steps = len(self.weights)
        for s, weight in enumerate(self.weights):
            x0 = int(round(s * wd / num_steps))
            x1 = int(round((s + 1) * wd / num_steps)) - 1
            height = int(round(min(float(weight), 1.0) * (rows - 4)))
            colour = (255, 127, 14) if s == current else (31, 119, 180)  # tab:orange, tab:blue
            if height > 0:
                canvas[h + rows - 1 - height:h + rows - 1, x0:max(x0 + 1, x1)] = colour
        marker = int(round((t + 0.5) * wd / len(self.frames)))
        canvas[h:h + 2, max(0, marker - 1):marker + 1] = (0, 0, 0)  # where this frame lies along the clip
        return enlarge(canvas, self.scale)

    def show(self, t: int) -> None:
        """Display frame ``t`` (clamped to the clip) with its step's weight."""
        t = int(np.clip(t, 0, len(self.frames) - 1))
        s = self.step(t)
        span = step_frames(s, len(self.frames), len(self.weights), self.frames_per_step)
        self.image.value = encode_png(self.render(t))
        self.caption.value = (f"{self.picker.value}: frame {t + 1} of {len(self.frames)}, feature step {s} "
                              f"(frames {span[0]}-{span[-1]}), attention weight {self.weights[s]:.2f} "
                              f"(uniform {1 / len(self.weights):.2f})")
