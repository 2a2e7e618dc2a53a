"""A process killed while it fills a pipeline's file cache leaves nothing a later run trusts, nor a lock that stops it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.pipeline import build_pipeline

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = resolve_settings("smoke")


def batches(pipe):
    return [(f["rgb"].numpy(), f["index"].numpy(), y.numpy()) for f, y in pipe.dataset]


def test_a_cache_filled_by_a_killed_process_is_rebuilt_and_the_next_run_reads_every_video(stickactions_smoke,
                                                                                          tmp_path):
    folder = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import os
        from hybridvid_lib.config import resolve_settings
        from hybridvid_lib.data.datasets import load_dataset
        from hybridvid_lib.data.pipeline import build_pipeline
        ds = load_dataset("stickactions", {str(stickactions_smoke)!r})
        pipe = build_pipeline(ds, "test", resolve_settings("smoke"), training=False, cache={str(folder)!r})
        iterator = iter(pipe.dataset)
        next(iterator), next(iterator)      # a part of the first epoch: the cache is being written
        os.kill(os.getpid(), 9)             # killed, as by kill -9 or a power cut
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    left = sorted(p.name for p in folder.iterdir())
    assert any(name.endswith(".lockfile") for name in left)  # what TensorFlow left behind: it would block the next run
    assert not any(name.endswith(".index") for name in left)  # and no finished cache to trust

    ds = load_dataset("stickactions", stickactions_smoke)
    again = batches(build_pipeline(ds, "test", SETTINGS, training=False, cache=folder))
    expected = batches(build_pipeline(ds, "test", SETTINGS, training=False))  # in memory, from the videos
    assert len(again) == len(expected)
    for (a, ia, ya), (b, ib, yb) in zip(again, expected):
        np.testing.assert_array_equal(a, b)
        assert ia.tolist() == ib.tolist() and ya.tolist() == yb.tolist()
    left = sorted(p.name for p in folder.iterdir())
    assert not any(".lockfile" in name or "tempstate" in name for name in left)
    assert any(name.endswith(".index") for name in left)  # the cache is complete now, and read next time
    assert [len(b) for b in batches(build_pipeline(ds, "test", SETTINGS, training=False, cache=folder))] == \
        [len(b) for b in expected]


def test_a_lock_held_by_a_live_process_is_left_alone(tmp_path):
    from hybridvid_lib.data.pipeline.base import _remove_stale_lock

    (tmp_path / "c_0.lockfile").write_text("Created at: 0")
    (tmp_path / "c.owner").write_text(f"{os.uname().nodename} {os.getppid()}\n")  # our parent: alive
    assert not _remove_stale_lock(tmp_path, "c") and (tmp_path / "c_0.lockfile").exists()
    (tmp_path / "c.owner").write_text("another-host 1\n")
    assert not _remove_stale_lock(tmp_path, "c")
