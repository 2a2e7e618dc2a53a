"""NTU RGB+D ``.skeleton`` text files -> joint arrays, converted once into an array cache.

The official archive extracts to ``nturgb+d_skeletons/`` with one text file per sample,
named ``SsssCcccPpppRrrrAaaa.skeleton`` (setup, camera, performer, replication, action).
Its layout, one value group per line::

    <frame count>
    per frame:   <body count>
      per body:  10 values (bodyID clippedEdges handLeftConfidence handLeftState handRightConfidence
                 handRightState isRestricted leanX leanY trackingState)
                 <joint count> (25)
                 per joint: 12 values (x y z depthX depthY colorX colorY
                            orientationW orientationX orientationY orientationZ trackingState)

:func:`parse_ntu_skeleton` returns the camera-space coordinates ``(T, 25, 3, persons)``
float32 (metres): bodies are assigned to person slots in the order their ``bodyID`` first
appears, a frame without a body (it happens) or an absent second person is zeros. Real
files are messy; Windows line endings and blank lines are accepted, while an empty or
truncated file raises :class:`NtuSkeletonError` naming the file and what was expected, so
the sample is reported (never dropped silently). Bodies beyond ``persons`` are counted in
:attr:`NtuSkeleton.extra_bodies`.

Parsing text is slow next to reading ``.npy``: :func:`load_ntu_joints` converts each file
once into an :class:`~hybridvid_lib.data.array_cache.ArrayCache` (atomic, resumable).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridvid_lib.data.array_cache import ArrayCache
from hybridvid_lib.data.records import Record
from hybridvid_lib.errors import HybridVidError

NUM_JOINTS = 25
BODY_VALUES = 10
JOINT_VALUES = 12
ARRAY_SUFFIX = ".joints.npy"
CACHE_VERSION = 1


class NtuSkeletonError(HybridVidError, ValueError):
    """An NTU ``.skeleton`` file that cannot be read (empty, truncated, not in the format)."""


@dataclass(frozen=True)
class NtuSkeleton:
    """A parsed file: ``joints`` ``(T, 25, 3, persons)`` float32, and how many bodies did not fit."""

    joints: np.ndarray
    body_ids: tuple[str, ...]
    extra_bodies: int


def parse_ntu_skeleton(path: str | Path, persons: int = 2) -> NtuSkeleton:
    """Read one NTU RGB+D ``.skeleton`` file.

    Args:
        path: the file.
        persons: person slots ``M`` (NTU has at most two actors per sample).

    Returns:
        An :class:`NtuSkeleton` with ``joints`` of shape ``(T, 25, 3, persons)``: x, y, z in metres.

    Raises:
        NtuSkeletonError: the file is empty, truncated or not in the format (the message says where).
    """
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError as err:
        raise NtuSkeletonError(f"{path.name} cannot be read ({err.strerror}).") from None
    lines = [line for line in lines if line]
    position = 0

    def take(what: str) -> str:
        nonlocal position
        if position >= len(lines):
            raise NtuSkeletonError(f"{path.name} ends early (truncated?): expected {what} at line group "
                                   f"{position + 1}, the file has {len(lines)}.")
        position += 1
        return lines[position - 1]

    def count(what: str) -> int:
        text = take(what)
        try:
            return int(text)
        except ValueError:
            raise NtuSkeletonError(f"{path.name}: expected {what} (a whole number), got {text[:40]!r}.") from None

    if not lines:
        raise NtuSkeletonError(f"{path.name} is empty; expected an NTU RGB+D skeleton file (frame count first).")
    num_frames = count("the frame count")
    if num_frames < 1:
        raise NtuSkeletonError(f"{path.name} has {num_frames} frames; expected at least 1.")
    joints = np.zeros((num_frames, NUM_JOINTS, 3, persons), np.float32)
    slots: dict[str, int] = {}
    extra = 0
    for t in range(num_frames):
        for _ in range(count(f"the body count of frame {t + 1}")):
            body = take(f"a body line of frame {t + 1}").split()
            if len(body) != BODY_VALUES:
                raise NtuSkeletonError(f"{path.name}: a body line of frame {t + 1} has {len(body)} values; "
                                       f"expected {BODY_VALUES}.")
            num_joints = count(f"the joint count of frame {t + 1}")
            values = []
            for j in range(num_joints):
                row = take(f"joint {j + 1} of frame {t + 1}").split()
                if len(row) != JOINT_VALUES:
                    raise NtuSkeletonError(f"{path.name}: joint {j + 1} of frame {t + 1} has {len(row)} values; "
                                           f"expected {JOINT_VALUES}.")
                values.append(row[:3])
            if num_joints != NUM_JOINTS:
                raise NtuSkeletonError(f"{path.name}: frame {t + 1} has a body of {num_joints} joints; "
                                       f"expected {NUM_JOINTS}.")
            slot = slots.setdefault(body[0], len(slots))
            if slot >= persons:
                extra += 1
                continue
            try:
                joints[t, :, :, slot] = np.asarray(values, np.float32)
            except ValueError:
                raise NtuSkeletonError(f"{path.name}: frame {t + 1} has a joint value that is not a number.") from None
    return NtuSkeleton(joints, tuple(slots), extra)


def default_ntu_cache_dir(skeleton_file: Path) -> Path:
    """Where converted arrays go by default: ``<skeleton folder>/../ntu_arrays``."""
    return Path(skeleton_file).parent.parent / "ntu_arrays"


def ntu_array_cache(cache_dir: str | Path, persons: int = 2) -> ArrayCache:
    """The array cache of converted NTU skeletons, ``(T, 25, 3, persons)`` float32 per sample."""

    def check(shape: tuple, dtype: np.dtype) -> str | None:
        if dtype == np.float32 and len(shape) == 4 and shape[1:] == (NUM_JOINTS, 3, persons):
            return None
        return f"holds {dtype} {shape}, not float32 (T, {NUM_JOINTS}, 3, {persons})"

    info = {"version": CACHE_VERSION, "format": "ntu", "layout": f"(T, {NUM_JOINTS}, 3, {persons}) x y z metres",
            "persons": persons}
    return ArrayCache(Path(cache_dir) / f"persons{persons}", suffix=ARRAY_SUFFIX, info=info, check=check,
                      what="NTU joints")


def load_ntu_joints(record: Record, cache_dir: str | Path | None = None, *, persons: int = 2) -> np.ndarray:
    """The joints of an NTU record, parsed once and then read from the array cache.

    Raises:
        NtuSkeletonError: the text file cannot be parsed.
    """
    source = record.file("skeleton")
    cache = ntu_array_cache(cache_dir or default_ntu_cache_dir(source), persons)
    cache.root.mkdir(parents=True, exist_ok=True)
    cache.check_info()  # every time, not only when the folder is new: another version's arrays are refused
    return cache.get(record.relpath, lambda: parse_ntu_skeleton(source, persons).joints)
