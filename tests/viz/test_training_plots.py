"""plot_history: a panel per metric, train and validation curves with the logged numbers."""

from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from hybridvid_lib import viz

HISTORY = {"loss": [2.0, 1.5, 1.0], "val_loss": [2.1, 1.8, 1.6], "accuracy": [0.2, 0.5, 0.7],
           "val_accuracy": [0.1, 0.4, 0.5], "learning_rate": [1e-3, 1e-3, 5e-4]}


def test_history_has_a_panel_per_metric_with_train_and_val():
    fig = viz.plot_history(SimpleNamespace(history=HISTORY), title="run")  # a Keras History look-alike
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]  # no learning-rate panel
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    assert loss_ax.lines[0].get_xdata().tolist() == [1, 2, 3]
    assert loss_ax.lines[1].get_ydata().tolist() == HISTORY["val_loss"]
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["train", "validation"]


def test_history_into_given_axes_and_errors():
    fig, ax = plt.subplots()
    assert viz.plot_history({"loss": [1.0, 0.5]}, ax=ax) is fig
    assert len(ax.lines) == 1 and plt.get_fignums() == [fig.number]  # no extra figure
    with pytest.raises(ValueError, match="2 panels"):
        viz.plot_history(HISTORY, ax=ax)
    with pytest.raises(ValueError, match="'top5' is not in the history"):
        viz.plot_history(HISTORY, metrics=["top5"])
    with pytest.raises(ValueError, match="Keras History"):
        viz.plot_history({})
