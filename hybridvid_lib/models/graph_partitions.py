"""The adjacency matrices of a spatial graph convolution: ST-GCN's partition strategies (numpy, no TensorFlow).

Introduced with ST-GCN (the skeleton chapter). A graph convolution at joint ``w`` gathers the
features of the joints ``v`` in its *neighbour set*: ``w`` itself and the joints at most
``max_hop`` bones away (``max_hop=1``: the joint and the joints one bone away). ST-GCN splits
that neighbour set into ``K`` *subsets* and gives each subset its own weights, so the layer can
treat "my own position", "the joint towards the body's centre" and "the joint towards the
extremities" differently, as a 3x3 image convolution treats its nine pixels differently.

Orientation. Every matrix here is ``A[v, w]``: entry ``v, w`` says how much joint ``v`` (source)
contributes to the output at joint ``w`` (target). The graph convolution computes
``out[w] = sum_k sum_v A[k, v, w] * (x[v] @ W_k)``; see :class:`hybridvid_lib.layers.GraphConv`.

Normalisation (ST-GCN's ``normalize_digraph``, ``A D^-1``): the 0/1 adjacency with self-loops
within ``max_hop`` is divided column by column by the column's sum (the number of joints in
``w``'s neighbour set), so every column of the *sum* of the ``K`` subsets sums to 1: each output
is an average over its neighbour set, whatever the joint's degree. The subsets are the entries of
that one normalised matrix, split by the strategy; nothing is re-normalised per subset.

Strategies (Yan, Xiong and Lin, *Spatial Temporal Graph Convolutional Networks for
Skeleton-Based Action Recognition*, AAAI 2018, section "Partition Strategies"):

``uniform`` (``K = 1``)
    One subset: the whole neighbour set, ``A[0]`` is the normalised adjacency.
``distance`` (``K = max_hop + 1``)
    By the hop distance between ``v`` and the root ``w``: subset 0 is the root itself
    (hop 0, the self-loops), subset 1 the joints one bone away (hop 1), and so on.
``spatial`` (``K = 2 * max_hop + 1``; 3 for ``max_hop=1``)
    By the distance to the skeleton's ``center`` joint, counted in bones along the graph:
    subset 0 is the root ``w`` itself; subset 1 (*centripetal*) the neighbours of ``w`` that are
    closer to the centre than ``w`` (or as close: only possible in a graph with cycles); subset 2
    (*centrifugal*) the neighbours farther from the centre than ``w``. For ``max_hop > 1`` each
    further hop adds one centripetal and one centrifugal subset (as in the released code).

Two deliberate differences from the released ST-GCN code (``net/utils/graph.py`` in
``yysijie/st-gcn``, kept in ``open-mmlab/mmskeleton``), both open issues there:

- the distance to the centre is the true graph distance. The released code measures it with
  hop distances capped at ``max_hop``, so with ``max_hop=1`` every joint more than one bone from
  the centre is "infinitely far", and a bone between two such joints lands in the centripetal
  subset in both directions (mmskeleton issue #367 "Edges missing from A");
- centripetal means "closer to the centre than the root", the paper's definition. Read with its
  ``einsum('nkctv,kvw->nctw')``, the released code's ``a_close`` holds the neighbours *farther*
  from the centre (mmskeleton issue #245). Both subsets get their own weights, so only the names
  swap: a network learns the same functions either way.

The paper's centre is the skeleton's average joint position in each frame; the released code
and this kit use a fixed centre joint (:attr:`SkeletonGraph.center`, the pelvis of the stick
figure; mmskeleton issue #370).
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Sequence

import numpy as np

from hybridvid_lib.data.skeletons import SkeletonGraph

PARTITION_STRATEGIES = ("uniform", "distance", "spatial")


def _graph_parts(graph: SkeletonGraph | int, edges: Iterable[Sequence[int]] | None,
                 center: int | None) -> tuple[int, tuple[tuple[int, int], ...], int | None]:
    """``(num_joints, edges, center)`` from a :class:`SkeletonGraph` or from the three values."""
    if isinstance(graph, SkeletonGraph):
        if edges is not None or center is not None:
            raise ValueError("Pass either a SkeletonGraph, or a joint count with edges= and center=, not both.")
        return graph.num_joints, graph.edges, graph.center
    if isinstance(graph, bool) or not isinstance(graph, (int, np.integer)) or graph < 1:
        raise ValueError(f"Expected a SkeletonGraph or a positive joint count; got {graph!r}.")
    num = int(graph)
    pairs = tuple((int(i), int(j)) for i, j in (edges or ()))
    for i, j in pairs:
        if not (0 <= i < num and 0 <= j < num) or i == j:
            raise ValueError(f"Edge ({i}, {j}) must join two different joint indices in [0, {num}).")
    if center is not None and not 0 <= int(center) < num:
        raise ValueError(f"center must be a joint index in [0, {num}); got {center!r}.")
    return num, pairs, None if center is None else int(center)


def hop_distance(graph: SkeletonGraph | int, edges: Iterable[Sequence[int]] | None = None, *,
                 max_hop: int | None = None) -> np.ndarray:
    """Number of bones on the shortest path between every two joints.

    Args:
        graph: a :class:`SkeletonGraph`, or the joint count ``J`` (then pass ``edges``).
        edges: bones as ``(i, j)`` index pairs, when ``graph`` is a joint count.
        max_hop: distances above it become ``inf`` (``None``: keep every finite distance).

    Returns:
        ``(J, J)`` float64, symmetric, 0 on the diagonal, ``inf`` between joints that no path
        joins (or farther apart than ``max_hop``).
    """
    num, pairs, _ = _graph_parts(graph, edges, None)
    neighbours: list[list[int]] = [[] for _ in range(num)]
    for i, j in pairs:
        neighbours[i].append(j)
        neighbours[j].append(i)
    dist = np.full((num, num), np.inf)
    for start in range(num):  # breadth-first search from every joint: J is tiny
        dist[start, start] = 0.0
        queue = deque([start])
        while queue:
            a = queue.popleft()
            for b in neighbours[a]:
                if dist[start, b] == np.inf:
                    dist[start, b] = dist[start, a] + 1
                    queue.append(b)
    if max_hop is not None:
        dist[dist > max_hop] = np.inf
    return dist


def normalize_digraph(adjacency: np.ndarray) -> np.ndarray:
    """``A D^-1``: every column divided by its sum (ST-GCN's ``normalize_digraph``); zero columns stay zero.

    Args:
        adjacency: ``(J, J)`` non-negative, ``A[v, w]`` = joint ``v`` feeds joint ``w``.

    Returns:
        ``(J, J)`` float64; each non-zero column sums to 1.
    """
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"Expected a square (J, J) adjacency matrix; got shape {a.shape}.")
    degree = a.sum(axis=0)
    inverse = np.zeros_like(degree)
    np.divide(1.0, degree, out=inverse, where=degree > 0)
    return a * inverse[None, :]


def normalized_adjacency(graph: SkeletonGraph | int, edges: Iterable[Sequence[int]] | None = None, *,
                         max_hop: int = 1) -> np.ndarray:
    """The neighbour sets of a graph convolution, column-normalised: what the ``K`` subsets sum to.

    Returns:
        ``(J, J)`` float32: 1 / |neighbour set of ``w``| at ``[v, w]`` for every ``v`` within
        ``max_hop`` bones of ``w`` (``w`` itself included), 0 elsewhere.
    """
    _check_max_hop(max_hop)
    within = np.isfinite(hop_distance(graph, edges, max_hop=max_hop))
    return normalize_digraph(within.astype(np.float64)).astype(np.float32)


def partition_names(strategy: str = "spatial", *, max_hop: int = 1) -> tuple[str, ...]:
    """What each of the ``K`` subsets of a strategy holds, in order (for plots and messages).

    ``partition_names("spatial")`` is ``("root", "centripetal", "centrifugal")``;
    ``partition_names("distance")`` is ``("hop 0", "hop 1")``.
    """
    _check_strategy(strategy)
    _check_max_hop(max_hop)
    if strategy == "uniform":
        return ("neighbours",)
    if strategy == "distance":
        return tuple(f"hop {h}" for h in range(max_hop + 1))
    names = ["root"]
    for h in range(1, max_hop + 1):
        suffix = "" if max_hop == 1 else f" (hop {h})"
        names += [f"centripetal{suffix}", f"centrifugal{suffix}"]
    return tuple(names)


def graph_partitions(graph: SkeletonGraph | int, strategy: str = "spatial", *,
                     edges: Iterable[Sequence[int]] | None = None, center: int | None = None,
                     max_hop: int = 1) -> np.ndarray:
    """The ``K`` normalised adjacency subsets of an ST-GCN graph convolution.

    Args:
        graph: a :class:`SkeletonGraph` (its joints, edges and centre), or the joint count ``J``
            with ``edges`` and, for ``spatial``, ``center``.
        strategy: ``"uniform"``, ``"distance"`` or ``"spatial"`` (see the module docstring).
        edges: bones as ``(i, j)`` pairs, when ``graph`` is a joint count.
        center: the centre joint, when ``graph`` is a joint count (needed by ``spatial``).
        max_hop: the neighbour set of a joint holds the joints at most this many bones away.

    Returns:
        ``(K, J, J)`` float32, ``A[k, v, w]``: the weight of source joint ``v`` for target joint
        ``w`` in subset ``k`` (order as :func:`partition_names`). The ``K`` subsets are disjoint
        and sum to :func:`normalized_adjacency`; every column of the sum sums to 1.

    Raises:
        ValueError: unknown strategy, ``max_hop`` below 1, a bad graph, or ``spatial`` without a
            centre.

    Example::

        from hybridvid_lib.data.skeletons import STICK_FIGURE
        a = graph_partitions(STICK_FIGURE, "spatial")     # (3, 18, 18)
    """
    _check_strategy(strategy)
    _check_max_hop(max_hop)
    num, pairs, center = _graph_parts(graph, edges, center)
    hops = hop_distance(num, pairs, max_hop=max_hop)
    normalized = normalized_adjacency(num, pairs, max_hop=max_hop).astype(np.float64)

    if strategy == "uniform":
        subsets = [normalized]
    elif strategy == "distance":
        subsets = [np.where(hops == h, normalized, 0.0) for h in range(max_hop + 1)]
    else:
        if center is None:
            raise ValueError("The spatial strategy needs the centre joint: pass a SkeletonGraph or center=.")
        # Bones to the centre along the whole graph (not capped at max_hop: see the module docstring).
        to_center = hop_distance(num, pairs)[:, center]
        source_closer = to_center[:, None] <= to_center[None, :]  # [v, w]: v at most as far as w
        subsets = [np.where(hops == 0, normalized, 0.0)]
        for h in range(1, max_hop + 1):
            at_hop = hops == h
            subsets.append(np.where(at_hop & source_closer, normalized, 0.0))   # centripetal
            subsets.append(np.where(at_hop & ~source_closer, normalized, 0.0))  # centrifugal
    return np.stack(subsets).astype(np.float32)


def _check_strategy(strategy: str) -> None:
    if strategy not in PARTITION_STRATEGIES:
        raise ValueError(f"Unknown partition strategy {strategy!r}; choose one of {', '.join(PARTITION_STRATEGIES)}.")


def _check_max_hop(max_hop: int) -> None:
    if isinstance(max_hop, bool) or not isinstance(max_hop, (int, np.integer)) or max_hop < 1:
        raise ValueError(f"max_hop must be a whole number of at least 1; got {max_hop!r}.")
