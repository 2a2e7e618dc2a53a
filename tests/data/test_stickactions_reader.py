"""The StickActions reader, on a hand-written layout and on the generator's smoke set."""

import json

import numpy as np
import pytest

from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.skeletons import STICK_FIGURE, SkeletonGraph, mirror_joints
from hybridvid_lib.data.splits import check_no_group_leak
from hybridvid_lib.data.synth import get_preset
from hybridvid_lib.data.synth.generate import metadata
from hybridvid_lib.errors import DatasetError
from tests.support.mock_data import write_mock_stickactions


@pytest.fixture(scope="module")
def sticks(tmp_path_factory):
    return write_mock_stickactions(tmp_path_factory.mktemp("sticks") / "data")


@pytest.mark.parametrize("split", [1, 2, 3])
def test_reads_lists_pairs_and_metadata(sticks, split):
    ds = load_dataset("stickactions", sticks["root"], split=split)
    assert ds.format == "stickactions" and ds.classes == sticks["classes"]
    assert (len(ds.train), len(ds.test)) == (sticks["splits"][split]["train"], sticks["splits"][split]["test"])
    assert sorted({r.group for r in ds.test}) == sticks["splits"][split]["test_groups"]
    assert ds.missing == [] and ds.unreadable == [] and ds.notes == []
    assert ("SitDown", "StandUp") in ds.reverse_pairs and ds.mirror_pairs == [("PointLeft", "PointRight")]
    mirror = ds.mirror_label_map()
    assert mirror[ds.classes.index("PointLeft")] == ds.classes.index("PointRight")
    assert SkeletonGraph.from_dict(ds.metadata["skeleton"]) == STICK_FIGURE and ds.metadata["fps"] == 25
    check_no_group_leak(ds)


def test_every_record_has_its_skeleton(sticks):
    ds = load_dataset("stickactions", sticks["root"], check_videos=False)
    for r in ds.train + ds.test:
        assert r.skeleton_path == r.path.with_name(r.path.stem + ".skeleton.npy")
    joints = np.load(ds.train[0].skeleton_path)
    assert joints.dtype == np.float32 and joints.shape == (8, len(sticks["joints"]), 3)


def test_mock_metadata_has_every_field_the_generator_writes(sticks):
    written = json.loads((sticks["root"] / "stickactions.json").read_text())
    assert set(written) == set(metadata(get_preset("smoke"), seed=0, complete=True))


def test_mock_skeletons_have_a_mirror_map_that_swaps_left_and_right(sticks):
    ds = load_dataset("stickactions", sticks["root"], check_videos=False)
    graph = SkeletonGraph.from_dict(ds.metadata["skeleton"])
    perm = graph.mirror_permutation()
    swapped = {graph.joints[j]: graph.joints[k] for j, k in enumerate(perm) if j != k}
    sided = [name for name in graph.joints if name.startswith(("left_", "right_"))]
    assert sorted(swapped) == sorted(sided)  # every sided joint, and nothing else, changes label
    assert swapped["left_wrist"] == "right_wrist" and swapped["right_ankle"] == "left_ankle"
    # The figure faces the camera, so its left shoulder is on the image's right; after a flip that
    # relabels the joints it still is (without the relabelling it would be on the left).
    record = next(r for r in ds.train if r.relpath.startswith("Wave/"))
    joints = np.load(record.skeleton_path)
    left, right = graph.index("left_shoulder"), graph.index("right_shoulder")
    width = ds.metadata["frame_size"][1]
    for pose in (joints, mirror_joints(joints, graph, width=width)):
        assert np.all(pose[:, left, 0] > pose[:, right, 0])


def test_missing_skeleton_gives_none_and_a_note(tmp_path):
    write_mock_stickactions(tmp_path, classes=("Wave", "JumpingJack"))
    gone = tmp_path / "videos" / "Wave" / "v_Wave_g01_c01.skeleton.npy"
    gone.unlink()
    ds = load_dataset("stickactions", tmp_path, check_videos=False)
    record = next(r for r in ds.test if r.relpath == "Wave/v_Wave_g01_c01.avi")
    assert record.skeleton_path is None
    assert any("Videos without a .skeleton.npy file" in n and record.relpath in n for n in ds.notes)


def test_folder_without_metadata_points_to_synth(tmp_path):
    with pytest.raises(DatasetError, match=r"stickactions\.json is missing.*hybridvid data synth --out"):
        load_dataset("stickactions", tmp_path)


@pytest.mark.parametrize("complete", [False, None])
def test_incomplete_build_asks_to_rerun_synth(tmp_path, complete):
    write_mock_stickactions(tmp_path, classes=("Wave", "JumpingJack"), complete=bool(complete))
    if complete is None:  # an older writer that never set the flag
        meta = json.loads((tmp_path / "stickactions.json").read_text())
        del meta["complete"]
        (tmp_path / "stickactions.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=r"incomplete.*rerun `hybridvid data synth --out"):
        load_dataset("stickactions", tmp_path)


def test_metadata_and_lists_that_disagree_are_an_error(tmp_path):
    write_mock_stickactions(tmp_path, classes=("Wave", "JumpingJack"))
    meta = json.loads((tmp_path / "stickactions.json").read_text())
    meta["classes"] = ["Wave", "JumpingJack"]  # not the label order of classInd.txt
    (tmp_path / "stickactions.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="same classes in the same order"):
        load_dataset("stickactions", tmp_path)


def test_generated_smoke_set_reads_cleanly(stickactions_smoke):
    splits = [load_dataset("stickactions", stickactions_smoke, split=n) for n in (1, 2, 3)]
    ds = splits[0]
    assert ds.num_classes == 12 and ds.missing == [] and ds.unreadable == []
    assert ds.metadata["unlisted"] == []
    assert {tuple(sorted(p)) for p in ds.reverse_pairs} == {
        ("SitDown", "StandUp"), ("LowerArms", "RaiseArms"), ("GetUp", "LieDown"), ("ComeCloser", "MoveAway")}
    assert [tuple(p) for p in ds.mirror_pairs] in ([("PointLeft", "PointRight")], [("PointRight", "PointLeft")])
    for split in splits:
        check_no_group_leak(split)
        assert all(r.skeleton_path is not None and r.skeleton_path.is_file() for r in split.train + split.test)
    # The three test sides hold disjoint groups and together every video.
    tested = [{r.relpath for r in s.test} for s in splits]
    assert sum(map(len, tested)) == len(set.union(*tested)) == len(ds.train) + len(ds.test)
