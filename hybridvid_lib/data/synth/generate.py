"""Write StickActions to disk in the UCF101 layout: resumable, deterministic, in parallel.

::

    <out>/stickactions.json                             metadata; "complete": true once the set is whole
    <out>/videos/<Class>/v_<Class>_g<GG>_c<CC>.avi      MJPG, 25 fps, RGB content
    <out>/videos/<Class>/v_<Class>_g<GG>_c<CC>.skeleton.npy   float32 (T, J, 3): x, y, confidence
                                                        (T, J, 3, 2) with a second actor (preset hard)
    <out>/splits/classInd.txt, trainlist0N.txt, testlist0N.txt   (N = 1, 2, 3)

``stickactions.json`` is written first with ``"complete": false`` (it marks the folder as a
StickActions build in progress) and rewritten last with ``"complete": true``. Each video's
random numbers derive from ``(seed, class, group, clip)`` only, so a clip comes out the same
whatever order, process or run builds it: an interrupted build continues where it stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm.auto import tqdm

from hybridvid_lib.data.skeletons import STICK_FIGURE
from hybridvid_lib.data.synth.actions import CLASSES, MIRROR_PAIRS, REVERSE_PAIRS
from hybridvid_lib.data.synth.presets import StickPreset, get_preset
from hybridvid_lib.data.synth.scene import GroupStyle, make_group_style, render_clip
from hybridvid_lib.data.video import write_video
from hybridvid_lib.errors import DatasetError
from hybridvid_lib.io_utils import (
    PARTIAL_SUFFIX, atomic_save_npy, atomic_write_json, atomic_write_text, remove_partials,
)
from hybridvid_lib.shared_work import exclusive

VERSION = 3  # bump when a change to the generator changes the files of a given seed
# Version 2 added the second actor to the skeleton files of presets that have one. Version 3 keeps the main
# actor inside the part of the frame every model sees, the camera's motion included, and puts the second actor
# near that part's edges (scene.view_box): the files of every preset changed. A build of an older version whose
# files this version writes alike would be listed here (version -> test on the preset) and kept; any other
# build of an older version of the same preset and seed is rebuilt (see _existing_build).
_UNCHANGED_SINCE: dict[int, Callable[[StickPreset], bool]] = {}
# Folders of a build derived from its videos: removed with them when the build is replaced (a flow cache of the
# old videos would otherwise be read for new videos of the same names).
_DERIVED = ("flow",)
METADATA_NAME = "stickactions.json"
FPS = 25
NUM_SPLITS = 3
SKELETON_SUFFIX = ".skeleton.npy"
# Below this many pixels in all (frames x height x width) starting worker processes costs more
# than it saves: the smoke preset (2.7 million) builds in one process.
_PARALLEL_MIN_PIXELS = 20_000_000


# --------------------------------------------------------------------------- names and randomness
def video_relpath(class_name: str, group: int, clip: int) -> str:
    """``"<Class>/v_<Class>_g<GG>_c<CC>.avi"``, relative to ``<out>/videos``."""
    return f"{class_name}/v_{class_name}_g{group:02d}_c{clip:02d}.avi"


def skeleton_path(video_path: str | os.PathLike) -> Path:
    """The joints file beside a video: ``v_X_g01_c01.avi`` -> ``v_X_g01_c01.skeleton.npy``."""
    p = Path(video_path)
    return p.with_name(p.stem + SKELETON_SUFFIX)


def _rng(*keys: int | str) -> np.random.Generator:
    # Strings enter through CRC-32, which, unlike hash(), is the same in every process and run.
    entropy = [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(entropy)


def group_style(preset: str | StickPreset, seed: int, group: int) -> GroupStyle:
    """The actor and scene style of group ``group`` (1-based) for a seed."""
    p = get_preset(preset) if isinstance(preset, str) else preset
    return make_group_style(_rng(seed, "group", group), p)


def synthesize_clip(class_name: str, preset: str = "default", seed: int = 0, group: int = 1,
                    clip: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Frames and joints of one StickActions clip, exactly as a build with this seed writes it.

    Handy to look at a clip without building the set. Returns ``frames`` ``(T, H, W, 3)`` uint8
    RGB and ``skeleton`` ``(T, J, 3)`` float32 (x, y, confidence), ``(T, J, 3, 2)`` for a preset with
    a second actor; see :func:`.scene.render_clip`.
    """
    p = get_preset(preset)
    _check_seed(seed)
    if not (1 <= group <= p.groups and 1 <= clip <= p.clips_per_group):
        raise ValueError(f"Preset {p.name!r} has groups 1..{p.groups} and clips 1..{p.clips_per_group}; "
                         f"got group {group}, clip {clip}.")
    return render_clip(class_name, _rng(seed, class_name, group, clip), group_style(p, seed, group), p)


def _check_seed(seed: int) -> None:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The StickActions seed must be a whole number >= 0; got {seed!r}.")


