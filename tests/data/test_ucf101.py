"""The UCF101 reader against a mock UCF101 that carries every known quirk of the official files."""

import shutil

import pytest

from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.datasets.common import read_list_file
from hybridvid_lib.data.mock_layouts import write_mock_ucf101
from hybridvid_lib.data.splits import check_no_group_leak
from hybridvid_lib.errors import DatasetError


@pytest.fixture(scope="module")
def ucf(tmp_path_factory):
    return write_mock_ucf101(tmp_path_factory.mktemp("ucf") / "data")


@pytest.mark.parametrize("split", [1, 2, 3])
def test_counts_and_bad_videos_match_what_was_planted(ucf, split):
    ds = load_dataset("ucf101", ucf["root"], split=split)
    expected = ucf["splits"][split]
    assert (len(ds.train), len(ds.test), len(ds.unused)) == (expected["train"], expected["test"], 0)
    assert sorted(ds.missing) == ucf["missing"]
    assert sorted(ds.unreadable) == ucf["unreadable"]
    assert sorted({r.group for r in ds.test}) == expected["test_groups"]
    check_no_group_leak(ds)
    # Bad videos are still listed (counts match the official lists) but not usable.
    listed = {r.relpath for r in ds.train + ds.test}
    assert set(ucf["missing"]) | set(ucf["unreadable"]) <= listed
    assert not ({r.relpath for r in ds.usable("train") + ds.usable("test")} & ds.bad())


def test_misspelled_class_is_matched_ignoring_case_and_noted(ucf):
    ds = load_dataset("ucf101", ucf["root"], check_videos=False)
    official = ucf["misspelled_class"]["classInd"]
    assert ds.classes == ucf["classes"] and official in ds.classes
    label = ds.classes.index(official)
    folder = ucf["misspelled_class"]["folders"]
    records = [r for r in ds.train + ds.test if r.relpath.startswith(folder + "/")]
    assert records and all(r.label == label and r.class_name == official for r in records)
    assert any(official in note and folder in note and "ignoring capitals" in note for note in ds.notes)


def test_list_file_quirks_are_absorbed(ucf):
    ds = load_dataset("ucf101", ucf["root"], check_videos=False)
    expected = ucf["splits"][1]
    relpaths = [r.relpath for r in ds.train + ds.test]
    # A duplicate line counts once, with a note.
    assert relpaths.count(expected["duplicate"]) == 1
    assert any("Duplicate list lines: 1" in n and expected["duplicate"] in n for n in ds.notes)
    # The backslash path is found on disk under its POSIX relpath.
    assert expected["backslash"] in {r.relpath for r in ds.test}
    assert expected["backslash"] not in ds.missing
    # No relpath keeps whitespace, a BOM or a backslash.
    assert all(r == r.strip() and "\\" not in r and "\ufeff" not in r for r in relpaths)


def test_trainlist_label_disagreeing_with_classind_yields_to_the_folder(ucf):
    ds = load_dataset("ucf101", ucf["root"], check_videos=False)
    relpath = ucf["splits"][1]["label_mismatch"]
    record = next(r for r in ds.train if r.relpath == relpath)
    assert record.class_name == relpath.split("/")[0] and record.label == ds.classes.index(record.class_name)
    assert any("disagree" in n and relpath in n for n in ds.notes)


def test_video_in_no_list_is_noted_not_ignored(ucf):
    ds = load_dataset("ucf101", ucf["root"], check_videos=False)
    assert ds.metadata["unlisted"] == ucf["unlisted"]
    assert any(ucf["unlisted"][0] in n and "no list" in n for n in ds.notes)


def test_clean_layout_has_no_notes_and_unlisted_is_empty(tmp_path):
    info = write_mock_ucf101(tmp_path, quirks=False, groups=3, clips=1)
    ds = load_dataset("ucf101", tmp_path)
    assert ds.notes == [] and ds.missing == [] and ds.unreadable == []
    assert ds.classes == list(info["classes"])
    assert [r.label for r in ds.train] == [ds.classes.index(r.relpath.split("/")[0]) for r in ds.train]


