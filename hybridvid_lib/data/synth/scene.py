"""Scenes around the stick figure: actor groups, backgrounds, camera, light, noise, occluders, a second actor.

:func:`render_clip` turns a class name, a random generator, a group's style and a preset into
the frames and joints of one clip. Every nuisance is drawn so that it does not tell the
direction of time: the camera pans in a random direction, occluders drift in a random
direction, shake, flicker and noise are independent from frame to frame. A reverse class is
rendered as its forward class and then the *whole clip* (frames and joints) is reversed, so the
two classes of a reverse pair have the same distribution of frame sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hybridvid_lib.data.synth.actions import CLASSES, action_poses, forward_class
from hybridvid_lib.data.synth.figure import (
    NUM_JOINTS, BodyShape, Palette, draw_figure, pose_to_joints, random_body, random_palette, P, hsv_color,
)
from hybridvid_lib.data.synth.presets import StickPreset


@dataclass(frozen=True)
class ActorStyle:
    """What makes an actor recognisable: proportions, colours and size (fraction of frame height)."""

    body: BodyShape
    palette: Palette
    height: float


@dataclass(frozen=True)
class GroupStyle:
    """One actor group ``gGG``: the actor and the look of the places the group was filmed in."""

    actor: ActorStyle
    colors: tuple[tuple[int, int, int], tuple[int, int, int]]  # two muted background colours, RGB
    gradient_angle: float  # direction of the background gradient, radians
    texture_cells: int  # texture grain: cells across the frame
    clutter_hue: float  # hue around which background shapes are coloured


def make_group_style(rng: np.random.Generator, preset: StickPreset) -> GroupStyle:
    """Draw a group's actor and scene style."""
    actor = ActorStyle(body=random_body(rng, preset.proportion_jitter), palette=random_palette(rng),
                       height=float(rng.uniform(*preset.actor_height)))
    hue = rng.uniform()
    # Muted, mid-dark backgrounds: the figure's colours are bright and saturated.
    colors = (hsv_color(hue, rng.uniform(0.05, 0.35), rng.uniform(0.22, 0.5)),
              hsv_color(hue + rng.uniform(-0.15, 0.15), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.6)))
    return GroupStyle(actor=actor, colors=colors, gradient_angle=float(rng.uniform(0, 2 * np.pi)),
                      texture_cells=int(rng.integers(3, 12)), clutter_hue=float(rng.uniform()))


