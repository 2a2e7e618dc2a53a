"""One motion per StickActions class, as a ``(T, P)`` array of poses (see :mod:`.figure`).

Every clip follows the same timeline: a still pose, the movement, a still pose. The two
still parts come from one distribution (the start frame of the movement is uniform over the
possible ones), and every movement is eased with a speed profile that is symmetric in time.
That is what makes the time-reverse pairs fair: the partner class of each pair in
:data:`REVERSE_PAIRS` is *made* by generating the first class and reversing the frame order
(see :func:`action_poses`), and nothing else in a clip tells the direction of time. A model
that ignores frame order cannot separate the pair; a temporal model can.

Classes that are not in a reverse pair are themselves symmetric in time (a wave, a jumping
jack, pointing out and back), so their reverse looks like another sample of the same class.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hybridvid_lib.data.synth.figure import NUM_POSE, P, rest_pose

#: Class names in label order (sorted, as in ``classInd.txt``).
CLASSES: tuple[str, ...] = tuple(sorted((
    "SitDown", "StandUp", "RaiseArms", "LowerArms", "LieDown", "GetUp", "ComeCloser", "MoveAway",
    "PointLeft", "PointRight", "Wave", "JumpingJack",
)))

#: ``(forward, reverse)``: the second class is the first one played backwards.
REVERSE_PAIRS: tuple[tuple[str, str], ...] = (
    ("SitDown", "StandUp"), ("RaiseArms", "LowerArms"), ("LieDown", "GetUp"), ("ComeCloser", "MoveAway"),
)

#: Classes a horizontal flip turns into each other.
MIRROR_PAIRS: tuple[tuple[str, str], ...] = (("PointLeft", "PointRight"),)

#: For each reverse class, the class it is generated from.
REVERSED_FROM: dict[str, str] = {rev: fwd for fwd, rev in REVERSE_PAIRS}


def ease(u: np.ndarray) -> np.ndarray:
    """Cosine speed profile on ``[0, 1]``: slow start and end; ``ease(1 - u) == 1 - ease(u)``."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))


def motion_progress(rng: np.random.Generator, num_frames: int,
                    motion_fraction: tuple[float, float]) -> np.ndarray:
    """Progress of the movement at each frame, shape ``(T,)`` float64 in ``[0, 1]``.

    The movement takes a random share of the clip (``motion_fraction``); it starts at a frame
    drawn uniformly from all starts that fit, so the still parts before and after it have the
    same distribution (reversing a timeline gives another sample of the same distribution).
    """
    t = num_frames
    duration = int(np.clip(round(t * rng.uniform(*motion_fraction)), 2, t))
    start = int(rng.integers(0, t - duration + 1))
    return np.clip((np.arange(t) - start) / (duration - 1), 0.0, 1.0)


def keyframes(u: np.ndarray, times: list[float], poses: list[np.ndarray]) -> np.ndarray:
    """Poses at progress ``u`` (``(T,)``), eased between keyframe ``poses`` placed at ``times``.

    ``times`` rise from 0 to 1; returns ``(T, P)``.
    """
    times_arr = np.asarray(times, dtype=np.float64)
    stack = np.stack(poses)
    seg = np.clip(np.searchsorted(times_arr, u, side="right") - 1, 0, len(times_arr) - 2)
    t0, t1 = times_arr[seg], times_arr[seg + 1]
    w = ease((u - t0) / np.maximum(t1 - t0, 1e-9))[:, None]
    return stack[seg] * (1 - w) + stack[seg + 1] * w


