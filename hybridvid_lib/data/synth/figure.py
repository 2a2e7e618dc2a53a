"""The stick figure: body proportions, poses as joint angles, forward kinematics and drawing.

A *pose* is a vector of :data:`POSE_FIELDS` (angles in radians, lengths in standing heights);
a motion is a ``(T, P)`` float64 array of poses. :func:`pose_to_joints` turns poses into the
18 joints of :data:`~hybridvid_lib.data.skeletons.STICK_FIGURE` in pixels, and
:func:`draw_figure` draws one frame of them with OpenCV.

The figure faces the camera: its ``left_*`` limbs are on the image's right. Limb angles are
measured from hanging straight down, positive *away from the body's midline* (outward), so a
symmetric pose such as a jumping jack uses the same numbers on both sides:

- arm ``0`` hangs down, ``pi/2`` points sideways, ``pi`` points straight up;
- leg ``0`` stands straight, a positive angle spreads the leg;
- a negative angle folds a limb inwards (the crossed shins of a cross-legged seat).

Squatting and walking towards the camera shorten the thighs (``*_thigh_len`` < 1): a frontal
view cannot show a thigh pointing at the camera other than by foreshortening.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, fields, replace

import cv2
import numpy as np

from hybridvid_lib.data.skeletons import STICK_FIGURE

#: Names of the pose vector's entries, in order.
POSE_FIELDS = (
    "rot",  # whole-body rotation about the pelvis, radians, positive = head towards image right
    "dx",  # horizontal shift of the figure, in standing heights
    "lift",  # height of the lowest point above the ground, in standing heights (jumps)
    "scale",  # size factor (walking towards the camera makes it grow)
    "l_arm", "l_forearm", "r_arm", "r_forearm",  # outward angles from hanging down
    "l_thigh", "l_shin", "r_thigh", "r_shin",  # outward angles from straight down
    "l_thigh_len", "r_thigh_len",  # apparent thigh length, 1 = full (foreshortening)
)
P = {name: i for i, name in enumerate(POSE_FIELDS)}
NUM_POSE = len(POSE_FIELDS)

J = {name: i for i, name in enumerate(STICK_FIGURE.joints)}
NUM_JOINTS = STICK_FIGURE.num_joints

# How far down the image the feet move per unit of extra scale and standing height: a figure
# that walks towards the camera both grows and comes down the ground plane.
DEPTH_DROP = 0.35


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths of one actor, as fractions of a nominal height (the sum is re-normalised).

    ``limb_width`` is the drawn limb thickness as a fraction of the standing height.
    """

    head_radius: float = 0.065
    neck: float = 0.04
    upper_torso: float = 0.15
    lower_torso: float = 0.16
    shoulder_half: float = 0.10
    hip_half: float = 0.055
    upper_arm: float = 0.16
    forearm: float = 0.14
    hand: float = 0.045
    thigh: float = 0.24
    shin: float = 0.23
    limb_width: float = 0.065

    @property
    def standing_height(self) -> float:
        """Ankles to the top of the head, in the same units as the segment lengths."""
        return (self.shin + self.thigh + self.lower_torso + self.upper_torso
                + self.neck + 2 * self.head_radius)


def random_body(rng: np.random.Generator, jitter: float) -> BodyShape:
    """A body whose every segment is the default length times a factor in ``1 +- jitter``.

    Left and right use the same lengths (the figure is symmetric, so mirror pairs stay fair).
    """
    base = BodyShape()
    changes = {f.name: getattr(base, f.name) * rng.uniform(1 - jitter, 1 + jitter)
               for f in fields(BodyShape) if f.name != "limb_width"}
    return replace(base, **changes, limb_width=base.limb_width * rng.uniform(0.9, 1.15))


@dataclass(frozen=True)
class Palette:
    """RGB colours (0..255) of one actor: distinct hues for torso, left limbs and right limbs."""

    head: tuple[int, int, int]
    torso: tuple[int, int, int]
    left: tuple[int, int, int]
    right: tuple[int, int, int]


