"""Skeleton graphs drawn: the bones, a graph convolution's partition subsets, its adjacency matrices, edge weights.

Introduced with ST-GCN (chapter 05). Poses are ``(J, 2)`` or ``(J, C)`` arrays of image coordinates
(x to the right, y *down*, as in StickActions' skeleton files); the plots turn the y axis so the
figure stands upright. Every function returns a :class:`matplotlib.figure.Figure`, draws into
``ax=`` when given, and never calls ``plt.show()``::

    from hybridvid_lib.data.skeletons import STICK_FIGURE
    from hybridvid_lib.viz.skeleton import plot_partition_subsets, plot_adjacency_subsets
    plot_partition_subsets(STICK_FIGURE, pose, root="left_elbow");
    plot_adjacency_subsets(graph_partitions(STICK_FIGURE, "spatial"), partition_names("spatial"));
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from hybridvid_lib.data.skeletons import SkeletonGraph
from hybridvid_lib.viz.common import figure_and_axes, new_figure

#: Colours of the partition subsets, in subset order (root, centripetal, centrifugal, ...).
SUBSET_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:brown")
_BONE_GREY = "0.75"


def _pose_xy(graph: SkeletonGraph, pose: np.ndarray) -> np.ndarray:
    xy = np.asarray(pose, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[0] != graph.num_joints or xy.shape[1] < 2:
        raise ValueError(f"Expected a pose of shape ({graph.num_joints}, 2) or ({graph.num_joints}, C) for "
                         f"graph {graph.name!r} (x, y per joint); got {xy.shape}.")
    return xy[:, :2]


def _setup_axes(ax: Axes, xy: np.ndarray, title: str | None) -> None:
    ax.set_aspect("equal")
    pad = 0.12 * max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-6)
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].max() + pad, xy[:, 1].min() - pad)  # image coordinates: y grows downwards
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def _root_index(graph: SkeletonGraph, root: int | str) -> int:
    if isinstance(root, str):
        return graph.index(root)
    if not 0 <= int(root) < graph.num_joints:
        raise ValueError(f"root must be a joint name or an index in [0, {graph.num_joints}); got {root!r}.")
    return int(root)


def draw_skeleton_graph(
    graph: SkeletonGraph,
    pose: np.ndarray,
    *,
    edge_values: Sequence[float] | None = None,
    joint_values: Sequence[float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    label_joints: bool = False,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str | None = None,
) -> Figure:
    """The skeleton as a graph: joints as dots, bones as lines, optionally coloured and sized by a value.

    Args:
        graph: the skeleton (its ``edges`` and ``center``).
        pose: ``(J, 2)`` (or ``(J, C)``, the first two channels used) x, y image coordinates.
        edge_values: one number per bone, in ``graph.edges`` order (e.g. a learned edge importance):
            each bone's colour and width follow it. ``None``: plain grey bones.
        joint_values: one number per joint, drawn as the joint's colour on the same scale.
        ax: draw into this Axes (default: a new figure).
        title: panel title.
        label_joints: write each joint's name beside it.
        cmap, vmin, vmax: colour map and range of the values (default: their min and max).
        colorbar_label: label of the colour bar (drawn when values are given).
    """
    xy = _pose_xy(graph, pose)
    fig, ax = figure_and_axes(ax, (3.2, 4.2))
    values = [np.asarray(v, dtype=np.float64) for v in (edge_values, joint_values) if v is not None]
    if edge_values is not None and len(edge_values) != len(graph.edges):
        raise ValueError(f"edge_values needs one number per bone ({len(graph.edges)} for {graph.name!r}); "
                         f"got {len(edge_values)}.")
    if joint_values is not None and len(joint_values) != graph.num_joints:
        raise ValueError(f"joint_values needs one number per joint ({graph.num_joints}); got {len(joint_values)}.")
    norm = None
    if values:
        every = np.concatenate(values)
        lo = float(every.min()) if vmin is None else vmin
        hi = float(every.max()) if vmax is None else vmax
        norm = Normalize(lo, hi if hi > lo else lo + 1e-6)
    mapper = ScalarMappable(norm=norm, cmap=cmap) if norm is not None else None
    for e, (i, j) in enumerate(graph.edges):
        if edge_values is None:
            ax.plot(xy[[i, j], 0], xy[[i, j], 1], color=_BONE_GREY, lw=2.5, solid_capstyle="round", zorder=1)
        else:
            share = float(norm(edge_values[e]))
            ax.plot(xy[[i, j], 0], xy[[i, j], 1], color=mapper.to_rgba(edge_values[e]), lw=1.5 + 6.5 * share,
                    solid_capstyle="round", zorder=1)
    colors = ("0.3" if joint_values is None else [mapper.to_rgba(v) for v in joint_values])
    ax.scatter(xy[:, 0], xy[:, 1], s=28, c=colors, edgecolors="k", linewidths=0.5, zorder=3)
    ax.scatter(*xy[graph.center], s=90, facecolors="none", edgecolors="k", linewidths=1.2, zorder=4)
    if label_joints:
        for k, name in enumerate(graph.joints):
            ax.annotate(name.replace("left_", "L ").replace("right_", "R "), xy[k], fontsize=6,
                        xytext=(3, 2), textcoords="offset points")
    _setup_axes(ax, xy, title)
    if mapper is not None:
        fig.colorbar(mapper, ax=ax, fraction=0.05, label=colorbar_label)
    return fig


def partition_subsets_of(adjacency: np.ndarray, root: int) -> dict[int, int]:
    """``{source joint: subset k}`` for the joints that feed ``root`` in a ``(K, J, J)`` partition."""
    a = np.asarray(adjacency)
    if a.ndim != 3 or a.shape[1] != a.shape[2]:
        raise ValueError(f"Expected a (K, J, J) partition; got shape {a.shape}.")
    return {int(v): int(k) for k, v in zip(*np.nonzero(a[:, :, root]))}


def plot_partition_subsets(
    graph: SkeletonGraph,
    pose: np.ndarray,
    root: int | str,
    partitions: dict[str, np.ndarray],
    names: dict[str, Sequence[str]],
    *,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """One panel per strategy: the neighbour set of ``root``, each joint coloured by its subset.

    Args:
        graph: the skeleton.
        pose: ``(J, 2)`` image coordinates to draw it at.
        root: the joint whose graph convolution is shown (name or index).
        partitions: ``{strategy: (K, J, J)}`` from :func:`~hybridvid_lib.models.graph_partitions.graph_partitions`.
        names: ``{strategy: subset names}`` from :func:`~hybridvid_lib.models.graph_partitions.partition_names`.
        axes: one Axes per strategy (default: a new figure).

    The centre joint (ringed) decides what is centripetal (closer to it) and centrifugal (farther).
    """
    xy = _pose_xy(graph, pose)
    w = _root_index(graph, root)
    if axes is None:
        fig = new_figure((3.0 * len(partitions), 4.0))
        axes = list(fig.subplots(1, len(partitions), squeeze=False)[0])
    else:
        axes = list(axes)
        fig = axes[0].figure
    for ax, (strategy, a) in zip(axes, partitions.items()):
        draw_skeleton_graph(graph, xy, ax=ax)
        members = partition_subsets_of(a, w)
        for k, subset in enumerate(names[strategy]):
            joints = [v for v, kk in members.items() if kk == k]
            ax.scatter(xy[joints, 0], xy[joints, 1], s=110, color=SUBSET_COLORS[k % len(SUBSET_COLORS)],
                       edgecolors="k", zorder=5, label=f"{k}: {subset}")
        _setup_axes(ax, xy, f"{strategy}: K = {a.shape[0]}")
        ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, -0.22), ncol=1, frameon=False)
    return fig


def plot_adjacency_subsets(
    adjacency: np.ndarray,
    names: Sequence[str],
    *,
    joint_names: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
    cmap: str = "Greys",
) -> Figure:
    """The ``K`` subsets of a partition as ``J x J`` images, ``A[k, v, w]``: rows source ``v``, columns target ``w``.

    All panels share one colour scale, so a darker cell is a larger weight in every panel; each column of the sum
    of the panels sums to 1 (ST-GCN's ``A D^-1`` normalisation).
    """
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or len(names) != a.shape[0]:
        raise ValueError(f"Expected a (K, J, J) partition and K names; got shape {a.shape} and {len(names)} names.")
    k = a.shape[0]
    if axes is None:
        fig = new_figure((3.0 * k + 0.8, 3.3))
        axes = list(fig.subplots(1, k, squeeze=False)[0])
    else:
        axes = list(axes)
        fig = axes[0].figure
    image = None
    for i, ax in enumerate(axes):
        image = ax.imshow(a[i], cmap=cmap, vmin=0.0, vmax=float(a.max()) or 1.0)
        ax.set_title(f"A[{i}]: {names[i]} ({int(np.count_nonzero(a[i]))} entries)", fontsize=8)
        ax.set_xlabel("target joint w", fontsize=8)
        if i == 0:
            ax.set_ylabel("source joint v", fontsize=8)
        if joint_names is not None:
            short = [n.replace("left_", "L ").replace("right_", "R ") for n in joint_names]
            ax.set_xticks(range(len(short)), short, rotation=90, fontsize=5)
            ax.set_yticks(range(len(short)), short if i == 0 else [], fontsize=5)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.colorbar(image, ax=axes, fraction=0.03, label="weight")
    return fig


def edge_values_from_matrix(graph: SkeletonGraph, matrix: np.ndarray,
                            adjacency: np.ndarray | None = None) -> np.ndarray:
    """One number per bone from ``(K, J, J)`` (or ``(J, J)``) per-pair values such as a learned edge importance.

    A bone ``(i, j)`` appears as ``[k, i, j]`` and ``[k, j, i]`` in the subsets that hold it (``adjacency`` non-zero
    there; default: every entry); its value is the mean of those entries, both directions.

    Returns:
        ``(len(graph.edges),)`` float64, in ``graph.edges`` order.
    """
    m = np.asarray(matrix, dtype=np.float64)
    m = m[None] if m.ndim == 2 else m
    mask = np.ones_like(m, dtype=bool) if adjacency is None else np.asarray(adjacency).reshape(m.shape) != 0
    out = []
    for i, j in graph.edges:
        entries = [m[k, a, b] for k in range(m.shape[0]) for a, b in ((i, j), (j, i)) if mask[k, a, b]]
        out.append(float(np.mean(entries)) if entries else float("nan"))
    return np.asarray(out)
