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


# --------------------------------------------------------------------------- reading .npy from many threads
@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
    np.zeros((0, 5), np.uint8),
    np.array(3.5),
])
def test_load_npy_reads_what_numpy_saved(tmp_path, array):
    from hybridvid_lib.io_utils import load_npy

    path = tmp_path / "a.npy"
    np.save(path, array)
    loaded = load_npy(path)
    assert loaded.shape == array.shape and loaded.dtype == array.dtype and np.array_equal(loaded, array)


def test_load_npy_refuses_objects_and_short_files(tmp_path):
    from hybridvid_lib.io_utils import load_npy

    objects = tmp_path / "o.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        load_npy(objects)
    short = tmp_path / "s.npy"
    np.save(short, np.ones(100, np.float32))
    short.write_bytes(short.read_bytes()[:-8])
    with pytest.raises(EOFError, match="98 of the 100 values"):
        load_npy(short)


def test_every_npy_header_is_parsed_under_one_lock(tmp_path, monkeypatch):
    """CPython 3.11 may fail when threads build syntax trees at once (numpy parses .npy headers with ast): the
    cache loaders parse headers one at a time, however many tf.data threads call them."""
    from hybridvid_lib import io_utils
    from hybridvid_lib.data.array_cache import npy_header

    held = []
    original = np.lib.format.read_array_header_1_0

    def spy(fh, *args, **kwargs):
        held.append(io_utils._NPY_HEADER_LOCK.locked())
        return original(fh, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", spy)
    path = tmp_path / "a.npy"
    np.save(path, np.ones((2, 2), np.float32))
    io_utils.load_npy(path)
    assert npy_header(path) == ((2, 2), np.dtype(np.float32))
    assert held == [True, True]
