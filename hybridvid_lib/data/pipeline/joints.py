"""Skeleton clips after the cache, in numpy: pick frames, centre and scale, flip, and mimic a pose estimator.

Joint arrays are tiny (``T x J x C``), so this runs as one ``tf.numpy_function`` per clip;
it keeps all joint arithmetic in one readable place, shared by every skeleton format.

A :class:`JointLayout` says what the channels of a format mean:

==============  ==========================  =========================================================
format          channels                    centring and scale
==============  ==========================  =========================================================
StickActions    x px, y px, confidence       mean pelvis of the clip's frames where seen; / max(H, W) px
NTU RGB+D       x, y, z metres (camera)      mean spine middle of the frames where seen; metres
==============  ==========================  =========================================================

Why the *mean* position over the clip, not the first frame's (as ST-GCN's NTU preprocessing
does): an origin taken from the first frame depends on the order of the frames, so coordinates
relative to it tell SitDown (the pelvis ends below where it started) from StandUp even after a
mean over time, and an order-blind baseline would look order-aware. The mean over the clip
treats every frame alike, so a clip and its time reverse get the same origin.

Arrays are ``(T, J, C)`` for one person, or ``(T, J, C, M)`` for ``M`` persons (NTU stores two
bodies; the second is zeros when only one person is there). A joint that is not seen
(confidence 0, or all coordinates exactly 0 for formats without confidence) stays at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridvid_lib.data.skeletons import mirror_joints


@dataclass(frozen=True)
class JointLayout:
    """What the channels of a joint array mean, and how a clip is centred and scaled.

    Attributes:
        num_joints: ``J``.
        coords: how many leading channels are coordinates (2: x, y; 3: x, y, z).
        confidence: index of the confidence channel, or ``None`` when there is none.
        center: the joint whose mean position over the clip (where seen) becomes the origin.
        scale: coordinates are divided by this after centring (pixels -> about [-1, 1]).
        default_origin: the origin when the centre joint is never seen in the clip.
        persons: ``M`` for ``(T, J, C, M)`` arrays, ``None`` for ``(T, J, C)``.
        mirror: the skeleton graph's mirror permutation (left/right joint swap), ``(J,)``.
    """

    num_joints: int
    coords: int
    confidence: int | None
    center: int
    scale: float
    default_origin: tuple[float, ...]
    mirror: tuple[int, ...]
    persons: int | None = None

    @property
    def channels(self) -> int:
        return self.coords + (0 if self.confidence is None else 1)

    def shape_doc(self, t: int | str = "T") -> str:
        persons = "" if self.persons is None else f", {self.persons}"
        return f"({t}, {self.num_joints}, {self.channels}{persons})"


def _with_person_axis(joints: np.ndarray, layout: JointLayout) -> np.ndarray:
    return joints if layout.persons is not None else joints[..., None]


def seen_mask(joints: np.ndarray, layout: JointLayout) -> np.ndarray:
    """``(T, J, M)`` bool: which joints the pose estimator saw (``joints`` with a person axis)."""
    if layout.confidence is not None:
        return joints[:, :, layout.confidence, :] > 0
    return np.any(joints[:, :, :layout.coords, :] != 0, axis=2)


def normalise(joints: np.ndarray, layout: JointLayout) -> np.ndarray:
    """Centre on the mean seen position of the centre joint (of person 0) and divide the coordinates by ``layout.scale``.

    ``joints`` has a person axis ``(T, J, C, M)``; returns float32 of the same shape. One
    origin for every person keeps their positions relative to each other.
    """
    out = joints.astype(np.float32, copy=True)
    seen = seen_mask(out, layout)
    frames_with_center = np.flatnonzero(seen[:, layout.center, 0])
    if len(frames_with_center):
        origin = out[frames_with_center, layout.center, :layout.coords, 0].mean(axis=0)
    else:
        origin = np.asarray(layout.default_origin, np.float32)
    coords = (out[:, :, :layout.coords, :] - origin[None, None, :, None]) / layout.scale
    out[:, :, :layout.coords, :] = coords * seen[:, :, None, :]
    return out


def joints_for_epoch(joints: np.ndarray, indices: np.ndarray, seed: int, flip: bool, *, layout: JointLayout,
                     training: bool, noise: float = 0.0, dropout: float = 0.0) -> np.ndarray:
    """One skeleton clip: frames ``indices`` of ``joints``, normalised, flipped, perturbed in training.

    Args:
        joints: the cached array of one sample, ``(T, J, C)`` or ``(T, J, C, M)``.
        indices: ``(num_frames,)`` frame indices (from the shared sampling rules).
        seed: the element's seed; noise and drop-out draw from it (repeatable, new each epoch).
        flip: mirror the clip (x -> -x, left/right joints swapped), decided with the video streams.
        layout: what the channels mean.
        training: apply ``noise`` and ``dropout`` (never at evaluation).
        noise: standard deviation of Gaussian noise on the normalised coordinates of seen joints
            (a pose estimator's jitter).
        dropout: probability that a joint of a frame is lost (all its channels 0), independently
            per joint, frame and person (a pose estimator's misses).

    Returns:
        float32 ``(num_frames, J, C[, M])``.
    """
    clip = _with_person_axis(np.asarray(joints)[np.asarray(indices)], layout)
    clip = normalise(clip, layout)
    if flip:
        clip = mirror_joints(clip, np.asarray(layout.mirror), joint_axis=1)
    if training and (noise > 0 or dropout > 0):
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, 7])
        seen = seen_mask(clip, layout)
        if noise > 0:
            jitter = rng.normal(0.0, noise, size=clip[:, :, :layout.coords, :].shape).astype(np.float32)
            clip[:, :, :layout.coords, :] += jitter * seen[:, :, None, :]
        if dropout > 0:
            kept = rng.random(size=seen.shape) >= dropout
            clip *= kept[:, :, None, :]
    return clip if layout.persons is not None else clip[..., 0]
