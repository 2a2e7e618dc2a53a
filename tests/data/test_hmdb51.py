"""The HMDB51 reader against a mock HMDB51 with the official files' quirks and odd file names."""

import shutil

import pytest

from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.datasets.hmdb51 import film_of
from hybridvid_lib.data.mock_layouts import write_mock_hmdb51
from hybridvid_lib.data.splits import check_no_group_leak
from hybridvid_lib.errors import DatasetError


@pytest.fixture(scope="module")
def hmdb(tmp_path_factory):
    return write_mock_hmdb51(tmp_path_factory.mktemp("hmdb") / "data")


@pytest.mark.parametrize("split", [1, 2, 3])
def test_counts_subsets_and_bad_videos(hmdb, split):
    ds = load_dataset("hmdb51", hmdb["root"], split=split)
    expected = hmdb["splits"][split]
    assert (len(ds.train), len(ds.test), len(ds.unused)) == (
        expected["train"], expected["test"], expected["unused"])
    assert ds.classes == hmdb["classes"]
    assert sorted(ds.missing) == hmdb["missing"]
    assert sorted(ds.unreadable) == hmdb["unreadable"]
    check_no_group_leak(ds)


def test_subset_follows_the_id_of_each_line(hmdb):
    ds = load_dataset("hmdb51", hmdb["root"], split=2, check_videos=False)
    films = hmdb["films"]
    # In split 2 the mock tests films 1 and 4, leaves film 2 out, trains on the rest.
    assert {r.group for r in ds.test} == {films[1], films[4]}
    assert {r.group for r in ds.unused} == {films[2]}
    assert {r.group for r in ds.train} == {films[0], films[3], films[5]}


def test_odd_characters_in_names_are_kept_whole_and_groups_are_films(hmdb):
    ds = load_dataset("hmdb51", hmdb["root"], check_videos=False)
    records = ds.train + ds.test + ds.unused
    assert {r.relpath: r.group for r in records} == {
        rel: film for rel, film in hmdb["groups"].items()}
    odd = [r for r in records if any(c in r.relpath for c in "#&()'!")]
    assert {c for r in odd for c in r.relpath if c in "#&()'!"} == set("#&()'!")
    assert all(r.path.is_file() for r in odd if r.relpath not in ds.bad())


def test_nested_class_folder_is_found(hmdb):
    ds = load_dataset("hmdb51", hmdb["root"], check_videos=False)
    nested = hmdb["nested_class"]
    records = [r for r in ds.train + ds.test + ds.unused if r.class_name == nested]
    assert records and all(r.relpath.startswith(f"{nested}/{nested}/") for r in records)
    assert not any(r.relpath in ds.missing for r in records)


def test_duplicate_and_unlisted_are_noted(hmdb):
    ds = load_dataset("hmdb51", hmdb["root"], check_videos=False)
    relpaths = [r.relpath for r in ds.train + ds.test + ds.unused]
    assert relpaths.count(hmdb["splits"][1]["duplicate"]) == 1
    assert any("Duplicate split-file lines: 1" in n for n in ds.notes)
    assert ds.metadata["unlisted"] == hmdb["unlisted"]
    assert any(hmdb["unlisted"][0] in n for n in ds.notes)


def test_film_of_uses_the_last_class_token():
    assert film_of("Sit_Down_Please_sit_f_nm_np1_fr_goo_2", "sit") == "Sit_Down_Please"
    assert film_of("Glorious_Basterds_(2009)_sword_f_cm_np1_le_goo_3", "sword") == "Glorious_Basterds_(2009)"
    assert film_of("no_class_here_0", "sword") is None


def test_name_without_class_token_falls_back_with_a_note(tmp_path):
    info = write_mock_hmdb51(tmp_path, quirks=False)
    shutil.copy(next(info["video_dir"].glob("pick/*.avi")), info["video_dir"] / "pick" / "odd_clip_7.avi")
    with open(info["list_dir"] / "pick_test_split1.txt", "a") as fh:
        fh.write("odd_clip_7.avi 1\n")
    ds = load_dataset("hmdb51", tmp_path, check_videos=False)
    record = next(r for r in ds.train if r.relpath == "pick/odd_clip_7.avi")
    assert record.group == "odd_clip"
    assert any("without _<class>_" in n for n in ds.notes)


def test_unextracted_class_archive_is_explained(tmp_path):
    info = write_mock_hmdb51(tmp_path, quirks=False)
    shutil.rmtree(info["video_dir"] / "pick")
    (info["video_dir"] / "pick.rar").write_bytes(b"Rar!")
    ds = load_dataset("hmdb51", tmp_path, check_videos=False)
    assert len(ds.missing) == 6 and all(m.startswith("pick/") for m in ds.missing)
    assert any("pick.rar is not extracted" in n for n in ds.notes)


def test_split_2_through_overrides(tmp_path):
    info = write_mock_hmdb51(tmp_path / "a", quirks=False)
    ds = load_dataset("hmdb51", tmp_path, videos=info["video_dir"], splits="a/testTrainMulti_7030_splits",
                      split=2)
    assert (len(ds.train), len(ds.test), len(ds.unused)) == (9, 6, 3) and ds.missing == []


def test_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("hmdb51", tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"expected hmdb51_org/ and testTrainMulti_7030_splits/"):
        load_dataset("hmdb51", tmp_path)
    (tmp_path / "testTrainMulti_7030_splits.rar").write_bytes(b"Rar!")
    with pytest.raises(DatasetError, match=r"extract testTrainMulti_7030_splits\.rar first"):
        load_dataset("hmdb51", tmp_path)
    info = write_mock_hmdb51(tmp_path / "ok", quirks=False)
    with pytest.raises(DatasetError, match="Split 5 is not available"):
        load_dataset("hmdb51", tmp_path / "ok", split=5)
    (info["list_dir"] / "pick_test_split1.txt").write_text("clip_without_id.avi\n")
    with pytest.raises(DatasetError, match=r"pick_test_split1\.txt line 1 .*id 1 \(train\)"):
        load_dataset("hmdb51", tmp_path / "ok")
    for path in info["list_dir"].iterdir():
        path.unlink()
    with pytest.raises(DatasetError, match="holds no split files"):
        load_dataset("hmdb51", tmp_path / "ok")
