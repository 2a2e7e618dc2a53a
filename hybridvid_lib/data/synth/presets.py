"""StickActions presets: size of the set and strength of every nuisance factor.

========  =========================================================================
``smoke``  tiny (72 videos of 16 frames, 48x48): proves code runs, builds in seconds
``default`` the course set (432 videos of 40-48 frames, 128x128), moderate nuisances:
           small models learn it on a laptop CPU
``hard``   more groups, 160x120 frames, strong nuisances, occluders and a second actor
========  =========================================================================

The skeleton files of a preset with a second actor (``hard``) hold both persons, ``(T, J, 3, 2)``,
as a pose estimator would report them; the others hold the one actor, ``(T, J, 3)``.

Distances are fractions of the frame so that a preset reads the same at any size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hybridvid_lib.errors import SettingsError


@dataclass(frozen=True)
class StickPreset:
    """Settings of one StickActions build.

    Size of the set:
        frame_size: ``(H, W)`` of the written frames, pixels.
        num_frames: ``(min, max)`` clip length in frames, both inclusive (25 fps).
        groups: number of actor groups ``gGG`` (a multiple of 3: they form the 3 folds).
        clips_per_group: clips ``cCC`` per class and group.

    Actor:
        actor_height: ``(min, max)`` standing height of a group's actor, fraction of the frame height.
        actor_x: ``(min, max)`` horizontal position of the pelvis, fraction of the frame width.
        ground_y: ``(min, max)`` height of the feet, fraction of the frame height (1 = bottom).
        proportion_jitter: each limb length of a group is scaled by a factor in ``1 +- jitter``.
        motion_fraction: ``(min, max)`` share of the clip the movement takes; the rest is
            still pose before and after (speed of the action).

    Scene and camera:
        clutter: ``(min, max)`` number of background shapes.
        texture: strength of the background texture, 0..1.
        camera_jitter: per-frame camera shake (standard deviation), fraction of the frame width.
        camera_pan: largest camera travel over a clip, fraction of the frame width (random direction).
        brightness: brightness offset drawn in ``+-brightness`` (pixel values 0..255).
        contrast: contrast factor drawn in ``1 +- contrast``.
        color_cast: per-channel gain drawn in ``1 +- color_cast``.
        flicker: per-frame brightness change (standard deviation, pixel values).
        noise: Gaussian pixel noise (standard deviation, pixel values).
        occluder_prob: chance that a clip gets occluders at all.
        max_occluders: how many rectangles such a clip gets at most (at least one).
        occluder_size: ``(min, max)`` side of an occluder, fraction of the frame side.
        occluder_motion: largest travel of an occluder over a clip, fraction of the frame width
            (0 keeps occluders still).
        distractor_prob: chance of a second, smaller actor doing another action.
    """

    name: str
    frame_size: tuple[int, int]
    num_frames: tuple[int, int]
    groups: int
    clips_per_group: int
    actor_height: tuple[float, float]
    actor_x: tuple[float, float]
    ground_y: tuple[float, float]
    proportion_jitter: float
    motion_fraction: tuple[float, float]
    clutter: tuple[int, int]
    texture: float
    camera_jitter: float
    camera_pan: float
    brightness: float
    contrast: float
    color_cast: float
    flicker: float
    noise: float
    occluder_prob: float
    max_occluders: int
    occluder_size: tuple[float, float]
    occluder_motion: float
    distractor_prob: float

    def __post_init__(self) -> None:
        if self.groups < 3 or self.groups % 3:
            raise ValueError(f"Preset {self.name!r}: groups must be a positive multiple of 3 "
                             f"(three folds); got {self.groups}.")
        if self.clips_per_group < 1 or not 2 <= self.num_frames[0] <= self.num_frames[1]:
            raise ValueError(f"Preset {self.name!r}: needs clips_per_group >= 1 and "
                             f"2 <= num_frames[0] <= num_frames[1].")

    @property
    def persons(self) -> int | None:
        """Person slots of the skeleton files: 2 when clips may hold a second actor, else ``None`` (one actor,
        ``(T, J, 3)`` files without a person axis)."""
        return 2 if self.distractor_prob > 0 else None

    def num_videos(self, num_classes: int) -> int:
        """Videos in a build with ``num_classes`` classes."""
        return num_classes * self.groups * self.clips_per_group

    def factors(self) -> dict[str, Any]:
        """The nuisance settings as a JSON-ready dict (stored in ``stickactions.json``)."""
        skip = {"name", "frame_size", "groups", "clips_per_group"}
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items() if k not in skip}


PRESETS: dict[str, StickPreset] = {
    "smoke": StickPreset(
        name="smoke", frame_size=(48, 48), num_frames=(16, 16), groups=6, clips_per_group=1,
        actor_height=(0.58, 0.7), actor_x=(0.42, 0.58), ground_y=(0.9, 0.95), proportion_jitter=0.05,
        motion_fraction=(0.65, 0.9), clutter=(0, 2), texture=0.05, camera_jitter=0.0, camera_pan=0.04,
        brightness=10, contrast=0.1, color_cast=0.05, flicker=0.0, noise=2.0,
        occluder_prob=0.0, max_occluders=1, occluder_size=(0.15, 0.25), occluder_motion=0.0,
        distractor_prob=0.0,
    ),
    "default": StickPreset(
        name="default", frame_size=(128, 128), num_frames=(40, 48), groups=12, clips_per_group=3,
        actor_height=(0.5, 0.64), actor_x=(0.36, 0.64), ground_y=(0.86, 0.95), proportion_jitter=0.08,
        motion_fraction=(0.55, 0.85), clutter=(2, 6), texture=0.08, camera_jitter=0.003, camera_pan=0.08,
        brightness=20, contrast=0.15, color_cast=0.08, flicker=1.5, noise=3.0,
        occluder_prob=0.25, max_occluders=1, occluder_size=(0.12, 0.22), occluder_motion=0.3,
        distractor_prob=0.0,
    ),
    "hard": StickPreset(
        name="hard", frame_size=(120, 160), num_frames=(40, 56), groups=24, clips_per_group=3,
        actor_height=(0.4, 0.66), actor_x=(0.25, 0.75), ground_y=(0.8, 0.97), proportion_jitter=0.15,
        motion_fraction=(0.35, 0.9), clutter=(8, 16), texture=0.18, camera_jitter=0.008, camera_pan=0.2,
        brightness=35, contrast=0.3, color_cast=0.15, flicker=5.0, noise=8.0,
        occluder_prob=0.7, max_occluders=2, occluder_size=(0.15, 0.32), occluder_motion=0.6,
        distractor_prob=0.7,
    ),
}


def get_preset(name: str) -> StickPreset:
    """The preset called ``name``.

    Raises:
        SettingsError: unknown name (the message lists the known ones).
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise SettingsError(f"Unknown StickActions preset {name!r}; expected one of: "
                            f"{', '.join(PRESETS)}.") from None
