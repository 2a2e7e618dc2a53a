"""The plain-folder reader: classes from folders, group-aware splits made by the reader."""

import pytest

from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.splits import check_no_group_leak
from hybridvid_lib.errors import DatasetError
from tests.support.mock_data import write_mock_folder


@pytest.mark.parametrize("naming", ["ucf", "nested", "plain"])
def test_group_rules_and_quirks(tmp_path, naming):
    info = write_mock_folder(tmp_path, naming=naming)
    ds = load_dataset("folder", tmp_path)
    records = ds.train + ds.test
    assert ds.classes == info["classes"]
    assert {r.relpath: r.group for r in records} == info["groups"]
    assert all(r.label == ds.classes.index(r.relpath.split("/")[0]) for r in records)
    assert ds.unreadable == info["unreadable"] and ds.missing == [] and ds.unused == []
    assert any("stray.avi" in n and "no class folder" in n for n in ds.notes)
    fallback_noted = any("guessed from the file name" in n and "may be in both train and test" in n
                         for n in ds.notes)
    assert fallback_noted == (naming == "plain")
    check_no_group_leak(ds)


def test_three_splits_partition_the_groups(tmp_path):
    write_mock_folder(tmp_path, naming="nested", groups=5, quirks=False)
    tests = [{r.relpath for r in load_dataset("folder", tmp_path, split=n, check_videos=False).test}
             for n in (1, 2, 3)]
    everything = {r.relpath for r in load_dataset("folder", tmp_path, check_videos=False).train} | tests[0]
    assert all(tests) and set.union(*tests) == everything
    assert sum(len(t) for t in tests) == len(everything)  # each video is tested in exactly one split


def test_split_is_the_same_on_every_run(tmp_path):
    write_mock_folder(tmp_path, naming="plain", quirks=False)
    first = load_dataset("folder", tmp_path, check_videos=False)
    again = load_dataset("folder", tmp_path, check_videos=False)
    assert first.metadata["folds"] == again.metadata["folds"]
    assert [r.relpath for r in first.test] == [r.relpath for r in again.test]


def test_videos_override_and_capital_extensions(tmp_path):
    info = write_mock_folder(tmp_path / "mine" / "clips", naming="ucf")
    ds = load_dataset("folder", tmp_path / "mine", videos="clips", check_videos=False)
    assert any(r.relpath.endswith(".AVI") for r in ds.train + ds.test)
    assert len(ds.train + ds.test) == len(info["groups"])


def test_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("folder", tmp_path / "nope")
    write_mock_folder(tmp_path / "ok", naming="ucf", quirks=False)
    with pytest.raises(DatasetError, match="expected 1, 2 or 3"):
        load_dataset("folder", tmp_path / "ok", split=4)
    with pytest.raises(DatasetError, match="no split lists"):
        load_dataset("folder", tmp_path / "ok", splits=tmp_path)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.avi").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"No class folders with videos .*found 1 videos directly in it"):
        load_dataset("folder", tmp_path / "flat")
    write_mock_folder(tmp_path / "few", naming="nested", groups=3, quirks=False)
    for video in (tmp_path / "few").glob("*/actor3/*"):
        video.unlink()
    with pytest.raises(DatasetError, match=r"at least 3 groups; found 2 \(actor1, actor2\)"):
        load_dataset("folder", tmp_path / "few")
