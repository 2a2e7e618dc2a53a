"""Plots a learner would rather look at than read: curves, confusion, per-class bars, ROC, clips, leaderboard.

Every function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``::

    from hybridvid_lib.viz import plot_history, plot_confusion_matrix, save_figure
    fig = plot_history(history)                     # a Keras History or its .history dict
    save_figure(fig, OUTPUT_DIR / "history.png")    # atomic PNG
    plot_confusion_matrix(metrics["confusion_matrix"], class_names);

New figures are made through ``pyplot``, so a notebook shows (and then closes) every figure a
cell draws, as learners expect from matplotlib. End a plotting line with ``;`` or assign the
figure: a figure that is also the cell's last value is otherwise shown twice. Without a display
(tests, the course runner) matplotlib falls back to the Agg backend; scripts that draw many
figures pass ``close=True`` to :func:`save_figure`. Functions that draw one panel take ``ax=``
to draw into an existing figure instead.

One module per topic; import from here, the names stay the same when a plot moves:

- :mod:`.training`: :func:`plot_history`;
- :mod:`.classification`: :func:`plot_confusion_matrix`, :func:`plot_per_class_accuracy`,
  :func:`plot_per_class_comparison`, :func:`plot_roc_curves`, :func:`plot_leaderboard`;
- :mod:`.flow`: stacks of optical-flow fields (chapter 02), :func:`show_flow_stack`, :func:`unstack_flow`;
- :mod:`.skeleton`: skeleton graphs, their partitions, adjacency matrices and edge values (chapter 05),
  imported from :mod:`hybridvid_lib.viz.skeleton`;
- :mod:`.frames`: :func:`to_uint8_frames`, :func:`show_frames`, :func:`plot_sample_predictions`;
- :mod:`.attention`: attention weights over a clip's frames (chapter 07), :func:`plot_attention_over_frames`,
  :func:`plot_mean_attention_by_class`, and the ipywidgets :class:`~hybridvid_lib.viz.attention.AttentionScrubber`
  (imported from :mod:`hybridvid_lib.viz.attention`);
- :mod:`.common`: the colours, :data:`DEFAULT_DPI` and :func:`save_figure`.
"""

from hybridvid_lib.viz.attention import plot_attention_over_frames, plot_mean_attention_by_class
from hybridvid_lib.viz.classification import (
    plot_confusion_matrix, plot_leaderboard, plot_per_class_accuracy, plot_per_class_comparison, plot_roc_curves,
)
from hybridvid_lib.viz.common import (
    BAR_COLOR, DEFAULT_DPI, HIGHLIGHT_COLOR, RIGHT_COLOR, WRONG_COLOR, save_figure,
)
from hybridvid_lib.viz.flow import show_flow_stack, unstack_flow
from hybridvid_lib.viz.frames import plot_sample_predictions, show_frames, to_uint8_frames
from hybridvid_lib.viz.training import plot_history

__all__ = [
    "BAR_COLOR", "DEFAULT_DPI", "HIGHLIGHT_COLOR", "RIGHT_COLOR", "WRONG_COLOR",
    "plot_attention_over_frames", "plot_mean_attention_by_class",
    "plot_confusion_matrix", "plot_history", "plot_leaderboard", "plot_per_class_accuracy",
    "plot_per_class_comparison", "plot_roc_curves", "plot_sample_predictions", "save_figure", "show_flow_stack",
    "show_frames", "to_uint8_frames", "unstack_flow",
]
