"""``hybridvid data flow``: computes the flow cache of a dataset, resumes, and reports skipped videos."""

import json

import numpy as np
import pytest

from hybridvid_lib.cli import main

CLASSES = ("Jump", "Wave")
GROUPS = (1, 2, 3)


@pytest.fixture
def clips_root(tmp_path, make_video):
    """A ``folder``-format dataset: 2 classes x 3 groups of 8-frame 48x64 videos."""
    root = tmp_path / "clips"
    for k, name in enumerate(CLASSES):
        for g in GROUPS:
            make_video(root / name / f"v_{name}_g{g:02d}_c01.avi", num_frames=8, seed=10 * k + g)
    return root


def run_json(capsys, *argv):
    rc = main(["data", "flow", *argv, "--json"])
    captured = capsys.readouterr()
    return rc, json.loads(captured.out), captured.err


def test_flow_command_fills_the_default_cache_and_resumes(clips_root, capsys):
    args = ("--format", "folder", "--root", str(clips_root), "--size", "32")
    rc, report, _ = run_json(capsys, *args)
    assert rc == 0
    assert (report["computed"], report["cached"], report["failed"], report["skipped"]) == (6, 0, [], [])
    cache = clips_root.parent / "clips_flow" / "dis_32"
    assert report["cache_dir"] == str(clips_root.parent / "clips_flow")
    files = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*.flow.npy"))
    assert files == [f"{c}/v_{c}_g{g:02d}_c01.avi.flow.npy" for c in CLASSES for g in GROUPS]
    codes = np.load(cache / files[0])
    assert codes.dtype == np.uint8 and codes.shape == (7, 32, 43, 2)

    rc = main(["data", "flow", *args])
    out = capsys.readouterr().out
    assert rc == 0 and "0 computed, 6 already cached, 0 failed, 0 skipped" in out


def test_flow_command_skips_unreadable_videos_unless_strict(clips_root, tmp_path, capsys):
    (clips_root / "Wave" / "v_Wave_g04_c01.avi").write_text("not a video")
    args = ("--format", "folder", "--root", str(clips_root), "--size", "32",
            "--method", "farneback", "--cache", str(tmp_path / "elsewhere"))
    rc, report, err = run_json(capsys, *args)
    assert rc == 0 and report["computed"] == 6 and report["method"] == "farneback"
    assert report["skipped"] == [{"video": "Wave/v_Wave_g04_c01.avi", "reason": "unreadable"}]
    assert "warning: skipping Wave/v_Wave_g04_c01.avi" in err
    assert len(list((tmp_path / "elsewhere" / "farneback_32").rglob("*.flow.npy"))) == 6
    # The run's outputs record exactly which video was skipped and why.
    recorded = json.loads((tmp_path / "elsewhere" / "farneback_32" / "last_run.json").read_text())
    assert recorded["skipped"] == report["skipped"]

    rc = main(["data", "flow", *args, "--strict"])
    assert rc == 2
    assert "v_Wave_g04_c01.avi" in capsys.readouterr().err


def test_flow_command_on_stickactions(stickactions_smoke, tmp_path, capsys):
    root = stickactions_smoke
    rc, report, _ = run_json(capsys, "--format", "stickactions", "--root", str(root), "--size", "32",
                             "--cache", str(tmp_path / "flow"))
    assert rc == 0 and report["failed"] == [] and report["skipped"] == []
    meta = json.loads((root / "stickactions.json").read_text())
    assert report["computed"] == meta["num_videos"]
    assert len(list((tmp_path / "flow" / "dis_32").rglob("*.flow.npy"))) == meta["num_videos"]
