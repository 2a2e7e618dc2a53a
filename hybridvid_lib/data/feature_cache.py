"""Per-video feature sequences computed once by a backbone and cached, so heads train in seconds.

The hybrid of chapter 07 reads I3D features (one vector per time step) instead of decoding
video every epoch; chapter 08's ablation trains several heads on the same cached features.
Layout::

    <cache_dir>/<name>/cache_info.json                   which extractor, weights and settings
    <cache_dir>/<name>/<Class>/<video>.avi.features.npy  float32 (T', D)

Built on :class:`~hybridvid_lib.data.array_cache.ArrayCache`: atomic files, damaged files
recomputed, another extractor's cache refused, a second run computes nothing.

::

    cache = FeatureCache(folder, "frame_encoder", dim=128, info={"weights": run_dir_name})
    extract_features(backbone, ds, "train", settings, cache, inputs=("rgb",))
    train = build_pipeline(ds, "train", settings, inputs=("features",), feature_cache=cache, training=True)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm.auto import tqdm

from hybridvid_lib.data.array_cache import ArrayCache
from hybridvid_lib.data.records import DatasetSplit, Record

FEATURE_SUFFIX = ".features.npy"
CACHE_VERSION = 1


class FeatureCache:
    """Feature sequences ``(T', dim)`` float32 of each sample, made by one extractor.

    Args:
        cache_dir: the cache root; the arrays go to ``<cache_dir>/<name>``.
        name: the extractor's name (``"i3d_rgb"``); one folder per extractor.
        dim: feature length ``D``.
        info: what else defines the features (weights, sizes, settings): a different ``info``
            in the same folder is refused.
    """

    def __init__(self, cache_dir: str | Path, name: str, dim: int, info: Mapping[str, Any] | None = None):
        if int(dim) < 1:
            raise ValueError(f"dim must be a positive feature length; got {dim!r}.")
        self.name, self.dim = str(name), int(dim)

        def check(shape: tuple, dtype: np.dtype) -> str | None:
            if dtype == np.float32 and len(shape) == 2 and shape[0] >= 1 and shape[1] == self.dim:
                return None
            return f"holds {dtype} {shape}, not float32 (T, {self.dim}) with T >= 1"

        self.arrays = ArrayCache(Path(cache_dir) / self.name, suffix=FEATURE_SUFFIX,
                                 info={"version": CACHE_VERSION, "name": self.name, "dim": self.dim,
                                       **dict(info or {})},
                                 check=check, what=f"{self.name} features")
        self.root = self.arrays.root

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, dim={self.dim})"

    def path_for(self, record: Record) -> Path:
        return self.arrays.path_for(record.relpath)

    def is_cached(self, record: Record) -> bool:
        return self.arrays.is_cached(record.relpath)

    def load(self, record: Record) -> np.ndarray | None:
        """``(T', dim)`` float32, or ``None`` when not cached (a damaged file is deleted)."""
        return self.arrays.load(record.relpath)

    def save(self, record: Record, features: np.ndarray) -> Path:
        return self.arrays.save(record.relpath, np.asarray(features, np.float32))


class FeatureStack:
    """Several caches' sequences side by side along the features, e.g. RGB-I3D then Flow-I3D: ``(T', D1 + D2)``.

    It reads like one :class:`FeatureCache` (``dim``, ``is_cached``, ``load``), so the pipeline's ``features``
    input takes it as it is: ``build_pipeline(..., inputs=("features",), feature_cache=FeatureStack([rgb, flow]))``.
    A sample counts as cached when every cache has it; its sequences must have the same number of steps.
    """

    def __init__(self, caches: Sequence[FeatureCache]):
        self.caches = tuple(caches)
        if not self.caches:
            raise ValueError("FeatureStack needs at least one FeatureCache.")
        self.dims = tuple(c.dim for c in self.caches)
        self.dim = sum(self.dims)
        self.name = "+".join(c.name for c in self.caches)
        self.root = self.caches[0].root

    def __repr__(self) -> str:
        return f"FeatureStack({list(self.caches)!r})"

    def path_for(self, record: Record) -> Path:
        return self.caches[0].path_for(record)

    def paths_for(self, record: Record) -> list[Path]:
        return [c.path_for(record) for c in self.caches]

    def is_cached(self, record: Record) -> bool:
        return all(c.is_cached(record) for c in self.caches)

    def load(self, record: Record) -> np.ndarray | None:
        """``(T', sum of dims)`` float32, or ``None`` when a cache lacks the sample.

        Raises:
            ValueError: the caches hold sequences of different lengths for the sample.
        """
        parts = [c.load(record) for c in self.caches]
        if any(part is None for part in parts):
            return None
        steps = [len(part) for part in parts]
        if len(set(steps)) != 1:
            raise ValueError(f"{record.relpath}: the caches {self.name} hold {steps} steps; side by side they "
                             "need the same number (extract them with the same frames per clip).")
        return np.concatenate(parts, axis=1)


def extract_features(backbone, ds: DatasetSplit, subset: str, settings, cache: FeatureCache, *,
                     inputs: Sequence[str] = ("rgb",), progress: bool = True, **pipeline_options) -> dict[str, Any]:
    """Run ``backbone`` over every usable sample of ``subset`` not cached yet and store its feature sequence.

    Args:
        backbone: a Keras model taking the pipeline's ``inputs`` (by name) and returning
            ``(B, T', dim)`` sequences (or ``(B, dim)``, stored as one step).
        ds, subset, settings: what to read, as for :func:`~hybridvid_lib.data.pipeline.build_pipeline`
            (evaluation mode: deterministic clips, centre crop, no flip).
        cache: where the sequences go.
        inputs: the modalities the backbone takes.
        progress: show a tqdm bar.
        **pipeline_options: more :func:`build_pipeline` options (``flow_cache`` ...).

    Returns:
        ``{"computed": int, "cached": int, "skipped": [...]}``: samples extracted in this call,
        samples already cached, and those the pipeline could not read.
    """
    from hybridvid_lib.data.pipeline import build_pipeline
    from hybridvid_lib.training import model_inputs

    cache.arrays.root.mkdir(parents=True, exist_ok=True)
    cache.arrays.check_info()
    listed = ds.subset(subset)
    todo = [r for r in listed if not cache.is_cached(r)]
    if not todo:
        return {"computed": 0, "cached": len(listed), "skipped": []}
    pipe = build_pipeline(dataclasses.replace(ds, **{subset: todo}), subset, settings, inputs=inputs,
                          training=False, **pipeline_options)
    computed = 0
    with tqdm(total=pipe.num_videos, desc=f"features {cache.name}", unit="video", disable=not progress) as bar:
        for features, _ in pipe.dataset:
            sequences = np.asarray(backbone.predict_on_batch(model_inputs(features, backbone)), np.float32)
            if sequences.ndim == 2:
                sequences = sequences[:, None, :]
            for i, sequence in zip(np.asarray(features["index"]), sequences):
                cache.save(pipe.records[int(i)], sequence)
                computed += 1
            bar.update(len(sequences))
    return {"computed": computed, "cached": len(listed) - len(todo), "skipped": list(pipe.skipped)}


def open_feature_stack(root: str | Path, names: Sequence[str] = ("i3d_rgb", "i3d_flow")) -> FeatureStack:
    """The caches ``root/<name>/`` written by ``hybridvid features extract --out ROOT``, side by side in ``names``' order.

    Each cache's feature length and settings are read from its ``cache_info.json``, so a head is trained on
    exactly what was extracted (``hybridvid train --model hybrid --features ROOT``).

    Raises:
        DatasetError: a cache is missing; the message says which command writes it.
    """
    import json

    from hybridvid_lib.errors import DatasetError

    caches = []
    for name in names:
        info_path = Path(root) / name / "cache_info.json"
        if not info_path.is_file():
            raise DatasetError(f"No {name} features in {root} ({info_path} is missing); write them first with "
                               f"`hybridvid features extract --model {name} --out {root}` (same --format and --root).")
        info = json.loads(info_path.read_text())
        extra = {k: v for k, v in info.items() if k not in ("version", "name", "dim")}
        caches.append(FeatureCache(root, name, int(info["dim"]), info=extra))
    return FeatureStack(caches)