def hsv_color(h: float, s: float, v: float) -> tuple[int, int, int]:
    """RGB 0..255 of a hue (wraps around), saturation and value in 0..1."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def random_palette(rng: np.random.Generator) -> Palette:
    """Bright, saturated colours: three hues a third of the circle apart, head a lighter tone.

    Backgrounds stay muted (see :mod:`.scene`), so the figure stands out at any hue.
    """
    hue = rng.uniform()
    offsets = rng.permutation([0.0, 1 / 3, 2 / 3]) + rng.uniform(-0.05, 0.05, 3)
    torso, left, right = (hsv_color(hue + o, rng.uniform(0.65, 1.0), rng.uniform(0.88, 1.0)) for o in offsets)
    head = hsv_color(rng.uniform(0.02, 0.12), rng.uniform(0.25, 0.5), rng.uniform(0.9, 1.0))
    return Palette(head=head, torso=torso, left=left, right=right)


def rest_pose(rng: np.random.Generator | None = None) -> np.ndarray:
    """Standing with arms hanging slightly away from the body, shape ``(P,)`` float64.

    With ``rng`` the arm and leg angles vary a little from clip to clip.
    """
    pose = np.zeros(NUM_POSE)
    pose[P["scale"]] = 1.0
    pose[P["l_thigh_len"]] = pose[P["r_thigh_len"]] = 1.0
    arm = 0.14 if rng is None else rng.uniform(0.08, 0.22)
    leg = 0.06 if rng is None else rng.uniform(0.03, 0.1)
    pose[[P["l_arm"], P["r_arm"]]] = arm
    pose[[P["l_forearm"], P["r_forearm"]]] = arm + 0.04
    pose[[P["l_thigh"], P["r_thigh"]]] = leg
    pose[[P["l_shin"], P["r_shin"]]] = leg * 0.5
    return pose


def pose_to_joints(poses: np.ndarray, body: BodyShape, *, anchor_x: float, ground_y: float,
                   height: float) -> np.ndarray:
    """Forward kinematics: poses ``(T, P)`` -> joint positions ``(T, J, 2)`` float64, pixels (x, y).

    Args:
        poses: pose vectors (see :data:`POSE_FIELDS`).
        body: the actor's proportions.
        anchor_x: x of the pelvis at ``dx = 0``, pixels.
        ground_y: y of the ground under the feet at ``scale = 1``, pixels.
        height: standing height at ``scale = 1``, pixels.

    The figure is placed so that its lowest point (a joint, or the bottom of the head) lies
    ``lift`` above the ground: feet stay on the floor when the figure sits or lies down.
    """
    poses = np.atleast_2d(np.asarray(poses, dtype=np.float64))
    t = len(poses)
    rot, scale = poses[:, P["rot"]], poses[:, P["scale"]]
    unit = (height / body.standing_height) * scale  # pixels per body unit, (T,)
    up = np.stack([np.sin(rot), -np.cos(rot)], axis=1)  # image y grows downwards
    side = np.stack([np.cos(rot), np.sin(rot)], axis=1)  # towards the figure's left = image right

    def along(vec: np.ndarray, length: float | np.ndarray) -> np.ndarray:
        return vec * (np.asarray(length) * unit)[:, None]

    def limb(angle: np.ndarray, outward: float) -> np.ndarray:
        return -up * np.cos(angle)[:, None] + outward * side * np.sin(angle)[:, None]

    out = np.zeros((t, NUM_JOINTS, 2))
    pelvis = np.zeros((t, 2))
    chest = pelvis + along(up, body.lower_torso)
    neck = chest + along(up, body.upper_torso)
    out[:, J["pelvis"]], out[:, J["chest"]], out[:, J["neck"]] = pelvis, chest, neck
    out[:, J["head"]] = neck + along(up, body.neck + body.head_radius)
    for prefix, outward in (("left", 1.0), ("right", -1.0)):
        s = prefix[0]
        shoulder = neck + along(side, outward * body.shoulder_half)
        upper = limb(poses[:, P[f"{s}_arm"]], outward)
        fore = limb(poses[:, P[f"{s}_forearm"]], outward)
        elbow = shoulder + along(upper, body.upper_arm)
        wrist = elbow + along(fore, body.forearm)
        out[:, J[f"{prefix}_shoulder"]], out[:, J[f"{prefix}_elbow"]] = shoulder, elbow
        out[:, J[f"{prefix}_wrist"]] = wrist
        out[:, J[f"{prefix}_hand"]] = wrist + along(fore, body.hand)
        hip = pelvis + along(side, outward * body.hip_half)
        knee = hip + along(limb(poses[:, P[f"{s}_thigh"]], outward),
                           body.thigh * poses[:, P[f"{s}_thigh_len"]])
        out[:, J[f"{prefix}_hip"]], out[:, J[f"{prefix}_knee"]] = hip, knee
        out[:, J[f"{prefix}_ankle"]] = knee + along(limb(poses[:, P[f"{s}_shin"]], outward), body.shin)
    # Place on the ground: the lowest point (joint or bottom of the head) touches it, plus lift.
    lowest = np.maximum(out[:, :, 1].max(axis=1), out[:, J["head"], 1] + body.head_radius * unit)
    floor = ground_y + DEPTH_DROP * (scale - 1.0) * height
    out[:, :, 1] += (floor - poses[:, P["lift"]] * height * scale - lowest)[:, None]
    out[:, :, 0] += (anchor_x + poses[:, P["dx"]] * height)[:, None]
    return out


# Bones drawn per colour: legs first, then torso and head, arms last (in front of the body).
_LEG_BONES = {"left": ("pelvis", "left_hip", "left_knee", "left_ankle"),
              "right": ("pelvis", "right_hip", "right_knee", "right_ankle")}
_ARM_BONES = {"left": ("left_shoulder", "left_elbow", "left_wrist", "left_hand"),
              "right": ("right_shoulder", "right_elbow", "right_wrist", "right_hand")}
_SHIFT = 4  # OpenCV fixed-point bits: sub-pixel positions make slow motions move smoothly
_ONE = 1 << _SHIFT


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return int(round(xy[0] * _ONE)), int(round(xy[1] * _ONE))


def _polyline(img: np.ndarray, joints: np.ndarray, names: tuple[str, ...], color, thickness: int) -> None:
    for a, b in zip(names[:-1], names[1:]):
        cv2.line(img, _pt(joints[J[a]]), _pt(joints[J[b]]), color, thickness, cv2.LINE_AA, _SHIFT)


def draw_figure(img: np.ndarray, joints: np.ndarray, body: BodyShape, palette: Palette,
                height_px: float, min_thickness: int = 1) -> None:
    """Draw one frame of the figure into ``img`` (``(H, W, 3)`` uint8, RGB), in place.

    Args:
        joints: ``(J, 2)`` joint positions in pixels of ``img``.
        height_px: the figure's current standing height in pixels (sets limb and head size).
        min_thickness: thinnest limb, pixels (keeps small figures visible).
    """
    thick = max(min_thickness, int(round(body.limb_width * height_px)))
    head_r = max(2.0, body.head_radius / body.standing_height * height_px)
    for side in ("right", "left"):
        _polyline(img, joints, _LEG_BONES[side], getattr(palette, side), thick)
    _polyline(img, joints, ("pelvis", "chest", "neck"), palette.torso, thick + 1)
    _polyline(img, joints, ("left_shoulder", "neck", "right_shoulder"), palette.torso, thick)
    cv2.circle(img, _pt(joints[J["head"]]), int(round(head_r * _ONE)), palette.head, -1, cv2.LINE_AA, _SHIFT)
    for side in ("right", "left"):
        _polyline(img, joints, _ARM_BONES[side], getattr(palette, side), thick)
