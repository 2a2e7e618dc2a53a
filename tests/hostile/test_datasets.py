"""Hostile files and list lines through ``load_dataset`` and ``hybridvid data inspect``, in every layout.

For each layout the corpus (:mod:`tests.hostile.corpus`) plants undecodable videos (empty, text,
truncated, zero frames, a 12000 x 12000 header), a one-frame video, a duplicate list line, list
entries with ``..`` and symbolic links that lead to a real video outside the root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.video import MAX_FRAME_PIXELS, probe_video, read_video
from hybridvid_lib.errors import DatasetError, HybridVidError, VideoDecodeError
from tests.hostile.corpus import HUGE_SIDE, add_contradiction, build_hmdb51, build_stickactions, build_ucf101
from tests.hostile.support import assert_one_sentence

FORMATS = ("ucf101", "hmdb51", "folder", "stickactions")


def usable(ds) -> set[str]:
    return {r.relpath for subset in ("train", "test") for r in ds.usable(subset)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_bad_video_is_reported_and_every_valid_one_kept(corpora, fmt, opened):
    corpus = corpora[fmt]
    ds = load_dataset(fmt, corpus.root)
    assert sorted(ds.unreadable) == sorted(corpus.undecodable)
    assert ds.missing == []
    valid = set().union(*corpus.valid.values())
    assert usable(ds) == valid and len(valid) == corpus.num_valid  # no valid video dropped, none added
    assert corpus.one_frame in usable(ds)
    for subset, relpaths in corpus.valid.items():
        if subset != "all":
            assert {r.relpath for r in ds.usable(subset)} == relpaths
    # Entries that lead out of the root: refused, in no subset, and never opened.
    assert set(ds.refused) == corpus.refused
    listed = {r.relpath for subset in ("train", "test", "unused") for r in ds.subset(subset)}
    assert not listed & corpus.refused
    assert opened.touched(corpus.outside) == []
    assert any("never opened" in note for note in ds.notes)


@pytest.mark.parametrize("fmt", ("ucf101", "hmdb51", "stickactions"))
def test_a_duplicate_line_counts_once(corpora, fmt):
    corpus = corpora[fmt]
    ds = load_dataset(fmt, corpus.root, check_videos=False)
    everything = [r.relpath for subset in ("train", "test", "unused") for r in ds.subset(subset)]
    assert everything.count(corpus.duplicate) == 1
    assert any(note.startswith("Duplicate") and corpus.duplicate in note for note in ds.notes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_inspect_lists_unreadable_and_refused(corpora, fmt, cli, opened):
    corpus = corpora[fmt]
    code, out, err = cli("data", "inspect", "--format", fmt, "--root", corpus.root, "--json")
    assert code == 0 and "Traceback" not in err
    summary = json.loads(out)
    assert summary["unreadable"] == sorted(corpus.undecodable)
    assert summary["refused"] == sorted(corpus.refused)
    code, out, _ = cli("data", "inspect", "--format", fmt, "--root", corpus.root)
    assert code == 0 and f"refused: {len(corpus.refused)}:" in out and f"unreadable: {len(corpus.undecodable)}:" in out
    assert opened.touched(corpus.outside) == []


def test_each_undecodable_kind_says_why(corpora):
    corpus = corpora["ucf101"]
    video_dir = corpus.root / "UCF-101"
    reasons = {kind: probe_video(video_dir / rel).reason for rel, kind in corpus.undecodable.items()}
    assert "empty, damaged, or not a video format" in reasons["empty"]
    assert "empty, damaged, or not a video format" in reasons["text"]
    assert "No frame" in reasons["truncated"] and "No frame" in reasons["zero_frames"]
    # The bomb is refused from its header, with the documented limit, before a frame is decoded.
    assert f"{HUGE_SIDE}x{HUGE_SIDE} pixels" in reasons["huge_frames"] and "7680x4320" in reasons["huge_frames"]
    assert HUGE_SIDE * HUGE_SIDE > MAX_FRAME_PIXELS
    huge = next(rel for rel, kind in corpus.undecodable.items() if kind == "huge_frames")
    with pytest.raises(VideoDecodeError, match="more than the kit decodes"):
        read_video(video_dir / huge, short_side=32)
    one = read_video(video_dir / corpus.one_frame)
    assert one.shape == (1, 32, 32, 3)


@pytest.mark.parametrize("build, fmt", [(build_ucf101, "ucf101"), (build_hmdb51, "hmdb51"),
                                        (build_stickactions, "stickactions")])
def test_a_video_on_both_sides_is_refused_by_name(tmp_path, build, fmt, cli):
    # The same video in train and test would be tested on what it was trained on: a leak, refused.
    corpus = build(tmp_path)
    video = add_contradiction(corpus)
    with pytest.raises(DatasetError) as caught:
        load_dataset(fmt, corpus.root, check_videos=False)
    assert video in str(caught.value) and "expected" in str(caught.value)
    code, _, err = cli("data", "inspect", "--format", fmt, "--root", corpus.root)
    assert_one_sentence(code, err, video)
    code, _, err = cli("train", "--model", "single_frame_cnn", "--format", fmt, "--root", corpus.root,
                       "--profile", "smoke", "--out", tmp_path / "run")
    assert_one_sentence(code, err, video)
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_an_unreadable_list_file_is_one_sentence(corpora, monkeypatch, cli):
    # Tests run as root, where chmod 000 does not stop a read: the refusal is simulated at the read.
    corpus = corpora["ucf101"]
    locked = corpus.lists["train"].resolve()
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self.resolve() == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DatasetError, match=r"Cannot read the list file .*trainlist01\.txt \(Permission denied\)"):
        load_dataset("ucf101", corpus.root)
    code, _, err = cli("data", "inspect", "--format", "ucf101", "--root", corpus.root)
    assert_one_sentence(code, err, "trainlist01.txt", "Permission denied")


def test_an_unreadable_video_is_reported_with_the_others(corpora, monkeypatch):
    # Simulated (see above): the kit asks os.access before handing the file to OpenCV.
    corpus = corpora["hmdb51"]
    locked_rel = sorted(corpus.valid["train"])[0]
    locked = str(corpus.root / "hmdb51_org" / locked_rel)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == locked
                        else real_access(p, mode, **kw))
    assert "permission denied" in probe_video(locked).reason
    ds = load_dataset("hmdb51", corpus.root)
    assert sorted(ds.unreadable) == sorted([*corpus.undecodable, locked_rel])
    assert usable(ds) == set().union(*corpus.valid.values()) - {locked_rel}


@pytest.mark.skipif(os.geteuid() == 0, reason="runs as root, where chmod 000 does not stop reading a file; "
                                               "the simulated tests above cover it")
def test_a_chmod_000_video_is_unreadable(tmp_path, make_video):
    path = make_video(tmp_path / "locked.avi")
    path.chmod(0)
    try:
        info = probe_video(path)
    finally:
        path.chmod(0o644)
    assert not info.readable and "permission denied" in info.reason


@pytest.mark.parametrize("fmt", ("nope", "UCF-101"))
def test_an_unknown_format_lists_the_known_ones(fmt, tmp_path, cli):
    with pytest.raises(DatasetError, match="known formats: stickactions, ucf101, hmdb51, folder, ntu"):
        load_dataset(fmt, tmp_path)
    code, _, err = cli("data", "inspect", "--format", fmt, "--root", tmp_path)
    assert_one_sentence(code, err, f"invalid choice: '{fmt}'", "'ucf101'", "--help")


def test_every_refusal_is_a_kit_error():
    assert issubclass(DatasetError, HybridVidError) and issubclass(VideoDecodeError, HybridVidError)


def test_the_recorder_sees_a_video_opened_in_a_worker_thread(corpora, opened):
    # The "never opened" assertions above mean something only if opening is seen, threads included.
    from hybridvid_lib.data.datasets.common import find_unreadable

    outside = corpora["ucf101"].outside[0]
    assert find_unreadable({"x": outside}) == []
    assert opened.touched([outside]) != []


def test_a_folder_that_cannot_be_listed_is_named(corpora, monkeypatch, cli):
    # Simulated (tests run as root): os.walk gets a PermissionError for one class folder, then for the root.
    corpus = corpora["ucf101"]
    video_root = (corpus.root / "UCF-101").resolve()
    locked = {video_root / "PlayingDhol"}
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).resolve() in locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    ds = load_dataset("ucf101", corpus.root, check_videos=False)
    assert any("could not be read: 1 (PlayingDhol)" in note for note in ds.notes)
    assert all(rel.startswith("PlayingDhol/") for rel in ds.missing) and ds.missing
    locked.add(video_root)
    with pytest.raises(DatasetError, match=r"Cannot list the video folder .*UCF-101 \(Permission denied\)"):
        load_dataset("ucf101", corpus.root)
    code, _, err = cli("data", "inspect", "--format", "ucf101", "--root", corpus.root)
    assert_one_sentence(code, err, "Cannot list the video folder", "Permission denied")
