"""``hybridvid bench pipeline``: why the kit decodes once and caches, in numbers.

Three ways of feeding the same clips (same files, same clip length and size, batch 8)
are timed:

(a) ``naive``: the per-clip OpenCV generator of the TensorFlow video tutorial
    (``FrameGenerator`` in "Load video data", tensorflow.org/tutorials/load_data/video):
    for every clip it opens the file, seeks to a random start, reads every ``frame_step``-th
    frame, converts and pads each frame with TensorFlow ops one at a time, and is wrapped in
    ``tf.data.Dataset.from_generator``; one pass over the videos;
(b) ``first epoch`` of :func:`~hybridvid_lib.data.pipeline.build_pipeline` (RGB clips): parallel decoding
    and filling the uint8 cache;
(c) ``cached`` epochs of the same pipeline: sampling and augmentation only (mean of the
    later epochs).

It also times optical flow on one decoded video at the clip size (frame pairs per second
for each available method). These are figures for a course, not tests: they depend on
the machine and on what else runs on it.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from collections import Counter
from typing import Any, Iterable

import numpy as np
from tqdm.auto import tqdm

from hybridvid_lib.data.records import DatasetSplit, Record

BATCH_SIZE = 8
FRAME_STEP = 2  # frames between the samples of a clip, for both contenders


def _tf():
    from hybridvid_lib.tf_setup import import_tensorflow

    return import_tensorflow()


# --------------------------------------------------------------------------- (a) the tutorial's generator
def tutorial_frames_from_video(path: str | Path, num_frames: int, output_size: int, frame_step: int,
                               rng: np.random.Generator) -> np.ndarray:
    """One clip the way the TensorFlow video tutorial reads it: ``(num_frames, S, S, 3)`` float32 in [0, 1].

    Kept faithful on purpose (the container's frame count, a seek, one TensorFlow call per
    frame, black frames past the end): this is the baseline being measured, not a model to copy.
    """
    import cv2

    tf = _tf()

    def format_frame(frame: np.ndarray):
        frame = tf.image.convert_image_dtype(frame, tf.float32)
        return tf.image.resize_with_pad(frame, output_size, output_size)

    src = cv2.VideoCapture(str(path))
    try:
        video_length = int(src.get(cv2.CAP_PROP_FRAME_COUNT))
        need_length = 1 + (num_frames - 1) * frame_step
        start = 0 if need_length > video_length else int(rng.integers(0, video_length - need_length + 1))
        src.set(cv2.CAP_PROP_POS_FRAMES, start)
        ok, frame = src.read()
        if not ok:
            raise ValueError(f"{path} yields no frame.")
        result = [format_frame(frame)]
        for _ in range(num_frames - 1):
            for _ in range(frame_step):
                ok, frame = src.read()
            result.append(format_frame(frame) if ok else tf.zeros_like(result[0]))
    finally:
        src.release()
    return np.array(result)[..., [2, 1, 0]]  # OpenCV's BGR -> RGB


class TutorialFrameGenerator:
    """The tutorial's ``FrameGenerator``: yields ``(clip, label)`` per video, in a shuffled order."""

    def __init__(self, records: list[Record], num_frames: int, output_size: int,
                 frame_step: int = FRAME_STEP, seed: int = 0):
        self.records, self.num_frames, self.output_size = records, num_frames, output_size
        self.frame_step = frame_step
        self.rng = np.random.default_rng(seed)

    def __call__(self):
        for i in self.rng.permutation(len(self.records)):
            record = self.records[i]
            clip = tutorial_frames_from_video(record.path, self.num_frames, self.output_size,
                                              self.frame_step, self.rng)
            yield clip, np.int32(record.label)


def tutorial_dataset(records: list[Record], num_frames: int, frame_size: int, batch_size: int = BATCH_SIZE):
    """``tf.data.Dataset.from_generator`` over :class:`TutorialFrameGenerator`, batched."""
    tf = _tf()
    spec = (tf.TensorSpec((num_frames, frame_size, frame_size, 3), tf.float32), tf.TensorSpec((), tf.int32))
    generator = TutorialFrameGenerator(records, num_frames, frame_size)
    return tf.data.Dataset.from_generator(generator, output_signature=spec).batch(batch_size)


# --------------------------------------------------------------------------- timing
def _timed_epoch(dataset, *, total: int, desc: str, progress: bool) -> dict[str, Any]:
    """One full pass over a batched ``(inputs, labels)`` dataset, timed.

    Returns:
        ``{"pass": desc, "clips": N, "seconds": s, "labels": {label: clips}}``: what the pass read
        (the label counts show that every contender read the same clips) and how long it took.
    """
    labels_seen: Counter[int] = Counter()
    start = time.perf_counter()
    with tqdm(total=total, desc=desc, unit="clip", disable=not progress, leave=False) as bar:
        for _, labels in dataset:
            batch = np.asarray(labels).reshape(-1).tolist()
            labels_seen.update(int(label) for label in batch)
            bar.update(len(batch))
    seconds = time.perf_counter() - start
    return {"pass": desc, "clips": sum(labels_seen.values()), "seconds": seconds,
            "labels": {str(label): labels_seen[label] for label in sorted(labels_seen)}}


def _device_name() -> str:
    from hybridvid_lib.tf_setup import gpu_devices

    gpus = gpu_devices()
    if not gpus:
        return "cpu"
    details = _tf().config.experimental.get_device_details(gpus[0])
    return str(details.get("device_name", "gpu"))