# --------------------------------------------------------------------------- splits and metadata
def group_folds(groups: int) -> list[list[int]]:
    """Groups ``1..groups`` cut into 3 consecutive folds; fold ``N`` is the test set of split ``N``."""
    return [[int(g) for g in fold] for fold in np.array_split(np.arange(1, groups + 1), NUM_SPLITS)]


def split_files(preset: StickPreset) -> dict[str, str]:
    """Text of ``classInd.txt`` and the six list files, by file name (UCF101 format)."""
    files = {"classInd.txt": "".join(f"{i} {c}\n" for i, c in enumerate(CLASSES, start=1))}
    for n, test_groups in enumerate(group_folds(preset.groups), start=1):
        train, test = [], []
        for label, c in enumerate(CLASSES, start=1):
            for g in range(1, preset.groups + 1):
                for k in range(1, preset.clips_per_group + 1):
                    rel = video_relpath(c, g, k)
                    (test.append(rel) if g in test_groups else train.append(f"{rel} {label}"))
        files[f"trainlist{n:02d}.txt"] = "".join(line + "\n" for line in train)
        files[f"testlist{n:02d}.txt"] = "".join(line + "\n" for line in test)
    return files


def metadata(preset: StickPreset, seed: int, *, complete: bool) -> dict[str, Any]:
    """The content of ``stickactions.json`` (no timestamps: a rebuild writes the same bytes)."""
    return {
        "name": "StickActions", "version": VERSION, "preset": preset.name, "seed": int(seed),
        "complete": complete, "classes": list(CLASSES),
        "reverse_pairs": [list(p) for p in REVERSE_PAIRS], "mirror_pairs": [list(p) for p in MIRROR_PAIRS],
        "skeleton": STICK_FIGURE.to_dict(), "fps": FPS, "frame_size": list(preset.frame_size),
        "num_videos": preset.num_videos(len(CLASSES)), "groups": preset.groups,
        "clips_per_group": preset.clips_per_group, "folds": group_folds(preset.groups),
        "factors": preset.factors(), **({"persons": preset.persons} if preset.persons else {}),
    }


# --------------------------------------------------------------------------- building
def _build_one(out: str, preset_name: str, seed: int, class_name: str, group: int, clip: int) -> None:
    """Render one clip and write its video, then its joints (each atomically)."""
    frames, skeleton = synthesize_clip(class_name, preset_name, seed, group, clip)
    video = Path(out) / "videos" / video_relpath(class_name, group, clip)
    write_video(video, frames, fps=FPS)
    atomic_save_npy(skeleton_path(video), skeleton)


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; OpenCV's own threads would compete
    # Ctrl-C is handled by the parent, which lets running videos finish and cancels the rest.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _resolve_workers(workers: int | None, todo: int, preset: StickPreset) -> int:
    if workers is not None:
        return min(workers, max(1, todo))
    pixels = todo * sum(preset.num_frames) / 2 * preset.frame_size[0] * preset.frame_size[1]
    if pixels < _PARALLEL_MIN_PIXELS:
        return 1
    return max(1, min(_available_cpus(), todo))


def _run(out: Path, preset: StickPreset, seed: int, todo: list[tuple[str, int, int]], workers: int,
         progress: bool) -> None:
    bar = tqdm(total=len(todo), desc=f"StickActions ({preset.name})", unit="video", disable=not progress)
    try:
        if workers == 1:
            for job in todo:
                _build_one(str(out), preset.name, seed, *job)
                bar.update()
            return
        # "spawn": forking a process that has loaded TensorFlow (a notebook, the test session) can hang.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker)
        try:
            futures = [pool.submit(_build_one, str(out), preset.name, seed, *job) for job in todo]
            for future in as_completed(futures):
                future.result()
                bar.update()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # finished videos stay; the rest is redone
            raise
        pool.shutdown(wait=True)
    finally:
        bar.close()


def _existing_build(out: Path, preset: StickPreset, seed: int, force: bool) -> dict[str, Any] | None:
    """Metadata of a matching build already in ``out`` (``None`` if there is none to keep).

    A build of the same preset and seed by an older generator version is replaced, as ``force`` does: its
    files are the kit's own and the notebooks, which build without ``force``, must not stop on them.

    Raises:
        DatasetError: ``out`` is a file, a non-empty folder that is not a StickActions build, or a
            build with another preset or seed (and ``force`` is off).
    """
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file; expected a folder (new or empty) to write StickActions into.")
    meta_path = out / METADATA_NAME
    if not meta_path.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise DatasetError(f"{out} is not empty and has no {METADATA_NAME}, so it is not a StickActions "
                               "build; choose a new or empty folder for --out (nothing was changed).")
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    wanted = (VERSION, preset.name, seed)
    found = (meta.get("version"), meta.get("preset"), meta.get("seed"))
    if found[0] in _UNCHANGED_SINCE and _UNCHANGED_SINCE[found[0]](preset):
        found = (VERSION, *found[1:])  # an older build whose files this version writes alike
    older = found[1:] == wanted[1:] and isinstance(found[0], int) and found[0] < VERSION
    if force or older:
        # Only what a build writes, and what was derived from its videos, is removed; anything else stays.
        for sub in ("videos", "splits", *_DERIVED):
            shutil.rmtree(out / sub, ignore_errors=True)
        meta_path.unlink()
        return None
    if found != wanted:
        raise DatasetError(
            f"{out} already holds StickActions preset {found[1]}, seed {found[2]} (version {found[0]}); "
            f"to put preset {preset.name}, seed {seed} (version {VERSION}) there add --force "
            "(force=True), or choose another folder."
        )
    return meta


