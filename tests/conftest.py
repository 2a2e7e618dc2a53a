"""Shared fixtures: every file a test reads is written by the tests themselves.

- ``stickactions_smoke``: one tiny StickActions set (preset ``smoke``, seed 0), built once per session.
- ``stickactions_two_persons``: the same size with a second actor in every clip (two-person joints, as ``hard``).
- ``make_video``: write a small synthetic video file (moving square) of a chosen size and length.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

# Tests must never touch a user's data root or an outer profile choice.
os.environ.pop("HYBRIDVID_PROFILE", None)


def moving_square_frames(num_frames: int = 12, height: int = 48, width: int = 64,
                         seed: int = 0) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 frames of a bright square moving right over a noisy background."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 40, size=(num_frames, height, width, 3), dtype=np.uint8)
    side = max(4, height // 4)
    for t in range(num_frames):
        x = int((width - side) * t / max(1, num_frames - 1))
        y = (height - side) // 2
        frames[t, y:y + side, x:x + side] = (230, 200, 40)
    return frames


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """``make_video(path, num_frames=12, height=48, width=64, seed=0, fourcc=None) -> Path``."""
    from hybridvid_lib.data.video import write_video

    def _make(path: str | os.PathLike, num_frames: int = 12, height: int = 48, width: int = 64,
              seed: int = 0, fourcc: str | None = None) -> Path:
        frames = moving_square_frames(num_frames, height, width, seed)
        return write_video(path, frames, fourcc=fourcc)

    return _make


@pytest.fixture(scope="session")
def stickactions_smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A StickActions ``smoke`` set (seed 0), generated once for the whole test session."""
    from hybridvid_lib.data.synth import generate_stickactions

    out = tmp_path_factory.mktemp("stickactions") / "smoke"
    generate_stickactions(out, preset="smoke", seed=0, progress=False)
    return out


@pytest.fixture(scope="session")
def stickactions_two_persons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``smoke``-sized StickActions set whose every clip has a second actor: ``(T, J, 3, 2)`` joint files.

    Built from a preset registered for the build only (``hard`` itself takes minutes).
    """
    import dataclasses

    from hybridvid_lib.data.synth import PRESETS, generate_stickactions

    name = "smoke_two_persons"
    PRESETS[name] = dataclasses.replace(PRESETS["smoke"], name=name, distractor_prob=1.0)
    try:
        out = tmp_path_factory.mktemp("stickactions") / name
        generate_stickactions(out, preset=name, seed=0, progress=False, workers=1)
    finally:
        PRESETS.pop(name)
    return out