def _load_or_build(root: Path | None, stack: ExitStack, progress: bool) -> tuple[DatasetSplit, str]:
    """The StickActions split to read, and a description of where it came from."""
    from hybridvid_lib.config import stickactions_dir
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.data.synth import METADATA_NAME, generate_stickactions

    if root is None:
        course_copy = stickactions_dir("default")
        if (course_copy / METADATA_NAME).is_file():
            root, source = course_copy, "StickActions default (the course copy)"
        else:
            # A default-preset build takes about 20 s on 2 cores: cheap next to the timings.
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hybridvid-bench-")))
            generate_stickactions(root, preset="default", seed=0, progress=progress)
            source = "StickActions default, seed 0 (built in a temporary folder)"
    else:
        source = f"StickActions in {root}"
    return load_dataset("stickactions", root, check_videos=True, progress=False), source


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def bench_pipeline(root: Path | None = None, *, num_videos: int = 48, epochs: int = 3, num_frames: int = 16,
                   frame_size: int = 64, progress: bool = True) -> dict[str, Any]:
    """Time the tutorial's generator, this kit's first (decoding) epoch and its cached epochs.

    Args:
        root: a StickActions folder; ``None`` uses the course copy if there is one, else
            builds the ``default`` preset in a temporary folder (removed afterwards).
        num_videos: how many training videos to read (the first ones of the list).
        epochs: epochs of the ``tf.data`` pipeline, at least 2: the first fills the cache,
            the later ones read it.
        num_frames: frames per clip; frames are ``FRAME_STEP`` apart in both contenders.
        frame_size: clip frame size in pixels (the pipeline caches at ``1.125 x`` that and crops).
        progress: tqdm bars.

    Returns:
        A JSON-ready dict: ``naive_clips_per_s``, ``first_epoch_clips_per_s``,
        ``cached_clips_per_s``, ``speedup_cached_vs_naive``, ``flow_fps`` (method -> frame
        pairs per second at ``frame_size``), ``num_videos``, ``num_frames``, ``frame_size``,
        ``epochs``, ``batch_size``, ``device``, ``dataset``, and ``passes``: the measurements the
        rates come from, one per timed pass (the generator, then each ``tf.data`` epoch) with
        ``clips``, ``seconds`` and ``labels`` (clips read per label).
    """
    for name, value, least in (("num_videos", num_videos, 1), ("epochs", epochs, 2),
                               ("num_frames", num_frames, 1), ("frame_size", frame_size, 8)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}; got {value!r}.")
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.flow import measure_flow_fps
    from hybridvid_lib.data.pipeline import build_pipeline
    from hybridvid_lib.data.video import read_video

    with ExitStack() as stack:
        ds, source = _load_or_build(root, stack, progress)
        records = ds.usable("train")[:num_videos]
        subset = dataclasses.replace(ds, train=records, test=[], unused=[], missing=[], unreadable=[])
        n = len(records)
        device = _device_name()

        # Flow is timed before any tf.data work (whose worker threads would compete for the
        # two cores) and as the best of 3 runs (the first call pays OpenCV's one-time set-up).
        frames = read_video(records[0].path, short_side=frame_size)
        flow_fps = measure_flow_fps(frames, methods=None, repeats=3)

        passes = [_timed_epoch(tutorial_dataset(records, num_frames, frame_size), total=n,
                               desc="tutorial generator", progress=progress)]

        settings = resolve_settings("cpu", num_frames=num_frames, frame_stride=FRAME_STEP,
                                    batch_size=BATCH_SIZE).with_frame_size(frame_size)
        pipe = build_pipeline(subset, "train", settings, inputs=("rgb",), training=True, seed=0,
                              sampling="stride")
        for epoch in range(epochs):
            desc = "tf.data, first epoch" if epoch == 0 else f"tf.data, cached epoch {epoch + 1}"
            passes.append(_timed_epoch(pipe.dataset, total=n, desc=desc, progress=progress))


    naive, first, *later = [p["clips"] / p["seconds"] for p in passes]
    cached = _mean(later)
    result = {
        "dataset": source,
        "num_videos": n,
        "num_frames": num_frames,
        "frame_size": frame_size,
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "device": device,
        "naive_clips_per_s": round(naive, 2),
        "first_epoch_clips_per_s": round(first, 2),
        "cached_clips_per_s": round(cached, 2),
        "speedup_cached_vs_naive": round(cached / naive, 2),
        "flow_fps": {method: round(fps, 1) for method, fps in flow_fps.items()},
        "passes": passes,
    }
    return result


def format_bench(result: dict[str, Any]) -> str:
    """The result of :func:`bench_pipeline` as a small text table."""
    size = result["frame_size"]
    rows = [
        ("naive OpenCV generator (TF tutorial)", result["naive_clips_per_s"], ""),
        ("tf.data, first epoch (decode + cache)", result["first_epoch_clips_per_s"], ""),
        (f"tf.data, cached epochs (mean of {result['epochs'] - 1})", result["cached_clips_per_s"],
         f"{result['speedup_cached_vs_naive']:.1f}x the naive generator"),
    ]
    lines = [
        f"Input pipeline: {result['num_videos']} videos, clips of {result['num_frames']} frames at "
        f"{size}x{size}, batch {result['batch_size']}, device {result['device']}",
        f"({result['dataset']})",
        f"  {'pipeline':<42}{'clips/s':>10}",
    ]
    lines += [f"  {name:<42}{rate:>10.1f}  {note}".rstrip() for name, rate, note in rows]
    lines.append(f"Optical flow at short side {size} (frame pairs/s):")
    lines += [f"  {method:<42}{fps:>10.1f}" for method, fps in result["flow_fps"].items()]
    return "\n".join(lines)