def _remove_leftovers(out: Path) -> None:
    """Delete ``*.partial*`` files of interrupted writes, only among what a build writes.

    Other folders inside ``out`` (a flow cache being computed right now) are left alone.
    """
    for sub in ("videos", "splits"):
        if (out / sub).is_dir():
            remove_partials(out / sub)
    for leftover in out.glob(f".{METADATA_NAME}.*{PARTIAL_SUFFIX}*"):
        leftover.unlink(missing_ok=True)


def _folder_megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6 if folder.is_dir() else 0.0


def generate_stickactions(out: str | Path, preset: str = "default", seed: int = 0, *, force: bool = False,
                          progress: bool = True, workers: int | None = None) -> dict[str, Any]:
    """Build StickActions in ``out``, or finish an interrupted build, or find it complete.

    Args:
        out: folder to write into; created if missing. A non-empty folder must hold a
            StickActions build (``stickactions.json``); anything else is refused, never deleted.
        preset: ``"smoke"``, ``"default"`` or ``"hard"`` (see :data:`PRESETS`).
        seed: whole number >= 0; the same seed gives the same frames and identical joints.
        force: rebuild every video (removes ``videos/``, ``splits/`` and the metadata of the old
            build first, keeps other files).
        progress: show a tqdm progress bar.
        workers: processes to render with; ``None`` uses every available core (one process for
            builds as small as the ``smoke`` preset), 1 renders in this process.

    Returns:
        A JSON-ready summary: ``message`` (one line), ``out``, ``preset``, ``seed``, ``version``,
        ``num_videos``, ``built`` (videos rendered by this call), ``reused`` (True when a complete
        build was already there and nothing was written), ``workers``, ``seconds``, ``size_mb``.

    Raises:
        DatasetError: ``out`` is not a StickActions folder, or holds one with other settings.
        SettingsError: unknown preset name.
    """
    start = time.perf_counter()
    p = get_preset(preset)
    _check_seed(seed)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1 (or None for automatic); got {workers!r}.")
    out = Path(out).expanduser()
    # One build of a folder at a time: two processes building it at once (course runs of several seeds)
    # would delete each other's partial files; the second waits, then finds the build complete.
    with exclusive(out):
        return _build(out, p, seed, force=force, progress=progress, workers=workers, start=start)


def _build(out: Path, p: StickPreset, seed: int, *, force: bool, progress: bool, workers: int | None,
           start: float) -> dict[str, Any]:
    """:func:`generate_stickactions` once its arguments are checked, holding the folder's lock."""
    meta = _existing_build(out, p, seed, force)
    _remove_leftovers(out)

    jobs = [(c, g, k) for c in CLASSES for g in range(1, p.groups + 1) for k in range(1, p.clips_per_group + 1)]
    videos = out / "videos"

    def have(job: tuple[str, int, int]) -> bool:
        video = videos / video_relpath(*job)
        return video.is_file() and skeleton_path(video).is_file()

    todo = [job for job in jobs if not have(job)]
    lists = split_files(p)
    stale_lists = [name for name, text in lists.items()
                   if not (out / "splits" / name).is_file()
                   or (out / "splits" / name).read_text(encoding="utf-8") != text]
    reused = bool(meta and meta.get("complete") is True and meta.get("version") == VERSION and not todo
                  and not stale_lists)
    n_workers = 1
    if not reused:
        atomic_write_json(out / METADATA_NAME, metadata(p, seed, complete=False))
        n_workers = _resolve_workers(workers, len(todo), p)
        if todo:
            _run(out, p, seed, todo, n_workers, progress)
        for name in stale_lists:
            atomic_write_text(out / "splits" / name, lists[name])
        atomic_write_json(out / METADATA_NAME, metadata(p, seed, complete=True))

    seconds = round(time.perf_counter() - start, 2)
    size_mb = round(_folder_megabytes(videos), 1)
    if reused:
        message = (f"StickActions (preset {p.name}, seed {seed}) is already complete in {out}: "
                   f"{len(jobs)} videos, nothing rebuilt.")
    else:
        message = (f"StickActions (preset {p.name}, seed {seed}): built {len(todo)} of {len(jobs)} videos "
                   f"in {out} ({seconds:.1f} s, {size_mb:.1f} MB).")
    return {"message": message, "out": str(out), "preset": p.name, "seed": int(seed), "version": VERSION,
            "num_videos": len(jobs), "built": len(todo), "reused": reused, "workers": n_workers,
            "seconds": seconds, "size_mb": size_mb}