def test_read_list_file_strips_bom_crlf_tabs_and_blank_lines(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbfA/x (1)&'!#.avi 3 \t\r\n\r\n   \r\nB\\y.avi\t\r\n")
    assert [(line.lineno, line.text) for line in read_list_file(path)] == [
        (1, "A/x (1)&'!#.avi 3"), (4, "B\\y.avi")]


def test_check_videos_false_skips_decoding_but_still_finds_missing(ucf):
    ds = load_dataset("ucf101", ucf["root"], check_videos=False)
    assert ds.unreadable == [] and sorted(ds.missing) == ucf["missing"]


def test_progress_bar_goes_to_stderr(ucf, capsys):
    load_dataset("ucf101", ucf["root"], progress=True)
    assert "checking videos" in capsys.readouterr().err


def test_path_with_other_capitals_on_disk_is_found_and_noted(tmp_path):
    info = write_mock_ucf101(tmp_path, quirks=False, groups=3, clips=1)
    listed = "PlayingDhol/v_PlayingDhol_g01_c01.avi"
    (info["video_dir"] / listed).rename(info["video_dir"] / "PlayingDhol/v_PlayingDHOL_g01_c01.avi")
    ds = load_dataset("ucf101", tmp_path, check_videos=False)
    assert ds.missing == []
    assert "PlayingDhol/v_PlayingDHOL_g01_c01.avi" in {r.relpath for r in ds.test}
    assert any("ignoring capitals" in n and listed in n for n in ds.notes)


@pytest.mark.parametrize("absolute", [True, False])
def test_videos_and_splits_overrides(tmp_path, absolute):
    info = write_mock_ucf101(tmp_path / "src", quirks=False, groups=3, clips=1)
    root = tmp_path / "elsewhere"
    shutil.move(info["video_dir"], root / "clips")
    shutil.move(info["list_dir"], root / "lists")
    if absolute:
        videos, splits = root / "clips", root / "lists"
    else:
        videos, splits = "clips", "lists"
    ds = load_dataset("ucf101", root, videos=videos, splits=splits, split=2)
    assert ds.video_root == (root / "clips").resolve()
    assert len(ds.train) + len(ds.test) == 9 and ds.missing == []


def test_missing_root_and_missing_layout_give_one_clear_sentence(tmp_path):
    with pytest.raises(DatasetError, match=r"^Dataset root .*nope does not exist\.$"):
        load_dataset("ucf101", tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"expected UCF-101/ and ucfTrainTestlist/ .*--videos and --splits"):
        load_dataset("ucf101", tmp_path)
    with pytest.raises(DatasetError, match="given with --videos does not exist"):
        load_dataset("ucf101", tmp_path, videos=tmp_path / "absent")


def test_unavailable_split_and_bad_class_index_are_errors(tmp_path):
    info = write_mock_ucf101(tmp_path, quirks=False, groups=3, clips=1)
    with pytest.raises(DatasetError, match=r"Split 4 is not available .*split 1, 2, 3"):
        load_dataset("ucf101", tmp_path, split=4)
    with pytest.raises(DatasetError, match="Split numbers start at 1"):
        load_dataset("ucf101", tmp_path, split=0)
    class_ind = info["list_dir"] / "classInd.txt"
    class_ind.write_bytes(b"\r\n  \r\n")
    with pytest.raises(DatasetError, match="lists no classes"):
        load_dataset("ucf101", tmp_path)
    class_ind.write_text("1 ApplyEyeMakeup\n3 PlayingDhol\n")
    with pytest.raises(DatasetError, match="expected 1 to 2, each once"):
        load_dataset("ucf101", tmp_path)


def test_list_naming_an_unknown_class_is_an_error(tmp_path):
    info = write_mock_ucf101(tmp_path, quirks=False, groups=3, clips=1)
    with open(info["list_dir"] / "testlist01.txt", "a") as fh:
        fh.write("Juggling/v_Juggling_g01_c01.avi\n")
    with pytest.raises(DatasetError, match=r"testlist01\.txt line \d+ .*'Juggling'.*does not name"):
        load_dataset("ucf101", tmp_path)


def test_video_listed_in_train_and_test_is_refused_by_name(tmp_path):
    # Kept in both, it would be tested on what it was trained on: the reader refuses the split.
    info = write_mock_ucf101(tmp_path, quirks=False, groups=3, clips=1)
    test_video = "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"
    with open(info["list_dir"] / "trainlist01.txt", "a") as fh:
        fh.write(f"{test_video} 1\n")
    with pytest.raises(DatasetError, match=r"trainlist01\.txt and testlist01\.txt both list 1 video\(s\) "
                                           r"\(ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01\.avi\)"):
        load_dataset("ucf101", tmp_path, check_videos=False)
