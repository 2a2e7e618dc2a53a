"""save_figure writes a whole PNG or nothing; the package exports every plot its topic modules define."""

import inspect

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from hybridvid_lib import viz
from hybridvid_lib.viz import classification, common, frames, training

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_public_function_of_the_topic_modules_is_exported_by_the_package():
    # Notebooks import from hybridvid_lib.viz; a plot added to a topic module but not exported
    # there would be unreachable by the import every chapter uses.
    for module in (classification, common, frames, training):
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                if module is common and name in ("new_figure", "figure_and_axes"):
                    continue  # building blocks of the plots, not plots
                assert getattr(viz, name, None) is obj and name in viz.__all__, f"{module.__name__}.{name}"


def test_save_figure_writes_a_png_and_no_partial(tmp_path):
    fig = viz.plot_per_class_accuracy({"a": 0.5})
    path = viz.save_figure(fig, tmp_path / "plots" / "per_class.png")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in path.parent.iterdir()] == ["per_class.png"]
    assert plt.fignum_exists(fig.number)  # still open: a notebook shows it at the end of the cell
    viz.save_figure(fig, path, close=True)
    assert not plt.fignum_exists(fig.number)


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    fig = viz.plot_per_class_accuracy({"a": 0.5})

    def half_write(fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(PNG_SIGNATURE)
        raise RuntimeError("killed while writing")

    monkeypatch.setattr(fig, "savefig", half_write)
    with pytest.raises(RuntimeError):
        viz.save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_save_figure_wants_a_png_name(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        viz.save_figure(Figure(), tmp_path / "plot.jpg")