def make_background(rng: np.random.Generator, style: GroupStyle, preset: StickPreset,
                    height: int, width: int) -> np.ndarray:
    """A background canvas ``(height, width, 3)`` uint8 RGB: gradient, texture and clutter shapes."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = np.cos(style.gradient_angle) * xs / width + np.sin(style.gradient_angle) * ys / height
    w = ((direction - direction.min()) / max(float(np.ptp(direction)), 1e-6))[..., None]
    c0, c1 = (np.array(c, dtype=np.float32) for c in style.colors)
    canvas = c0 * (1 - w) + c1 * w
    if preset.texture > 0:
        cells = max(2, style.texture_cells)
        coarse = rng.normal(0.0, 1.0, (cells, cells, 3)).astype(np.float32)
        texture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        canvas += texture * (preset.texture * 255 / 2)
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(preset.clutter[0], preset.clutter[1] + 1))):
        _draw_clutter(canvas, rng, style.clutter_hue)
    return canvas


def _draw_clutter(canvas: np.ndarray, rng: np.random.Generator, hue: float) -> None:
    h, w = canvas.shape[:2]
    color = hsv_color(hue + rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.5), rng.uniform(0.2, 0.7))
    x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
    size = int(max(2, rng.uniform(0.05, 0.3) * min(h, w)))
    kind = rng.integers(0, 4)
    filled = -1 if rng.uniform() < 0.6 else max(1, size // 8)
    if kind == 0:
        cv2.rectangle(canvas, (x, y), (x + size, y + int(size * rng.uniform(0.4, 1.6))), color, filled)
    elif kind == 1:
        cv2.circle(canvas, (x, y), size // 2, color, filled, cv2.LINE_AA)
    elif kind == 2:
        axes = (size // 2, max(1, int(size * rng.uniform(0.15, 0.5))))
        cv2.ellipse(canvas, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, color, filled, cv2.LINE_AA)
    else:
        angle = rng.uniform(0, np.pi)
        end = (int(x + size * np.cos(angle)), int(y + size * np.sin(angle)))
        cv2.line(canvas, (x, y), end, color, max(1, size // 10), cv2.LINE_AA)


def camera_offsets(rng: np.random.Generator, preset: StickPreset, num_frames: int,
                   height: int, width: int) -> np.ndarray:
    """Where the camera looks, per frame: ``(T, 2)`` int64 pixel offsets ``(x, y)``.

    A pan of random length and random direction, centred on the middle frame, plus
    independent per-frame shake. Reversing the frames gives a pan in the opposite direction,
    which is as likely: the camera never tells the direction of time.
    """
    t = np.arange(num_frames, dtype=np.float64) - (num_frames - 1) / 2
    travel = rng.uniform(0.0, preset.camera_pan) * width
    angle = rng.uniform(0, 2 * np.pi)
    velocity = travel / max(1, num_frames - 1) * np.array([np.cos(angle), 0.4 * np.sin(angle)])
    shake = rng.normal(0.0, preset.camera_jitter * width, (num_frames, 2))
    return np.rint(t[:, None] * velocity + shake).astype(np.int64)


@dataclass(frozen=True)
class Occluder:
    """A rectangle in front of the actor: per-frame corners ``(T, 4)`` as ``x0, y0, x1, y1`` (scene pixels)."""

    boxes: np.ndarray
    color: tuple[int, int, int]


def make_occluders(rng: np.random.Generator, preset: StickPreset, joints: np.ndarray,
                   height: int, width: int) -> list[Occluder]:
    """Occluders placed over the actor (``joints``: ``(T, J, 2)``, scene pixels), static or drifting."""
    if preset.max_occluders < 1 or rng.uniform() >= preset.occluder_prob:
        return []
    num_frames = len(joints)
    t = np.arange(num_frames, dtype=np.float64)[:, None] - (num_frames - 1) / 2
    out = []
    for _ in range(int(rng.integers(1, preset.max_occluders + 1))):
        ow, oh = rng.uniform(*preset.occluder_size) * width, rng.uniform(*preset.occluder_size) * height
        # Centre near a random joint so that the rectangle actually hides part of the actor.
        target = joints[:, rng.integers(0, NUM_JOINTS)].mean(axis=0)
        center = target + rng.normal(0.0, 0.08, 2) * (width, height)
        angle = rng.uniform(0, 2 * np.pi)
        travel = rng.uniform(0.0, preset.occluder_motion) * width
        velocity = travel / max(1, num_frames - 1) * np.array([np.cos(angle), np.sin(angle)])
        centers = center + t * velocity
        boxes = np.concatenate([centers - (ow / 2, oh / 2), centers + (ow / 2, oh / 2)], axis=1)
        color = hsv_color(rng.uniform(), rng.uniform(0.0, 0.4), rng.uniform(0.15, 0.6))
        out.append(Occluder(boxes=boxes, color=color))
    return out


def view_box(height: int, width: int) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)``: the part of a ``height x width`` frame every model of the course sees.

    The pipelines keep the centre square of a frame (``decode_square_frames``) before any crop, so on the
    4:3 frames of the ``hard`` preset a fifth of the width on each side is never shown to a video model.
    """
    side = min(height, width)
    x0, y0 = (width - side) / 2, (height - side) / 2
    return x0, y0, x0 + side, y0 + side


def _fit_in_view(joints: np.ndarray, offsets: np.ndarray, pad: float, height: int, width: int) -> np.ndarray:
    """Shift a whole clip's joints ``(T, J, 2)`` (scene pixels) so the actor stays inside :func:`view_box` of
    every frame, the camera's motion ``offsets`` ``(T, 2)`` included, when it can.

    The labelled action must be visible to the models: an actor who walks out of the picture would be a
    label no input can support (on the ``hard`` preset, before this fit, 4% of the frames had a joint of
    the main actor outside the centre square, 19% outside the cpu profile's centre crop, mostly hands and feet).
    A square frame's view is the whole frame.
    """
    seen = joints - offsets[:, None, :]  # where the joints land in each frame
    box = view_box(height, width)
    shift = np.zeros(2)
    for axis in (0, 1):
        start, end = box[axis], box[axis + 2]
        margin = 0.02 * (end - start)
        lo, hi = seen[..., axis].min() - pad, seen[..., axis].max() + pad
        if hi - lo > end - start - 2 * margin:
            shift[axis] = (start + end) / 2 - (lo + hi) / 2
        elif lo < start + margin:
            shift[axis] = start + margin - lo
        elif hi > end - margin:
            shift[axis] = end - margin - hi
    return joints + shift


