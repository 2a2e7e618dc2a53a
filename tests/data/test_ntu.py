"""The NTU RGB+D reader: protocols, classes, groups, broken and stray files, and the joint layout it declares."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from hybridvid_lib.data.datasets import KNOWN_FORMATS, load_dataset
from hybridvid_lib.data.datasets.ntu import (
    ACTIONS, NTU60_TRAIN_SUBJECTS, XSUB_TRAIN_SUBJECTS, parse_sample_name, read_ntu,
)
from hybridvid_lib.data.ntu_skeleton import parse_ntu_skeleton
from hybridvid_lib.data.pipeline.sources import joint_layout
from hybridvid_lib.data.skeletons import NTU_RGBD
from hybridvid_lib.errors import DatasetError
from tests.support.mock_data import write_mock_ntu

# Worked out by hand from the names in NTU_MOCK_SAMPLES and NTU_MOCK_BROKEN (setup, camera, performer):
#   S1 C1 P1, S1 C2 P1, S2 C3 P3, S2 C1 P3, S3 C2 P2, S4 C3 P4 | broken: S1 C3 P5, S2 C2 P6, S3 C1 P7
# xsub: P1, P2, P4, P5 train (published list), P3, P6, P7 test; xview: C2, C3 train, C1 test;
# xset: even setups train.
EXPECTED = {"xsub": (5, 4), "xview": (6, 3), "xset": (4, 5)}


@pytest.fixture(scope="module")
def ntu(tmp_path_factory):
    return write_mock_ntu(tmp_path_factory.mktemp("ntu"))


@pytest.mark.parametrize("protocol", ["xsub", "xview", "xset"])
def test_each_protocol_puts_every_well_named_file_on_the_side_its_name_says(ntu, protocol):
    ds = load_dataset("ntu", ntu["root"], protocol=protocol)
    assert ds.format == "ntu" and ds.split == 1 and ds.metadata["protocol"] == protocol
    assert (len(ds.train), len(ds.test)) == EXPECTED[protocol] and ds.unused == [] and ds.val == []
    listed = sorted(r.relpath for name in ("train", "test", "unused") for r in ds.subset(name))
    assert listed == ntu["names"]  # nothing dropped, nothing twice, stray files not among them
    assert ds.missing == [] and ds.unreadable == ntu["unreadable"]
    usable = {r.relpath for r in ds.usable("train") + ds.usable("test")}
    assert usable == set(ntu["names"]) - set(ntu["unreadable"])


def test_rules_of_the_protocols_by_the_ids_in_the_names(ntu):
    sides = {p: load_dataset("ntu", ntu["root"], protocol=p, check_videos=False) for p in ("xsub", "xview", "xset")}
    for protocol, ds in sides.items():
        for side in ("train", "test"):
            for record in ds.subset(side):
                setup, camera, performer, _, _ = ntu["ids"][record.relpath]
                expected = {"xsub": performer in (1, 2, 4, 5), "xview": camera in (2, 3),
                            "xset": setup % 2 == 0}[protocol]
                assert (side == "train") == expected, (protocol, record.relpath)
    xsub = sides["xsub"]
    assert not {r.group for r in xsub.train} & {r.group for r in xsub.test}  # a subject on one side only


def test_records_are_skeleton_only_with_label_class_and_performer_group(ntu):
    ds = read_ntu(ntu["root"], check_videos=False)
    record = next(r for r in ds.test if r.relpath == "S002C001P003R002A050.skeleton")
    assert record.label == 49 and record.class_name == "punching/slapping other person"
    assert record.group == "P003" and set(record.files) == {"skeleton"} and record.path is None
    assert record.skeleton_path.samefile(ntu["skeleton_dir"] / record.relpath)
    for r in ds.train + ds.test:
        action = int(r.relpath[17:20])
        assert r.label == action - 1 and ds.classes[r.label] == r.class_name == ACTIONS[action - 1]
        assert r.group == r.relpath[8:12]
    assert ds.num_classes == 60 and ds.classes[0] == "drink water" and ds.classes[-1] == "walking apart from each other"
    assert ds.metadata["dataset"] == "NTU RGB+D" and ds.mirror_pairs == [] and ds.reverse_pairs == []


def test_broken_files_are_unreadable_with_a_reason_and_not_checking_leaves_the_list_empty(ntu):
    ds = load_dataset("ntu", ntu["root"])
    assert ds.unreadable == ["S001C003P005R001A001.skeleton", "S002C002P006R001A002.skeleton",
                             "S003C001P007R001A003.skeleton"]
    (note,) = [n for n in ds.notes if n.startswith("Skeleton files that cannot be used: 3")]
    assert "ends early" in note and "is empty" in note and "no body in any of its 5 frames" in note
    unchecked = load_dataset("ntu", ntu["root"], check_videos=False)
    assert unchecked.unreadable == [] and any("not parsed" in n for n in unchecked.notes)
    assert len(unchecked.train) + len(unchecked.test) == len(ntu["names"])


def test_crlf_files_with_a_frame_without_bodies_and_two_actors_parse(ntu):
    first = parse_ntu_skeleton(ntu["skeleton_dir"] / "S001C001P001R001A001.skeleton")
    assert (ntu["skeleton_dir"] / "S001C001P001R001A001.skeleton").read_bytes().count(b"\r\n") > 25
    assert first.joints.shape == (6, 25, 3, 2) and np.all(first.joints[1] == 0) and np.any(first.joints[0] != 0)
    two = parse_ntu_skeleton(ntu["skeleton_dir"] / "S002C001P003R002A050.skeleton")
    assert len(two.body_ids) == 2 and np.all(np.any(two.joints[..., 1] != 0, axis=(1, 2)))


def test_stray_files_malformed_names_and_subfolders_are_reported_not_listed(ntu):
    ds = load_dataset("ntu", ntu["root"], check_videos=False)
    assert ds.metadata["stray"] == ntu["stray"] and ds.metadata["malformed"] == ntu["malformed"]
    notes = "\n".join(ds.notes)
    assert "Other files in nturgb+d_skeletons/: 2 (.DS_Store, readme.txt)" in notes
    assert "whose name is not SsssCcccPpppRrrrAaaa.skeleton" in notes and "A121.skeleton" in notes
    assert "(1).skeleton" in notes and "old/ holding 1 .skeleton file is not read" in notes
    listed = {r.relpath for r in ds.train + ds.test + ds.unused}
    assert not listed & set(ntu["stray"] + ntu["malformed"])
    valid_on_disk = [p.name for p in ntu["skeleton_dir"].iterdir()
                     if p.is_file() and parse_sample_name(p.name) is not None]
    assert sorted(valid_on_disk) == sorted(listed)  # train + test + unused = every well-named file


def test_actions_above_60_make_the_120_class_set(tmp_path):
    info = write_mock_ntu(tmp_path, samples=[(1, 1, 1, 1, 1, 4, 1), (18, 2, 45, 1, 120, 4, 1),
                                             (19, 1, 48, 2, 61, 4, 1), (20, 3, 103, 1, 60, 4, 2)], quirks=False)
    ds = load_dataset("ntu", tmp_path, protocol="xsub")
    assert ds.num_classes == 120 and ds.classes == list(ACTIONS) and ds.metadata["dataset"] == "NTU RGB+D 120"
    by_name = {r.relpath: r for r in ds.train + ds.test}
    assert by_name["S018C002P045R001A120.skeleton"].class_name == "finger-guessing game (playing rock-paper-scissors)"
    assert by_name["S019C001P048R002A061.skeleton"].label == 60
    assert {r.group for r in ds.train} == {"P001", "P045", "P103"} and {r.group for r in ds.test} == {"P048"}
    assert ds.unreadable == [] and sorted(by_name) == info["names"]
    xview = load_dataset("ntu", tmp_path, protocol="XVIEW")  # allowed on NTU 120, with a note
    assert (len(xview.train), len(xview.test)) == (2, 2) and any("not comparable" in n for n in xview.notes)
    xset = load_dataset("ntu", tmp_path, protocol="xset")
    assert {r.relpath[:4] for r in xset.train} == {"S018", "S020"}
    assert not any("no published result" in n for n in xset.notes)


def test_xset_on_ntu60_is_allowed_with_a_note(ntu):
    ds = load_dataset("ntu", ntu["root"], protocol="xset", check_videos=False)
    assert ds.num_classes == 60 and any("no published result" in n for n in ds.notes)


def test_published_subject_lists():
    # NTU RGB+D 120 (Liu et al. 2020): 53 training subjects of 106, NTU RGB+D's 20 (of 40) among them.
    assert len(NTU60_TRAIN_SUBJECTS) == 20 and len(XSUB_TRAIN_SUBJECTS) == 53
    assert [s for s in XSUB_TRAIN_SUBJECTS if s <= 40] == list(NTU60_TRAIN_SUBJECTS)
    assert len(set(XSUB_TRAIN_SUBJECTS)) == 53 and max(XSUB_TRAIN_SUBJECTS) == 103
    assert len(ACTIONS) == 120 and len(set(ACTIONS)) == 120 and ACTIONS[59] == "walking apart from each other"
    assert all(a == a.strip() and not a.endswith(".") and "\u2019" not in a for a in ACTIONS)


@pytest.mark.parametrize("name, ok", [
    ("S001C002P003R002A013.skeleton", True),
    ("S032C003P106R002A120.skeleton", True),
    ("S001C002P003R002A121.skeleton", False),
    ("S001C002P003R002A000.skeleton", False),
    ("S000C002P003R002A013.skeleton", False),
    ("s001c002p003r002a013.skeleton", False),
    ("S001C002P003R002A013.skeleton.bak", False),
    ("S001C002P003R002A13.skeleton", False),
])
def test_sample_names(name, ok):
    ids = parse_sample_name(name)
    assert (ids is not None) == ok
    if ok and name.startswith("S001"):
        assert (ids.setup, ids.camera, ids.performer, ids.replication, ids.action) == (1, 2, 3, 2, 13)
        assert ids.group == "P003" and ids.label == 12


def test_joint_layout_matches_the_ntu_graph(ntu):
    ds = load_dataset("ntu", ntu["root"], check_videos=False)
    layout = joint_layout(ds)
    assert (layout.num_joints, layout.coords, layout.confidence, layout.persons) == (25, 3, None, 2)
    assert layout.center == NTU_RGBD.center == NTU_RGBD.index("spine_middle") == 1
    assert layout.scale == 1.0 and layout.default_origin == (0.0, 0.0, 0.0)
    assert layout.mirror == tuple(NTU_RGBD.mirror_permutation().tolist())
    assert ds.metadata["skeleton"] == NTU_RGBD.to_dict()


def test_skeletons_folder_override_absolute_or_relative(tmp_path, ntu):
    root = tmp_path / "root"
    shutil.copytree(ntu["skeleton_dir"], root / "data" / "skel")
    relative = load_dataset("ntu", root, skeletons="data/skel", check_videos=False)
    absolute = load_dataset("ntu", tmp_path, skeletons=root / "data" / "skel", check_videos=False)
    assert relative.video_root == absolute.video_root == (root / "data" / "skel").resolve()
    assert len(relative.train) == len(absolute.train) == EXPECTED["xsub"][0]
    with pytest.raises(DatasetError, match="given with --skeletons does not exist"):
        load_dataset("ntu", root, skeletons="nope")


def test_layouts_without_samples_say_what_was_expected(tmp_path, ntu):
    with pytest.raises(DatasetError, match=r"expected nturgb\+d_skeletons/ there, or pass --skeletons DIR"):
        read_ntu(tmp_path)
    (tmp_path / "nturgbd_skeletons_s001_to_s017.zip").write_bytes(b"PK")
    with pytest.raises(DatasetError, match="extract nturgbd_skeletons_s001_to_s017.zip first"):
        read_ntu(tmp_path)
    flat = tmp_path / "flat"
    shutil.copytree(ntu["skeleton_dir"], flat)
    with pytest.raises(DatasetError, match="itself holds .skeleton files: pass --skeletons ."):
        read_ntu(flat)
    assert len(read_ntu(flat, skeletons=".", check_videos=False).train) == EXPECTED["xsub"][0]
    odd = tmp_path / "odd" / "nturgb+d_skeletons"
    odd.mkdir(parents=True)
    (odd / "S1C1P1R1A1.skeleton").write_text("1\n0\n")
    with pytest.raises(DatasetError, match=r"holds no NTU RGB\+D skeleton file .*other names \(S1C1P1R1A1"):
        read_ntu(tmp_path / "odd")


def test_options_of_other_formats_are_refused_in_both_directions(tmp_path, ntu):
    assert "ntu" in KNOWN_FORMATS
    with pytest.raises(DatasetError, match="Unknown NTU RGB\\+D protocol 'xsetup'; known protocols: xsub"):
        load_dataset("ntu", ntu["root"], protocol="xsetup")
    with pytest.raises(DatasetError, match=re.escape("choose a protocol instead: --protocol xsub | xview | xset.")):
        load_dataset("ntu", ntu["root"], split=2)
    with pytest.raises(DatasetError, match="no video or split-list folder"):
        load_dataset("ntu", ntu["root"], videos=tmp_path)
    with pytest.raises(DatasetError, match="The ucf101 format has no protocols"):
        load_dataset("ucf101", tmp_path, protocol="xsub")
    with pytest.raises(DatasetError, match="The folder format takes no skeleton folder"):
        load_dataset("folder", tmp_path, skeletons=tmp_path)


def test_a_group_aware_validation_split_keeps_subjects_whole(ntu):
    ds = load_dataset("ntu", ntu["root"], check_videos=False).with_validation(0.5, seed=0)
    train, val, test = ({r.group for r in ds.subset(s)} for s in ("train", "val", "test"))
    assert val and not (train & val or train & test or val & test)
