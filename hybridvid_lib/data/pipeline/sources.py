"""Where each modality of a pipeline element comes from, before the cache: one ``Source`` per input.

==========  ==========================================  ===========================================
modality    read from                                   cached array (one per sample)
==========  ==========================================  ===========================================
``rgb``     the record's ``video`` file, decoded          ``(T, S, S, 3)`` uint8, S = cache size
``flow``    the flow cache (computed from the video      ``(T - 1, S, S, 2)`` uint8 flow codes
            when missing): no RGB is decoded for it
``joints``  the record's ``skeleton`` file (``.npy``;    ``(T, J, C[, M])`` float32
            NTU ``.skeleton`` text through its cache)
``features`` the feature cache (e.g. I3D sequences)      ``(T', D)`` float
==========  ==========================================  ===========================================

A source says why a record cannot give its input (:meth:`Source.missing`, e.g. "no video"),
loads the array (:meth:`Source.load`, in a ``tf.numpy_function`` of a parallel ``map``), and
describes itself for the pipeline-cache fingerprint (:meth:`Source.stamp`), so a changed file
or setting is never served from a stale cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hybridvid_lib.data.pipeline.decoding import decode_square_frames, load_flow_square, load_joints
from hybridvid_lib.data.pipeline.joints import JointLayout
from hybridvid_lib.data.records import MODALITIES, DatasetSplit, Record
from hybridvid_lib.errors import DatasetError

__all__ = ["MODALITIES", "FeatureSource", "FlowSource", "JointsSource", "RgbSource", "Source", "joint_layout"]


def _file_stamp(path: Path | None) -> list | None:
    try:
        st = Path(path).stat()
        return [st.st_size, st.st_mtime_ns]
    except (OSError, TypeError):
        return None


class Source:
    """One modality's loader. Subclasses set ``name``, ``dtype`` (numpy) and ``tail`` (shape after ``T``)."""

    name: str = ""
    dtype: Any = np.uint8
    tail: tuple[int, ...] = ()

    def missing(self, record: Record) -> str | None:
        """Why ``record`` cannot give this input (a skip reason), or ``None``."""
        return None

    def load(self, record: Record) -> np.ndarray:
        """The sample's array ``(T, *tail)`` of ``dtype``; raises a decode error when it fails."""
        raise NotImplementedError

    def empty(self) -> np.ndarray:
        """What a failed load returns (``T = 0``), so the pipeline can filter it out."""
        return np.zeros((0, *self.tail), self.dtype)

    def describe(self) -> dict[str, Any]:
        """The settings that define this source's arrays (part of the cache fingerprint)."""
        return {"name": self.name, "tail": list(self.tail)}

    def stamp(self, record: Record) -> Any:
        """What identifies this record's input on disk (size and mtime of its file)."""
        return None


class RgbSource(Source):
    """Decoded RGB frames: short side resized to ``size``, centre square kept."""

    name, dtype = "rgb", np.uint8

    def __init__(self, size: int):
        self.size = int(size)
        self.tail = (self.size, self.size, 3)

    def missing(self, record: Record) -> str | None:
        return None if record.has("video") else "no video"

    def load(self, record: Record) -> np.ndarray:
        return decode_square_frames(str(record.file("video")), self.size)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "size": self.size}

    def stamp(self, record: Record) -> Any:
        return _file_stamp(record.path)


class FlowSource(Source):
    """uint8 flow codes from a :class:`~hybridvid_lib.data.flow_cache.FlowCache`, at the RGB cache size."""

    name, dtype = "flow", np.uint8

    def __init__(self, flow_cache, size: int):
        from hybridvid_lib.data.flow import quantize_flow

        if flow_cache is None:
            raise DatasetError("A 'flow' input needs a flow cache: pass flow_cache=FlowCache(...) "
                               "(see hybridvid_lib.data.flow_cache).")
        self.flow_cache = flow_cache
        self.size = int(size)
        self.tail = (self.size, self.size, 2)
        # A one-frame video has no flow field; it gets one still field so its clip can be built.
        self.zero_field = np.asarray(quantize_flow(np.zeros((1, *self.tail), np.float32)), np.uint8)

    def missing(self, record: Record) -> str | None:
        if record.has("video") or self.flow_cache.is_cached(record):
            return None
        return "no video and no cached flow"

    def load(self, record: Record) -> np.ndarray:
        return load_flow_square(self.flow_cache, record, self.size, self.zero_field)

    def describe(self) -> dict[str, Any]:
        cache = self.flow_cache
        return {**super().describe(), "size": self.size,
                "flow": [str(getattr(cache, "cache_dir", "")), getattr(cache, "method", None),
                         getattr(cache, "size", None)]}

    def stamp(self, record: Record) -> Any:
        path = getattr(self.flow_cache, "path_for", None)
        return [_file_stamp(record.path), _file_stamp(path(record)) if path else None]