def _place_actor(rng: np.random.Generator, preset: StickPreset, poses: np.ndarray, actor: ActorStyle,
                 height: int, width: int) -> tuple[np.ndarray, float, float]:
    """Joints ``(T, J, 2)`` of the main actor in scene pixels (not yet fitted into the view), its standing
    height in pixels and the head's reach beyond the head joint (pixels, for :func:`_fit_in_view`)."""
    size = actor.height * height * rng.uniform(0.95, 1.05)
    joints = pose_to_joints(poses, actor.body, anchor_x=rng.uniform(*preset.actor_x) * width,
                            ground_y=rng.uniform(*preset.ground_y) * height, height=size)
    head_pad = actor.body.head_radius / actor.body.standing_height * size * poses[:, P["scale"]].max()
    return joints, size, head_pad


def _distractor(rng: np.random.Generator, preset: StickPreset, main_class: str, main_height: float,
                num_frames: int, height: int, width: int):
    """A smaller second actor near an edge of the view doing another action: (joints, body, palette, height_px).

    Near the edges of :func:`view_box`, not of the frame: on 4:3 frames the frame's edges are cropped away
    before any model sees them, while the skeleton files keep every person (a distractor only the skeleton
    model met would flatter it)."""
    other = rng.choice([c for c in CLASSES if c != main_class])
    body, palette = random_body(rng, preset.proportion_jitter), random_palette(rng)
    poses = action_poses(str(other), rng, num_frames, preset.motion_fraction)
    size = main_height * rng.uniform(0.45, 0.7)
    x0, _, x1, _ = view_box(height, width)
    edge = rng.uniform(0.0, 0.15) * (x1 - x0)
    anchor_x = x0 + edge if rng.uniform() < 0.5 else x1 - edge
    ground = rng.uniform(*preset.ground_y) * height - rng.uniform(0.03, 0.12) * height  # farther away
    joints = pose_to_joints(poses, body, anchor_x=anchor_x, ground_y=ground, height=size)
    return joints, body, palette, size


def render_clip(class_name: str, rng: np.random.Generator, style: GroupStyle,
                preset: StickPreset) -> tuple[np.ndarray, np.ndarray]:
    """Render one clip of ``class_name``.

    Returns:
        frames: ``(T, H, W, 3)`` uint8 RGB, ``(H, W) = preset.frame_size``.
        skeleton: ``(T, J, 3)`` float32 joints of the main actor in frame pixels after camera
            motion: x, y, confidence (1 visible, 0 outside the frame or behind an occluder).
            A preset with a second actor (``preset.persons == 2``) gives ``(T, J, 3, 2)``: every
            person in the scene, as a pose estimator reports them (see :func:`order_persons`),
            the second slot all zeros when the clip has no second actor.

    A reverse class is rendered as its forward class and reversed, so for two generators in the
    same state ``render_clip("StandUp", ...)`` is ``render_clip("SitDown", ...)`` backwards.
    """
    forward = forward_class(class_name)
    frames, skeleton = _render_forward(forward, rng, style, preset)
    if forward != class_name:
        return frames[::-1].copy(), skeleton[::-1].copy()
    return frames, skeleton


