import json

import numpy as np
import pytest

from hybridvid_lib.io_utils import (
    atomic_path,
    atomic_save_npy,
    atomic_write_json,
    remove_partials,
)


def test_atomic_json_roundtrip(tmp_path):
    path = atomic_write_json(tmp_path / "sub" / "a.json", {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}
    assert list(path.parent.iterdir()) == [path]


def test_interrupted_write_keeps_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "cache.npy"
    atomic_save_npy(target, np.arange(3))
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a fi")
            raise RuntimeError("killed")
    assert np.load(target).tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.npy"]


def test_remove_partials_cleans_leftovers(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".x.npy.abc.partial").write_bytes(b"junk")
    (tmp_path / "keep.npy").write_bytes(b"ok")
    assert remove_partials(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.npy"]


def test_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "m.json", {"loss": float("nan")})
    assert not any(tmp_path.iterdir())
