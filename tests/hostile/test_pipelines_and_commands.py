"""The hostile corpora through what reads videos: the tf.data pipelines, ``hybridvid train``, ``data flow``
and ``features extract``. Every valid video is read once, every bad one is reported, nothing outside
the root is opened, and nothing pickled is ever loaded."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.pipeline import SkippedVideosWarning, build_pipeline
from hybridvid_lib.data.synth.generate import skeleton_path
from hybridvid_lib.errors import DatasetError
from tests.hostile.corpus import build_stickactions, write_pickle_bomb_npy
from tests.hostile.support import assert_one_sentence

SMOKE = resolve_settings("smoke")


def read_all(pipe) -> list[int]:
    """Record indices of every element of one pass (each video once: evaluation, 1 clip)."""
    return [int(i) for features, _ in pipe.dataset for i in features["index"].numpy()]


@pytest.mark.parametrize("fmt", ("ucf101", "hmdb51"))
def test_rgb_pipeline_reads_every_valid_video_once(corpora, fmt, opened):
    corpus = corpora[fmt]
    ds = load_dataset(fmt, corpus.root)
    for subset in ("train", "test"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipe = build_pipeline(ds, subset, SMOKE, inputs=("rgb",), training=False)
        bad = {rel for rel in corpus.undecodable if rel in {r.relpath for r in ds.subset(subset)}}
        assert {s["video"] for s in pipe.skipped} == bad
        assert {s["reason"] for s in pipe.skipped} == {"unreadable"}
        assert any(issubclass(w.category, SkippedVideosWarning) for w in caught) == bool(bad)
        seen = sorted(pipe.records[i].relpath for i in read_all(pipe))
        assert seen == sorted(corpus.valid[subset])  # each valid video once: the duplicate line too
    assert opened.touched(corpus.outside) == []


def test_strict_pipeline_refuses_with_the_bad_names(corpora):
    corpus = corpora["ucf101"]
    ds = load_dataset("ucf101", corpus.root)
    with pytest.raises(DatasetError, match=r"5 of 12 listed train videos|cannot be used"):
        build_pipeline(ds, "train", SMOKE, inputs=("rgb",), training=False, strict=True)


def test_a_pickled_skeleton_file_is_refused_and_never_unpickled(tmp_path):
    corpus = build_stickactions(tmp_path)
    victim = sorted(corpus.valid["train"])[0]
    marker = tmp_path / "pickle_ran"
    write_pickle_bomb_npy(skeleton_path(corpus.root / "videos" / victim), marker)
    ds = load_dataset("stickactions", corpus.root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = build_pipeline(ds, "train", SMOKE, inputs=("joints",), training=False)
        seen = {pipe.records[i].relpath for i in read_all(pipe)}
    assert seen == corpus.valid["train"] - {victim}
    assert {"video": victim, "reason": "decode failed"} in [{k: s[k] for k in ("video", "reason")}
                                                            for s in pipe.skipped]
    assert not marker.exists()


def test_train_runs_on_a_hostile_dataset_and_reports_what_it_skipped(corpora, tmp_path, cli, opened):
    corpus = corpora["stickactions"]
    run = tmp_path / "run"
    code, out, err = cli("train", "--model", "single_frame_cnn", "--format", "stickactions", "--root", corpus.root,
                         "--profile", "smoke", "--epochs", "1", "--out", run)
    assert code == 0 and "Traceback" not in err, err
    skipped = json.loads((run / "skipped.json").read_text())
    reported = {item["video"] for items in skipped.values() for item in items}
    assert reported == set(corpus.undecodable)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["results"][0]["num_test_videos"] == len(corpus.valid["test"])
    assert opened.touched(corpus.outside) == []


@pytest.mark.parametrize("argv, words", [
    (("--model", "nope"), ("Unknown model 'nope'", "known models:", "cnn_lstm")),
    (("--model", "cnn_lstm", "--profile", "fast"), ("invalid choice: 'fast'", "'smoke', 'cpu', 'gpu'")),
    (("--model", "cnn_lstm", "--epochs", "ten"), ("--epochs", "invalid int value: 'ten'")),
    (("--model", "cnn_lstm", "--option", "lstm_units=ten"), ("--option lstm_units expects a value like", "'ten'")),
    (("--model", "single_frame_cnn", "--option", "filters=[8, x]"), ("--option filters expects", "[16, 32, 64]")),
    (("--model", "cnn_lstm", "--option", "dropout=true"), ("--option dropout expects",)),
])
def test_train_refuses_bad_names_and_values_in_one_sentence(corpora, tmp_path, cli, argv, words):
    code, _, err = cli("train", *argv, "--format", "stickactions", "--root", corpora["stickactions"].root,
                       "--out", tmp_path / "run")
    assert_one_sentence(code, err, *words)


def test_data_flow_computes_every_valid_video_and_skips_the_rest(corpora, tmp_path, cli, opened):
    corpus = corpora["ucf101"]
    code, out, err = cli("data", "flow", "--format", "ucf101", "--root", corpus.root, "--size", "32",
                         "--cache", tmp_path / "flow", "--json")
    # Every valid video has its flow, the one-frame video too (an empty flow: no frame pair, no motion).
    assert code == 0 and "Traceback" not in err, err
    report = json.loads(out)
    assert report["computed"] == corpus.num_valid and report["failed"] == []
    assert {s["video"] for s in report["skipped"]} == set(corpus.undecodable)
    assert opened.touched(corpus.outside) == []
    code, _, err = cli("data", "flow", "--format", "ucf101", "--root", corpus.root, "--size", "32",
                       "--cache", tmp_path / "flow", "--strict")
    assert_one_sentence(code, err, "missing or unreadable", "--strict")


def test_features_extract_skips_bad_videos_and_keeps_valid_ones(corpora, tmp_path, cli, opened):
    corpus = corpora["hmdb51"]
    code, out, err = cli("features", "extract", "--model", "i3d_rgb", "--format", "hmdb51", "--root", corpus.root,
                         "--profile", "smoke", "--out", tmp_path / "features", "--json")
    assert code == 0, err
    summary = json.loads(out)
    unused = {r.relpath for r in load_dataset("hmdb51", corpus.root, check_videos=False).unused}
    assert summary["computed"] == corpus.num_valid + len(unused)  # every subset, unused included
    assert {s["video"] for s in summary["skipped"]} == set(corpus.undecodable)
    assert opened.touched(corpus.outside) == []


def test_pickled_arrays_in_caches_are_refused_and_never_unpickled(tmp_path):
    from hybridvid_lib.data.array_cache import ArrayCache
    from hybridvid_lib.data.feature_cache import FeatureCache

    marker = tmp_path / "pickle_ran"
    # A cache that would accept any array: only the loader's allow_pickle=False stands in the way.
    lax = ArrayCache(tmp_path / "lax", suffix=".x.npy", info={}, check=lambda shape, dtype: None)
    features = FeatureCache(tmp_path / "features", "i3d_rgb", 4)
    for path, load in ((lax.path_for("a/b"), lambda: lax.load("a/b")),
                       (features.arrays.path_for("a/b"), lambda: features.arrays.load("a/b"))):
        write_pickle_bomb_npy(path, marker)
        assert load() is None and not path.exists()  # refused, deleted so it is recomputed
    assert not marker.exists()