def _render_forward(class_name: str, rng: np.random.Generator, style: GroupStyle,
                    preset: StickPreset) -> tuple[np.ndarray, np.ndarray]:
    h, w = preset.frame_size
    num_frames = int(rng.integers(preset.num_frames[0], preset.num_frames[1] + 1))
    poses = action_poses(class_name, rng, num_frames, preset.motion_fraction)
    joints, size, head_pad = _place_actor(rng, preset, poses, style.actor, h, w)
    heights = size * poses[:, P["scale"]]
    min_thickness = max(1, int(round(3 * min(h, w) / 128)))  # >= 3 px limbs at 128 px frames

    offsets = camera_offsets(rng, preset, num_frames, h, w)
    joints = _fit_in_view(joints, offsets, head_pad, h, w)
    margin = int(np.abs(offsets).max()) + 1
    canvas = make_background(rng, style, preset, h + 2 * margin, w + 2 * margin)
    occluders = make_occluders(rng, preset, joints, h, w)
    distractor = None
    if preset.distractor_prob > 0 and rng.uniform() < preset.distractor_prob:
        distractor = _distractor(rng, preset, class_name, size, num_frames, h, w)

    frames = np.empty((num_frames, h, w, 3), dtype=np.uint8)
    for t in range(num_frames):
        ox, oy = offsets[t]
        frame = frames[t]
        frame[:] = canvas[margin + oy:margin + oy + h, margin + ox:margin + ox + w]
        if distractor is not None:
            d_joints, d_body, d_palette, d_size = distractor
            draw_figure(frame, d_joints[t] - (ox, oy), d_body, d_palette, d_size, max(1, min_thickness - 1))
        draw_figure(frame, joints[t] - (ox, oy), style.actor.body, style.actor.palette, heights[t],
                    min_thickness)
        for occ in occluders:
            x0, y0, x1, y1 = np.rint(occ.boxes[t] - (ox, oy, ox, oy)).astype(int)
            cv2.rectangle(frame, (x0, y0), (x1, y1), occ.color, -1)

    skeleton = _observed_joints(joints, offsets, occluders, h, w)
    if preset.persons is not None:  # every person a pose estimator would see; an empty slot is zeros
        if distractor is not None:
            second, second_height = _observed_joints(distractor[0], offsets, occluders, h, w), float(distractor[3])
        else:
            second, second_height = np.zeros_like(skeleton), 0.0
        skeleton = order_persons([skeleton, second], [float(heights.mean()), second_height])
    return _light_and_noise(rng, preset, frames), skeleton


def _observed_joints(joints: np.ndarray, offsets: np.ndarray, occluders, h: int, w: int) -> np.ndarray:
    """``(T, J, 3)`` float32 x, y in frame pixels after the camera motion, and confidence.

    Confidence is 1 where the joint is inside the frame and not behind an occluder, else 0. (The
    main actor is drawn over the second one; where its limbs hide the other's joints, those still
    count as seen: the figures are thin sticks.)
    """
    skeleton = np.empty(joints.shape[:2] + (3,), dtype=np.float32)
    xy = joints - offsets[:, None, :]
    skeleton[..., :2] = xy
    visible = (xy[..., 0] >= 0) & (xy[..., 0] <= w - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= h - 1)
    for occ in occluders:
        b = occ.boxes - np.concatenate([offsets, offsets], axis=1)
        inside = ((xy[..., 0] >= b[:, None, 0]) & (xy[..., 0] <= b[:, None, 2])
                  & (xy[..., 1] >= b[:, None, 1]) & (xy[..., 1] <= b[:, None, 3]))
        visible &= ~inside
    skeleton[..., 2] = visible
    return skeleton


def order_persons(skeletons: list[np.ndarray], heights_px: list[float]) -> np.ndarray:
    """Stack per-person joints ``(T, J, 3)`` into ``(T, J, 3, M)``, most prominent person first.

    A pose estimator does not know who the actor of the labelled action is: it reports every
    body it finds, and pipelines keep the most prominent ones (ST-GCN's Kinetics data keeps the
    two with the highest summed joint confidence). Here prominence is the number of seen joints
    over the clip times the person's height in pixels, so a large, visible actor comes first and
    a main actor hidden behind occluders can lose the first slot to the second actor, as it can
    with a real estimator. Ties keep the given order.
    """
    scores = [float(s[..., 2].sum()) * h for s, h in zip(skeletons, heights_px)]
    order = sorted(range(len(skeletons)), key=lambda i: -scores[i])
    return np.stack([skeletons[i] for i in order], axis=-1)


def _light_and_noise(rng: np.random.Generator, preset: StickPreset, frames: np.ndarray) -> np.ndarray:
    """Brightness, contrast, colour cast (per clip), flicker and pixel noise (per frame)."""
    t = len(frames)
    contrast = rng.uniform(1 - preset.contrast, 1 + preset.contrast)
    offset = rng.uniform(-preset.brightness, preset.brightness) + preset.flicker * rng.standard_normal(t)
    gains = rng.uniform(1 - preset.color_cast, 1 + preset.color_cast, 3).astype(np.float32)
    out = frames.astype(np.float32)
    out -= 128.0
    out *= np.float32(contrast)
    out += (128.0 + offset.astype(np.float32))[:, None, None, None]
    out *= gains
    if preset.noise > 0:
        out += rng.standard_normal(out.shape, dtype=np.float32) * np.float32(preset.noise)
    out += 0.5  # round rather than truncate in the cast below
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)
