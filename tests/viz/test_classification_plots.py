"""Confusion matrix, per-class accuracy, ROC and leaderboard: the right bars, lines and texts with the right numbers."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from sklearn.metrics import roc_auc_score

from hybridvid_lib import viz

NAMES = ["SitDown", "StandUp", "Wave", "Jump"]


def noisy_predictions(num: int = 40, num_classes: int = 4, seed: int = 0):
    """``(y_true (N,), y_prob (N, C))``: probabilities leaning towards the true class."""
    rng = np.random.default_rng(seed)
    y = np.arange(num) % num_classes
    prob = rng.dirichlet(np.ones(num_classes), size=num)
    prob[np.arange(num), y] += 0.4
    return y, prob / prob.sum(axis=1, keepdims=True)


def test_each_plot_opens_one_pyplot_figure_for_a_notebook_to_show():
    y, prob = noisy_predictions()
    fig = viz.plot_confusion_matrix(np.eye(4, dtype=int), NAMES)
    viz.plot_roc_curves(y, prob, NAMES)
    assert len(plt.get_fignums()) == 2 and plt.fignum_exists(fig.number)


# --------------------------------------------------------------------------- confusion matrix
def cell_texts(fig):
    ax = fig.axes[0]
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def test_confusion_matrix_annotations_equal_the_counts():
    cm = np.array([[5, 1, 0, 0], [2, 3, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]])
    fig = viz.plot_confusion_matrix(cm, NAMES, normalize=False)
    texts = cell_texts(fig)
    assert len(texts) == 16
    assert all(texts[i, j] == str(cm[i, j]) for i in range(4) for j in range(4))
    assert len(fig.axes) == 2  # heat map and colour bar
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == NAMES


def test_normalized_confusion_matrix_shows_row_fractions():
    cm = np.array([[3, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]])
    texts = cell_texts(viz.plot_confusion_matrix(cm, NAMES))
    assert texts[0, 0] == "0.75" and texts[0, 1] == "0.25" and texts[2, 3] == "0.50"
    assert texts[0, 2] == "0" and all(texts[3, j] == "0" for j in range(4))  # class without samples


def test_confusion_matrix_readable_with_many_classes():
    names = [f"class_{i:02d}" for i in range(14)]
    fig = viz.plot_confusion_matrix(np.diag(np.arange(1, 15)), names)
    assert len(fig.axes[0].texts) == 14 * 14
    assert all(t.get_rotation() == 45 for t in fig.axes[0].get_xticklabels())


def test_confusion_matrix_refuses_wrong_shape():
    with pytest.raises(ValueError, match=r"square \(C, C\) matrix with C = 4"):
        viz.plot_confusion_matrix(np.eye(3), NAMES)


# --------------------------------------------------------------------------- per-class accuracy
def test_per_class_bars_highlight_and_missing_class():
    per_class = {"SitDown": 0.5, "StandUp": 0.25, "Wave": 1.0, "Jump": None}
    fig = viz.plot_per_class_accuracy(per_class, highlight=["SitDown", "StandUp"], chance=0.25)
    ax = fig.axes[0]
    bars = ax.patches
    assert [b.get_width() for b in bars] == [0.5, 0.25, 1.0]
    assert [b.get_facecolor() for b in bars] == [to_rgba(viz.HIGHLIGHT_COLOR)] * 2 + [to_rgba(viz.BAR_COLOR)]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(per_class)
    assert "no test sample" in [t.get_text() for t in ax.texts]
    assert any(line.get_xdata()[0] == 0.25 for line in ax.lines)  # chance line


def test_per_class_sorted_best_first():
    fig = viz.plot_per_class_accuracy({"a": 0.2, "b": None, "c": 0.9}, sort=True)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["c", "a", "b"]
    with pytest.raises(ValueError, match="unknown classes"):
        viz.plot_per_class_accuracy({"a": 0.2}, highlight=["z"])


# --------------------------------------------------------------------------- ROC
def test_roc_one_line_per_class_plus_chance_with_sklearn_auc():
    y, prob = noisy_predictions()
    ax = viz.plot_roc_curves(y, prob, NAMES).axes[0]
    assert len(ax.lines) == len(NAMES) + 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1].startswith("chance")
    for c, label in enumerate(labels[:-1]):
        name, auc = re.fullmatch(r"(\w+) \(AUC ([0-9.]+)\)", label).groups()
        assert name == NAMES[c]
        assert float(auc) == pytest.approx(roc_auc_score(y == c, prob[:, c]), abs=5e-4)


def test_roc_skips_absent_classes_and_keeps_the_hardest():
    y, prob = noisy_predictions()
    keep = y != 3
    ax = viz.plot_roc_curves(y[keep], prob[keep], NAMES).axes[0]
    assert len(ax.lines) == 3 + 1
    aucs = {c: roc_auc_score(y == c, prob[:, c]) for c in range(4)}
    hardest = sorted(sorted(aucs, key=aucs.get)[:2])
    ax = viz.plot_roc_curves(y, prob, NAMES, max_classes=2).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()][:-1]
    assert [label.split()[0] for label in labels] == [NAMES[c] for c in hardest]
    assert "2 hardest of 4" in ax.get_title()


def test_roc_with_a_single_class_says_so_instead_of_failing():
    ax = viz.plot_roc_curves([1, 1], np.array([[0.2, 0.8, 0, 0], [0.5, 0.5, 0, 0]]), NAMES).axes[0]
    assert len(ax.lines) == 0 and "single class" in ax.texts[0].get_text()


# --------------------------------------------------------------------------- leaderboard
def test_leaderboard_bars_and_error_bars():
    rows = [{"label": "cnn_lstm", "mean": 0.6, "std": 0.05, "n": 3},
            {"model": "c3d", "mean": 0.8, "std": 0.02, "n": 3},
            {"label": "single_frame", "mean": 0.4, "std": 0.0, "n": 1}]
    ax = viz.plot_leaderboard(rows).axes[0]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_width() for b in bars] == [0.8, 0.6, 0.4]  # best first
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c3d", "cnn_lstm", "single_frame"]
    segments = bars.errorbar.lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 0], 6)) for s in segments] == [(0.78, 0.82), (0.55, 0.65), (0.4, 0.4)]
    assert "0.800 ± 0.020 (n=3)" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="needs 'label'"):
        viz.plot_leaderboard([{"mean": 0.5}])


def test_confusion_matrix_in_a_given_order_moves_rows_and_columns_together():
    cm = np.array([[5, 1, 0, 0], [2, 3, 0, 0], [0, 0, 4, 0], [0, 1, 0, 7]])
    order = [NAMES[3], NAMES[0], NAMES[2], NAMES[1]]
    fig = viz.plot_confusion_matrix(cm, NAMES, normalize=False, order=order)
    texts = cell_texts(fig)
    positions = [NAMES.index(n) for n in order]
    assert all(texts[i, j] == str(cm[positions[i], positions[j]]) for i in range(4) for j in range(4))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == order
    with pytest.raises(ValueError, match="every class name once"):
        viz.plot_confusion_matrix(cm, NAMES, order=NAMES[:3])