class JointsSource(Source):
    """Joint arrays ``(T, J, C[, M])`` float32 from each record's skeleton file."""

    name, dtype = "joints", np.float32

    def __init__(self, layout: JointLayout, ntu_cache=None):
        self.layout = layout
        self.ntu_cache = ntu_cache
        persons = () if layout.persons is None else (layout.persons,)
        self.tail = (layout.num_joints, layout.channels, *persons)

    def missing(self, record: Record) -> str | None:
        path = record.skeleton_path
        if path is None or not Path(path).is_file():
            return "missing skeleton"
        return None

    def load(self, record: Record) -> np.ndarray:
        path = record.file("skeleton")
        if path.suffix == ".skeleton":  # NTU RGB+D text: converted once, then read from its array cache
            from hybridvid_lib.data.ntu_skeleton import load_ntu_joints

            joints = load_ntu_joints(record, self.ntu_cache, persons=self.layout.persons or 1)
            if self.layout.persons is None:  # one person slot: (T, J, C), no person axis
                joints = joints[..., 0]
        else:
            joints = load_joints(str(path), self.layout.num_joints, self.layout.persons)
        if joints.shape[1:] != self.tail:
            raise ValueError(f"expected joints of shape {self.layout.shape_doc()}; got {joints.shape}")
        return joints

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "layout": repr(self.layout)}

    def stamp(self, record: Record) -> Any:
        return _file_stamp(record.skeleton_path)


class FeatureSource(Source):
    """Per-sample feature sequences ``(T', D)`` from a :class:`~hybridvid_lib.data.feature_cache.FeatureCache`."""

    name, dtype = "features", np.float32

    def __init__(self, feature_cache):
        if feature_cache is None:
            raise DatasetError("A 'features' input needs a feature cache: pass feature_cache=FeatureCache(...) "
                               "and fill it first (hybridvid_lib.data.feature_cache.extract_features).")
        self.feature_cache = feature_cache
        self.tail = (int(feature_cache.dim),)

    def missing(self, record: Record) -> str | None:
        return None if self.feature_cache.is_cached(record) else "features not cached"

    def load(self, record: Record) -> np.ndarray:
        features = self.feature_cache.load(record)
        if features is None:
            raise ValueError(f"no cached features for {record.relpath}")
        return features.astype(np.float32, copy=False)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "cache": str(self.feature_cache.root)}

    def stamp(self, record: Record) -> Any:
        paths = getattr(self.feature_cache, "paths_for", None)  # a FeatureStack: every cache's file
        return tuple(_file_stamp(p) for p in paths(record)) if paths else _file_stamp(self.feature_cache.path_for(record))


def joint_layout(ds: DatasetSplit) -> JointLayout:
    """The :class:`JointLayout` of a dataset's skeleton files.

    A reader may store one as ``ds.metadata["joint_layout"]`` (a dict of the fields); a
    dataset with a skeleton graph in pixels (StickActions: ``metadata["skeleton"]`` and
    ``metadata["frame_size"]``) gets x, y in pixels and a confidence channel.

    Raises:
        DatasetError: the dataset has no skeleton description.
    """
    from hybridvid_lib.data.skeletons import SkeletonGraph

    if ds.metadata.get("joint_layout"):
        fields = dict(ds.metadata["joint_layout"])
        fields["mirror"] = tuple(int(i) for i in fields["mirror"])
        fields["default_origin"] = tuple(float(v) for v in fields["default_origin"])
        return JointLayout(**fields)
    if not ds.metadata.get("skeleton"):
        raise DatasetError(
            f"The {ds.format} dataset in {ds.video_root} has no skeleton graph (metadata 'skeleton'); "
            "a 'joints' input needs a dataset with joints, such as StickActions or NTU RGB+D."
        )
    graph = SkeletonGraph.from_dict(ds.metadata["skeleton"])
    if not ds.metadata.get("frame_size"):
        raise DatasetError(f"The {ds.format} dataset in {ds.video_root} has no 'frame_size' in its "
                           "metadata; pixel joints need it to be normalised.")
    height, width = (int(v) for v in ds.metadata["frame_size"])
    return JointLayout(num_joints=graph.num_joints, coords=2, confidence=2, center=graph.center,
                       scale=float(max(height, width)), default_origin=((width - 1) / 2, (height - 1) / 2),
                       mirror=tuple(int(i) for i in graph.mirror_permutation()),
                       persons=ds.metadata.get("persons"))
