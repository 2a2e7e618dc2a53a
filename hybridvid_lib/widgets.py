"""ipywidgets players for the notebooks: scrub through a clip, play and pause it, pick a class.

::

    from hybridvid_lib.widgets import FramePlayer
    player = FramePlayer(load_clip, class_names)   # load_clip(class_name) -> (frames, joints or None)
    player.widget                                  # display it (last expression of a cell)

The player shows frame ``t`` of the current clip as a PNG in an ``ipywidgets.Image``; a ``Play`` widget
(play / pause / loop) is linked to the frame slider, a drop-down picks the class (a new clip is loaded through
``load_clip``), and a check box draws the skeleton over the frames when the clip has one. Outside a live
kernel (a notebook executed by papermill, a static page) the widget state still renders its first frame.
"""

from __future__ import annotations

from typing import Callable, Sequence

import cv2
import ipywidgets as w
import numpy as np

from hybridvid_lib.data.skeletons import SkeletonGraph
from hybridvid_lib.data.video import check_rgb_clip
from hybridvid_lib.drawing import draw_skeleton, enlarge

ClipLoader = Callable[[str], "tuple[np.ndarray, np.ndarray | None]"]


def encode_png(frame: np.ndarray) -> bytes:
    """``(H, W, 3)`` uint8 RGB -> PNG bytes."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV always encodes PNG
        raise RuntimeError("OpenCV could not encode a PNG image.")
    return buf.tobytes()


class FramePlayer:
    """A frame scrubber with play/pause, a class picker and an optional skeleton overlay.

    Args:
        load_clip: ``load_clip(class_name) -> (frames (T, H, W, 3) uint8 RGB, joints (T, J, 3[, M]) or None)``.
        class_names: the classes offered by the picker; the first one is shown first.
        graph: skeleton graph used to draw ``joints`` (needed only when clips carry joints).
        fps: playback speed of the Play button.
        scale: on-screen enlargement of the (small) frames.
    """

    def __init__(self, load_clip: ClipLoader, class_names: Sequence[str], *,
                 graph: SkeletonGraph | None = None, fps: int = 12, scale: int = 3):
        if not class_names:
            raise ValueError("FramePlayer needs at least one class name to offer.")
        self._load_clip = load_clip
        self.graph = graph
        self.scale = int(scale)
        self.frames: np.ndarray = np.zeros((1, 1, 1, 3), np.uint8)
        self.joints: np.ndarray | None = None

        self.picker = w.Dropdown(options=list(class_names), description="class")
        self.slider = w.IntSlider(value=0, min=0, max=0, description="frame", continuous_update=True)
        self.play = w.Play(value=0, min=0, max=0, interval=max(1, round(1000 / fps)), description="play")
        self.show_skeleton = w.Checkbox(value=False, description="skeleton")
        self.image = w.Image(format="png")
        self.caption = w.Label()
        w.jslink((self.play, "value"), (self.slider, "value"))

        self.picker.observe(lambda change: self.set_class(change["new"]), names="value")
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.show_skeleton.observe(lambda change: self.show(self.slider.value), names="value")
        self.widget = w.VBox([
            w.HBox([self.picker, self.show_skeleton]),
            self.image,
            w.HBox([self.play, self.slider]),
            self.caption,
        ], layout=w.Layout(align_items="flex-start"))  # children keep their own width: no frame stretched to the page
        self.set_class(self.picker.value)

    def set_class(self, class_name: str) -> None:
        """Load a clip of ``class_name`` and show its first frame."""
        frames, joints = self._load_clip(class_name)
        frames = check_rgb_clip(frames, "FramePlayer's load_clip result")
        if joints is not None and len(joints) != len(frames):
            raise ValueError(f"load_clip returned {len(frames)} frames but {len(joints)} poses.")
        self.frames, self.joints = frames, joints
        self.show_skeleton.disabled = joints is None or self.graph is None
        last = len(frames) - 1
        self.slider.value = 0
        self.slider.max = self.play.max = last
        self.show(0)

    def render(self, t: int) -> np.ndarray:
        """The enlarged frame ``t`` as displayed, skeleton drawn when the box is ticked."""
        frame = enlarge(self.frames[t], self.scale)
        if self.show_skeleton.value and self.joints is not None and self.graph is not None:
            frame = draw_skeleton(frame, self.joints[t], self.graph, scale=self.scale)
        return frame

    def show(self, t: int) -> None:
        """Display frame ``t`` (clamped to the clip)."""
        t = int(np.clip(t, 0, len(self.frames) - 1))
        self.image.value = encode_png(self.render(t))
        self.caption.value = f"{self.picker.value}: frame {t + 1} of {len(self.frames)}"
