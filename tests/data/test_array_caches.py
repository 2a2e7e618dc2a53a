"""The on-disk array caches (``ArrayCache``, ``FeatureCache``, ``extract_features``) and the NTU skeleton parser."""

import dataclasses
import logging

import numpy as np
import pytest

from hybridvid_lib.data.array_cache import ArrayCache, CacheSettingsError
from hybridvid_lib.data.ntu_skeleton import NtuSkeletonError, parse_ntu_skeleton


# --------------------------------------------------------------------------- NTU RGB+D parser
def ntu_joints(seed: float) -> np.ndarray:
    """(25, 3) distinct coordinates, in metres."""
    return np.round(seed + np.arange(75).reshape(25, 3) / 100, 4)


def ntu_text(frames: list[list[tuple[str, np.ndarray]]], newline: str = "\n") -> str:
    """An NTU ``.skeleton`` file: per frame, a list of ``(bodyID, (25, 3) joints)``."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines.append(f"{body_id} 0 1 1 1 1 0 -0.4 0.1 2")
            lines.append("25")
            lines += [f"{x} {y} {z} 250.5 210.2 890.1 520.3 0.2 -0.1 0.9 0.1 2" for x, y, z in joints]
    return newline.join(lines) + newline


def test_ntu_parser_reads_crlf_files_and_frames_without_bodies(tmp_path):
    a, b = ntu_joints(0.5), ntu_joints(-1.0)
    frames = [[("101", a)], [], [("202", b), ("101", a + 1)]]  # frame 2: nobody; frame 3: a second actor first
    path = tmp_path / "S001C001P001R001A001.skeleton"
    path.write_bytes(ntu_text(frames, "\r\n").encode())
    parsed = parse_ntu_skeleton(path, persons=2)
    assert parsed.joints.shape == (3, 25, 3, 2) and parsed.joints.dtype == np.float32
    assert parsed.body_ids == ("101", "202") and parsed.extra_bodies == 0
    np.testing.assert_allclose(parsed.joints[0, :, :, 0], a, atol=1e-6)
    assert np.all(parsed.joints[0, :, :, 1] == 0) and np.all(parsed.joints[1] == 0)  # no body: zeros
    np.testing.assert_allclose(parsed.joints[2, :, :, 0], a + 1, atol=1e-6)  # slots follow the bodyID
    np.testing.assert_allclose(parsed.joints[2, :, :, 1], b, atol=1e-6)
    lf = tmp_path / "lf.skeleton"
    lf.write_text(ntu_text(frames))
    np.testing.assert_array_equal(parse_ntu_skeleton(lf, persons=2).joints, parsed.joints)


def test_ntu_parser_counts_bodies_beyond_the_person_slots(tmp_path):
    three = [("1", ntu_joints(0)), ("2", ntu_joints(1)), ("3", ntu_joints(2))]
    path = tmp_path / "S001C001P001R001A050.skeleton"
    path.write_text(ntu_text([three, three[:2], three]))
    parsed = parse_ntu_skeleton(path, persons=2)
    assert parsed.extra_bodies == 2 and parsed.joints.shape == (3, 25, 3, 2)
    np.testing.assert_allclose(parsed.joints[:, :, :, 1], np.broadcast_to(ntu_joints(1), (3, 25, 3)), atol=1e-6)
    assert parse_ntu_skeleton(path, persons=1).extra_bodies == 5


@pytest.mark.parametrize("damage", ["empty", "truncated", "blank", "bad joint count"])
def test_ntu_parser_names_the_file_it_cannot_read(tmp_path, damage):
    text = ntu_text([[("1", ntu_joints(0))], [("1", ntu_joints(0))]])
    lines = text.splitlines()
    damaged = {"empty": "", "blank": "\n \n", "truncated": "\n".join(lines[:40]) + "\n",
               "bad joint count": text.replace("\n25\n", "\n24\n", 1)}[damage]
    path = tmp_path / "S017C003P020R002A060.skeleton"
    path.write_text(damaged)
    with pytest.raises(NtuSkeletonError, match="S017C003P020R002A060.skeleton"):
        parse_ntu_skeleton(path)
    assert issubclass(NtuSkeletonError, ValueError)  # the pipeline counts it as a sample that fails to load


def test_ntu_files_are_converted_once_into_an_array_cache_that_refuses_other_settings(tmp_path, monkeypatch):
    import json

    from hybridvid_lib.data import ntu_skeleton
    from hybridvid_lib.data.records import Record

    path = tmp_path / "nturgb+d_skeletons" / "S001C001P001R001A001.skeleton"
    path.parent.mkdir()
    path.write_text(ntu_text([[("1", ntu_joints(0))], [("1", ntu_joints(1))]]))
    record = Record(path.name, 0, "DrinkWater", "P001", files={"skeleton": path})
    joints = ntu_skeleton.load_ntu_joints(record, tmp_path / "arrays")
    assert joints.shape == (2, 25, 3, 2) and (tmp_path / "arrays" / "persons2" / f"{path.name}.joints.npy").is_file()

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(ntu_skeleton, "parse_ntu_skeleton", no_parsing)
    np.testing.assert_array_equal(ntu_skeleton.load_ntu_joints(record, tmp_path / "arrays"), joints)
    info = tmp_path / "arrays" / "persons2" / "cache_info.json"
    info.write_text(json.dumps({**json.loads(info.read_text()), "version": 0}))  # made by another kit version
    with pytest.raises(CacheSettingsError, match="version"):
        ntu_skeleton.load_ntu_joints(record, tmp_path / "arrays")


# --------------------------------------------------------------------------- ArrayCache
def square_check(shape, dtype):
    return None if dtype == np.float32 and shape == (3, 3) else f"holds {dtype} {shape}, not float32 (3, 3)"


def make_cache(root, **info):
    return ArrayCache(root, suffix=".test.npy", info={"method": "eye", **info}, check=square_check, what="test")


class Counter:
    """``compute(key)`` functions that count how often each key was computed."""

    def __init__(self):
        self.calls = []

    def items(self, keys):
        def compute(key):
            self.calls.append(key)
            return np.full((3, 3), len(key), np.float32)

        return [(key, lambda key=key: compute(key)) for key in keys]


def test_fill_is_resumable_and_a_second_fill_computes_nothing(tmp_path):
    cache, counter = make_cache(tmp_path / "c"), Counter()
    keys = ["a/one.avi", "a/two.avi", "b/three.avi"]
    # An interrupted run left one finished file and one unfinished one.
    cache.save(keys[0], np.zeros((3, 3), np.float32))
    partial = cache.path_for(keys[1]).with_name(".two.avi.test.npy.x1y2.partial")
    partial.write_bytes(b"\x93NUMPY half")
    report = cache.fill(counter.items(keys), progress=False)
    assert report["computed"] == 2 and report["cached"] == 1 and report["failed"] == [] and report["items"] == 3
    assert sorted(counter.calls) == sorted(keys[1:]) and not partial.exists()
    assert (tmp_path / "c" / "cache_info.json").is_file()
    np.testing.assert_array_equal(cache.load("b/three.avi"), np.full((3, 3), len("b/three.avi"), np.float32))

    counter.calls.clear()
    report = cache.fill(counter.items(keys), progress=False)
    assert counter.calls == [] and report["computed"] == 0 and report["cached"] == 3


def test_a_failed_item_leaves_no_file_and_is_retried_next_time(tmp_path):
    cache = make_cache(tmp_path)

    def broken():
        raise OSError("disk on fire")

    report = cache.fill([("ok", lambda: np.ones((3, 3), np.float32)), ("bad", broken)], progress=False,
                        failures=(OSError,))
    assert report["failed"] == [{"key": "bad", "reason": "disk on fire"}] and report["computed"] == 1
    assert not cache.is_cached("bad") and not list(tmp_path.rglob("*.partial*"))
    assert cache.fill([("bad", lambda: np.ones((3, 3), np.float32))], progress=False)["computed"] == 1


def test_damaged_or_wrong_files_are_detected_deleted_and_recomputed(tmp_path, caplog):
    cache, counter = make_cache(tmp_path), Counter()
    cache.fill(counter.items(["x", "y", "z"]), progress=False)
    path = cache.path_for("x")
    path.write_bytes(path.read_bytes()[:-8])  # truncated by hand
    np.save(cache.path_for("y"), np.zeros((4, 3), np.float32))  # a whole file of the wrong shape
    assert not cache.is_cached("x") and not cache.is_cached("y") and cache.is_cached("z")
    with caplog.at_level(logging.WARNING, logger="hybridvid_lib.data.array_cache"):
        assert cache.load("x") is None
    assert "Damaged test cache file" in caplog.text and not path.exists()
    counter.calls.clear()
    report = cache.fill(counter.items(["x", "y", "z"]), progress=False)
    assert sorted(counter.calls) == ["x", "y"] and report["computed"] == 2 and report["cached"] == 1
    assert cache.load("y").shape == (3, 3)
    with pytest.raises(ValueError, match="not float32"):
        cache.save("w", np.zeros((2, 2), np.float32))


def test_a_cache_made_with_other_settings_is_refused(tmp_path):
    make_cache(tmp_path).fill(Counter().items(["x"]), progress=False)
    other = make_cache(tmp_path, size=64)
    with pytest.raises(CacheSettingsError, match="size"):
        other.fill(Counter().items(["x"]), progress=False)
    with pytest.raises(CacheSettingsError):
        other.check_info()
    make_cache(tmp_path).check_info()  # the same settings are welcome


@pytest.mark.parametrize("key", ["../outside.avi", "a/../../outside.avi", "/etc/passwd", ""])
def test_keys_that_escape_the_cache_folder_are_refused(tmp_path, key):
    cache = make_cache(tmp_path / "c")
    with pytest.raises(ValueError, match="relative path inside the cache"):
        cache.path_for(key)
    with pytest.raises(ValueError, match="relative path inside the cache"):
        cache.save(key, np.zeros((3, 3), np.float32))
    assert not (tmp_path / "outside.avi.test.npy").exists()


# --------------------------------------------------------------------------- FeatureCache, extract_features
def test_feature_cache_round_trip(tmp_path):
    from hybridvid_lib.data.feature_cache import FeatureCache
    from hybridvid_lib.data.records import Record

    record = Record("Wave/v_Wave_g01_c01.avi", 0, "Wave", "g01")
    cache = FeatureCache(tmp_path, "toy", dim=4, info={"weights": "run-1"})
    assert not cache.is_cached(record) and cache.load(record) is None
    features = np.arange(12, dtype=np.float64).reshape(3, 4)
    path = cache.save(record, features)
    assert path == tmp_path / "toy" / "Wave" / "v_Wave_g01_c01.avi.features.npy" == cache.path_for(record)
    loaded = cache.load(record)
    assert loaded.dtype == np.float32 and cache.is_cached(record)
    np.testing.assert_array_equal(loaded, features)
    with pytest.raises(ValueError, match=r"\(T, 4\)"):
        cache.save(record, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="dim"):
        FeatureCache(tmp_path, "toy", dim=0)


def test_extract_features_is_resumable(tmp_path):
    import keras

    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.feature_cache import FeatureCache, extract_features
    from hybridvid_lib.data.pipeline import build_pipeline
    from hybridvid_lib.data.records import DatasetSplit, Record
    from hybridvid_lib.data.video import write_video

    records = []
    for n in range(3):
        relpath = f"Wave/v_Wave_g{n + 1:02d}_c01.avi"
        frames = np.zeros((6, 32, 32, 3), np.uint8)
        frames[..., n] = 40 * np.arange(6)[:, None, None] + 20  # colour: the video; level: the frame
        write_video(tmp_path / relpath, frames)
        records.append(Record.of_video(relpath, tmp_path / relpath, 0, "Wave", f"g{n + 1:02d}"))
    ds = DatasetSplit("folder", 1, ["Wave"], tmp_path, train=records)
    settings = resolve_settings("smoke", frame_size=24, short_side=28, cache_short_side=32, num_frames=4,
                                batch_size=2)

    rgb = keras.Input((4, 24, 24, 3), name="rgb")
    pooled = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D())(rgb)
    backbone = keras.Model(rgb, keras.layers.Dense(5)(pooled))  # (B, 4, 5): one vector per frame
    cache = FeatureCache(tmp_path / "features", "toy", dim=5)

    report = extract_features(backbone, dataclasses.replace(ds, train=records[:2]), "train", settings, cache,
                              progress=False)
    assert report == {"computed": 2, "cached": 0, "skipped": []}
    pipe = build_pipeline(ds, "train", settings, training=False)
    for features, _ in pipe.dataset:  # what the backbone makes of the evaluation clip
        expected = backbone.predict_on_batch(features["rgb"])
        for i, sequence in zip(features["index"].numpy(), expected):
            if i < 2:
                np.testing.assert_allclose(cache.load(records[i]), sequence, rtol=1e-5, atol=1e-6)

    calls = []
    original = backbone.predict_on_batch
    backbone.predict_on_batch = lambda x: calls.append(len(x)) or original(x)
    assert extract_features(backbone, ds, "train", settings, cache, progress=False) == {
        "computed": 1, "cached": 2, "skipped": []}
    assert calls == [1] and cache.is_cached(records[2])
    assert extract_features(backbone, ds, "train", settings, cache, progress=False)["computed"] == 0
    assert calls == [1]  # the second call computed nothing

    with pytest.raises(CacheSettingsError):
        extract_features(backbone, ds, "train", settings, FeatureCache(tmp_path / "features", "toy", dim=5,
                                                                       info={"weights": "other"}), progress=False)


def test_a_feature_stack_reads_two_caches_side_by_side_through_the_pipeline(tmp_path):
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.feature_cache import FeatureCache, FeatureStack
    from hybridvid_lib.data.pipeline import build_pipeline
    from hybridvid_lib.data.records import DatasetSplit, Record

    records = [Record(f"Wave/v_Wave_g0{n}_c01.avi", n % 2, ["Wave", "Jump"][n % 2], f"g0{n}") for n in range(1, 4)]
    rgb, flow = FeatureCache(tmp_path, "rgb", dim=3), FeatureCache(tmp_path, "flow", dim=2)
    rng = np.random.default_rng(0)
    stored = {}
    for r in records:
        stored[r.relpath] = (rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
        rgb.save(r, stored[r.relpath][0])
        if r is not records[2]:  # the third video has no flow features: it is skipped, not padded
            flow.save(r, stored[r.relpath][1])
    stack = FeatureStack([rgb, flow])
    assert stack.dim == 5 and stack.dims == (3, 2) and stack.name == "rgb+flow"
    assert stack.is_cached(records[0]) and not stack.is_cached(records[2]) and stack.load(records[2]) is None
    ds = DatasetSplit("folder", 1, ["Wave", "Jump"], tmp_path, train=records)
    settings = resolve_settings("smoke", batch_size=4)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = build_pipeline(ds, "train", settings, inputs=("features",), feature_cache=stack, training=False)
        features, labels = next(iter(pipe.dataset))
    assert [s["video"] for s in pipe.skipped] == [records[2].relpath]
    for i, row in zip(features["index"].numpy(), features["features"].numpy()):
        a, b = stored[records[int(i)].relpath]
        np.testing.assert_allclose(row, np.concatenate([a, b], axis=1), rtol=1e-6)
    flow.save(records[2], np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"hold \[4, 3\] steps"):
        stack.load(records[2])
