"""Which frames a clip uses: the single source of truth for frame sampling.

Every pipeline of the kit (RGB clips, (RGB, flow) pairs, skeleton sequences) asks
:func:`sample_indices` for the frame indices of a clip, so the three streams follow the
same rules. A clip is ``num_frames`` indices into a video of ``num_available`` frames.

Strategies (see :func:`describe_strategy` for one sentence each):

============  ===========================================  ============================================
strategy      test time (``training=False``)               training (``training=True``)
============  ===========================================  ============================================
``uniform``   centre of each of ``num_frames`` equal bins  the whole evenly spaced grid shifted by one
                                                           random fraction of a bin (spacing kept)
``segments``  centre of each segment (same as uniform)     one random frame inside each segment,
                                                           drawn independently (TSN)
``stride``    ``num_frames`` frames ``stride`` apart, the  the same window at a random start
              window centred in the video
``random``    a random window, as in training              a random contiguous window with the stride
============  ===========================================  ============================================

``uniform`` and ``segments`` agree at test time; in training ``uniform`` keeps the frames
evenly spaced (distances between frames, hence speeds, stay comparable), while
``segments`` jitters each frame on its own (Wang et al., *Temporal Segment Networks*, 2016).
``random`` is random even with ``training=False``: use it for training only.

Short videos. Each strategy needs a *window*: ``uniform`` and ``segments`` need
``num_frames`` distinct frames, ``stride`` and ``random`` need ``(num_frames - 1) * stride + 1``
frames. When a video is shorter than its window, the window starts at frame 0 (no
randomness is left to draw) and positions past the end follow ``short``:

- ``short="loop"`` (default): indices wrap modulo ``num_available``: the video plays again
  from the start (``0 1 2 0 1 2`` for 3 frames and a 6-frame clip);
- ``short="pad"``: the last frame repeats (``0 1 2 2 2 2``).
"""

from __future__ import annotations

import numpy as np

STRATEGIES = ("uniform", "stride", "segments", "random")
#: Strategies whose test-time indices (``training=False``) are the same on every call: all but
#: ``random``. Only these can be the ``sampling`` setting, which picks the frames a model is tested on.
TEST_TIME_STRATEGIES = tuple(name for name in STRATEGIES if name != "random")
SHORT_RULES = ("loop", "pad")

_DESCRIPTIONS = {
    "uniform": (
        "uniform: frames evenly spaced over the whole video (the centre of each of num_frames "
        "equal bins); in training the whole grid shifts by one random fraction of a bin."
    ),
    "stride": (
        "stride: num_frames consecutive samples `stride` frames apart, a window centred in the "
        "video at test time and starting at a random frame in training."
    ),
    "segments": (
        "segments: the video is cut into num_frames equal segments and one frame is taken from "
        "each, its centre at test time and a random frame of it in training (TSN)."
    ),
    "random": (
        "random: a contiguous window of num_frames samples `stride` frames apart starting at a "
        "random frame, every time (a training-only strategy)."
    ),
}


def describe_strategy(name: str) -> str:
    """One sentence that explains a sampling strategy, for notebooks and plots."""
    _check_strategy(name)
    return _DESCRIPTIONS[name]


def window_length(num_frames: int, strategy: str, stride: int = 2) -> int:
    """Frames a strategy needs to draw ``num_frames`` indices without wrapping or padding."""
    _check_strategy(strategy)
    if strategy in ("stride", "random"):
        return (num_frames - 1) * stride + 1
    return num_frames


def sample_indices(
    num_available: int,
    num_frames: int,
    strategy: str = "uniform",
    *,
    stride: int = 2,
    training: bool = False,
    rng: np.random.Generator | None = None,
    short: str = "loop",
    clip: int = 0,
    num_clips: int = 1,
) -> np.ndarray:
    """Frame indices of one clip.

    Args:
        num_available: frames the video has (``T``), at least 1.
        num_frames: frames the clip has, at least 1.
        strategy: one of :data:`STRATEGIES` (see the module docstring for the rules).
        stride: distance between consecutive frames of ``stride`` and ``random``.
        training: draw random positions (``True``) or the deterministic test-time ones.
        rng: random generator for training draws; ``None`` makes a fresh unseeded one,
            so pass one for repeatable draws.
        short: ``"loop"`` or ``"pad"``: what happens past the end of a short video.
        clip, num_clips: test-time scoring over several clips of one video (I3D, TSN): clip
            ``clip`` of ``num_clips`` deterministic clips spread over the video. ``stride``
            windows start evenly from the first to the last possible start; ``uniform`` and
            ``segments`` grids are shifted by ``(clip + 0.5) / num_clips`` of a bin (one clip:
            the bin centres). Ignored by random draws.

    Returns:
        ``(num_frames,)`` int64 array, every index in ``[0, num_available)``; non-decreasing
        except where ``short="loop"`` wraps.

    Raises:
        ValueError: a count or stride below 1, an unknown strategy or short-video rule.
    """
    num_available, num_frames, stride = int(num_available), int(num_frames), int(stride)
    if num_available < 1:
        raise ValueError(f"num_available must be at least 1 (a video with frames); got {num_available}.")
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1; got {num_frames}.")
    if stride < 1:
        raise ValueError(f"stride must be at least 1; got {stride}.")
    _check_strategy(strategy)
    if short not in SHORT_RULES:
        raise ValueError(f"Unknown short-video rule {short!r}; expected one of: {', '.join(SHORT_RULES)}.")
    clip, num_clips = int(clip), int(num_clips)
    if num_clips < 1 or not 0 <= clip < num_clips:
        raise ValueError(f"clip must be in [0, num_clips) with num_clips >= 1; got clip {clip} of {num_clips}.")
    random = training or strategy == "random"
    if random and rng is None:
        rng = np.random.default_rng()

    if num_available < window_length(num_frames, strategy, stride):
        step = stride if strategy in ("stride", "random") else 1
        positions = np.arange(num_frames, dtype=np.int64) * step
        if short == "loop":
            return positions % num_available
        return np.minimum(positions, num_available - 1)

    if strategy in ("stride", "random"):
        span = (num_frames - 1) * stride + 1
        if random:
            start = int(rng.integers(0, num_available - span + 1))
        elif num_clips == 1:
            start = (num_available - span) // 2
        else:
            start = (clip * (num_available - span)) // (num_clips - 1)
        return start + np.arange(num_frames, dtype=np.int64) * stride

    # uniform / segments: num_frames equal bins of num_available / num_frames >= 1 frames each.
    # Integer arithmetic keeps the test-time centres exact; consecutive indices differ by >= 1.
    bins = np.arange(num_frames, dtype=np.int64)
    if not random:
        # Bin b, clip k of K: position (b + (2k + 1) / 2K) * n / num_frames, in integers.
        offset = 2 * clip + 1
        return ((2 * num_clips * bins + offset) * num_available) // (2 * num_clips * num_frames)
    if strategy == "uniform":
        shift = rng.random()  # one shift for the whole grid keeps the spacing even
        positions = np.floor((bins + shift) * (num_available / num_frames)).astype(np.int64)
        # Floating-point rounding must never push an index past the video.
        return np.minimum(positions, num_available - 1)
    edges = (np.arange(num_frames + 1, dtype=np.int64) * num_available) // num_frames
    return rng.integers(edges[:-1], edges[1:])  # one independent draw per segment (TSN)


def _check_strategy(name: str) -> None:
    if name not in STRATEGIES:
        raise ValueError(f"Unknown sampling strategy {name!r}; expected one of: {', '.join(STRATEGIES)}.")