def idle_sway(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Small slow swaying of the limbs and body, ``(T, P)``, added to every clip.

    Sinusoids with random phases: their reverse is another sample of the same kind, so the
    sway keeps the reverse pairs fair while making still parts less perfectly still.
    """
    t = np.arange(num_frames)[:, None]
    sway = np.zeros((num_frames, NUM_POSE))
    cols = [P[k] for k in ("rot", "l_arm", "l_forearm", "r_arm", "r_forearm")]
    amp = rng.uniform(0.005, 0.02, len(cols)) * np.array([0.5, 1, 1.5, 1, 1.5])
    freq = rng.uniform(0.01, 0.04, len(cols)) * 2 * np.pi  # cycles per frame at 25 fps: 0.25-1 Hz
    phase = rng.uniform(0, 2 * np.pi, len(cols))
    sway[:, cols] = amp * np.sin(freq * t + phase)
    return sway


def _set(pose: np.ndarray, **values: float) -> np.ndarray:
    out = pose.copy()
    for key, value in values.items():
        out[P[key]] = value
    return out


# --------------------------------------------------------------------------- the motions
def _sit_down(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    # Down to the floor, cross-legged, through a squat: frontal sitting on a chair would only
    # shorten the thighs, which is hard to see at 64 pixels.
    rest = rest_pose(rng)
    squat = _set(rest, l_thigh=0.6, r_thigh=0.6, l_shin=0.1, r_shin=0.1,
                 l_thigh_len=rng.uniform(0.25, 0.35), r_thigh_len=rng.uniform(0.25, 0.35),
                 l_arm=0.45, r_arm=0.45, l_forearm=0.7, r_forearm=0.7)
    thigh, shin, length = rng.uniform(1.05, 1.3), -rng.uniform(1.15, 1.4), rng.uniform(0.75, 0.9)
    arm, fore = rng.uniform(0.3, 0.45), rng.uniform(0.6, 0.9)  # hands on the knees
    seated = _set(rest, l_thigh=thigh, r_thigh=thigh, l_shin=shin, r_shin=shin,
                  l_thigh_len=length, r_thigh_len=length,
                  l_arm=arm, r_arm=arm, l_forearm=fore, r_forearm=fore)
    return keyframes(u, [0.0, rng.uniform(0.4, 0.55), 1.0], [rest, squat, seated])


def _raise_arms(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    rest = rest_pose(rng)
    top = rng.uniform(2.65, 3.05)
    bend = rng.uniform(-0.1, 0.15)
    raised = _set(rest, l_arm=top, r_arm=top, l_forearm=top + bend, r_forearm=top + bend)
    return keyframes(u, [0.0, 1.0], [rest, raised])


def _lie_down(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    rest = rest_pose(rng)
    direction = rng.choice([-1.0, 1.0])  # head towards image left or right
    crouch = _set(rest, rot=direction * rng.uniform(0.15, 0.35),
                  l_thigh=0.4, r_thigh=0.4, l_shin=0.1, r_shin=0.1,
                  l_thigh_len=rng.uniform(0.3, 0.45), r_thigh_len=rng.uniform(0.3, 0.45),
                  l_arm=rng.uniform(0.4, 0.8), r_arm=rng.uniform(0.4, 0.8),
                  l_forearm=0.6, r_forearm=0.6)
    lying = _set(rest, rot=direction * rng.uniform(1.45, 1.62), l_thigh=0.05, r_thigh=0.05,
                 l_shin=0.02, r_shin=0.02, l_arm=rng.uniform(0.1, 0.3), r_arm=rng.uniform(0.1, 0.3))
    lying[P["l_forearm"]], lying[P["r_forearm"]] = lying[P["l_arm"]], lying[P["r_arm"]]
    return keyframes(u, [0.0, rng.uniform(0.4, 0.55), 1.0], [rest, crouch, lying])


def _come_closer(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    rest = rest_pose(rng)
    far, near = rng.uniform(0.55, 0.7), rng.uniform(1.15, 1.3)
    drift = rng.uniform(-0.25, 0.25)
    poses = keyframes(u, [0.0, 1.0], [_set(rest, scale=far), _set(rest, scale=near, dx=drift)])
    # Steps: knees come up in turn (foreshortened thighs), arms swing against the legs. A whole
    # number of steps makes the swing start and end at rest.
    steps = int(rng.integers(3, 6))
    phase = np.sin(np.pi * steps * u)
    lift = rng.uniform(0.3, 0.45)
    poses[:, P["l_thigh_len"]] = 1 - lift * np.clip(phase, 0, None)
    poses[:, P["r_thigh_len"]] = 1 - lift * np.clip(-phase, 0, None)
    poses[:, P["l_forearm"]] += 0.25 * np.clip(-phase, 0, None)
    poses[:, P["r_forearm"]] += 0.25 * np.clip(phase, 0, None)
    return poses


def _point(side: str) -> Callable[[np.random.Generator, np.ndarray], np.ndarray]:
    # Pointing to the image's left uses the arm on the image's left: the figure's right arm.
    arm = "r" if side == "left" else "l"

    def motion(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
        rest = rest_pose(rng)
        angle = rng.uniform(1.4, 1.8)
        out = _set(rest, **{f"{arm}_arm": angle, f"{arm}_forearm": angle + rng.uniform(-0.1, 0.05)})
        reach = rng.uniform(0.15, 0.3)  # extend, hold, return: symmetric in time
        return keyframes(u, [0.0, reach, 1.0 - reach, 1.0], [rest, out, out, rest])

    return motion


def _wave(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    rest = rest_pose(rng)
    arm = rng.choice(["l", "r"])
    up = _set(rest, **{f"{arm}_arm": rng.uniform(2.0, 2.5), f"{arm}_forearm": rng.uniform(2.9, 3.3)})
    ramp = rng.uniform(0.15, 0.25)
    poses = keyframes(u, [0.0, ramp, 1.0 - ramp, 1.0], [rest, up, up, rest])
    cycles = int(rng.integers(2, 5))
    amp = rng.uniform(0.3, 0.5) * rng.choice([-1.0, 1.0])
    inner = np.clip((u - ramp) / (1 - 2 * ramp), 0.0, 1.0)
    poses[:, P[f"{arm}_forearm"]] += amp * np.sin(2 * np.pi * cycles * inner)
    return poses


def _jumping_jack(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    rest = rest_pose(rng)
    cycles = int(rng.integers(1, 4))
    open_ = (1 - np.cos(2 * np.pi * cycles * u)) / 2  # 0 closed, 1 spread
    top, spread = rng.uniform(2.6, 3.0), rng.uniform(0.28, 0.42)
    poses = np.repeat(rest[None], len(u), axis=0)
    for s in ("l", "r"):
        poses[:, P[f"{s}_arm"]] += open_ * (top - rest[P[f"{s}_arm"]])
        poses[:, P[f"{s}_forearm"]] += open_ * (top + 0.1 - rest[P[f"{s}_forearm"]])
        poses[:, P[f"{s}_thigh"]] += open_ * spread
        poses[:, P[f"{s}_shin"]] += open_ * spread * 0.8
    # One hop to spread and one to close: feet leave the ground half-way through each change.
    poses[:, P["lift"]] = rng.uniform(0.05, 0.1) * np.abs(np.sin(2 * np.pi * cycles * u))
    return poses


_MOTIONS: dict[str, Callable[[np.random.Generator, np.ndarray], np.ndarray]] = {
    "SitDown": _sit_down,
    "RaiseArms": _raise_arms,
    "LieDown": _lie_down,
    "ComeCloser": _come_closer,
    "PointLeft": _point("left"),
    "PointRight": _point("right"),
    "Wave": _wave,
    "JumpingJack": _jumping_jack,
}


def forward_class(name: str) -> str:
    """The class whose motion is generated for ``name`` (itself, or the pair's forward class)."""
    if name not in CLASSES:
        raise ValueError(f"Unknown StickActions class {name!r}; expected one of: {', '.join(CLASSES)}.")
    return REVERSED_FROM.get(name, name)


def action_poses(name: str, rng: np.random.Generator, num_frames: int,
                 motion_fraction: tuple[float, float] = (0.55, 0.85)) -> np.ndarray:
    """Poses of one clip of class ``name``, shape ``(T, P)`` float64 (``T = num_frames``).

    A reverse class (``StandUp``, ...) is its pair's forward motion with the frames reversed,
    drawn with the same random numbers: ``action_poses("StandUp", rng)`` equals
    ``action_poses("SitDown", rng)[::-1]`` for two generators in the same state.
    """
    forward = forward_class(name)
    u = motion_progress(rng, num_frames, motion_fraction)
    poses = _MOTIONS[forward](rng, u) + idle_sway(rng, num_frames)
    return poses[::-1].copy() if forward != name else poses
