"""Skeleton graphs: which joints a skeleton has and which bones join them.

A joint array of the kit has shape ``(T, J, C)``: ``T`` frames, ``J`` joints in the order of
:attr:`SkeletonGraph.joints`, and ``C`` channels (StickActions: x pixel, y pixel, confidence).
A :class:`SkeletonGraph` says what a graph-convolution model needs to know about such an array:

- ``joints``: joint names; the index of a name is its position along the ``J`` axis;
- ``edges``: bones as pairs of joint indices (undirected);
- ``center``: the joint used to centre a pose (the pelvis of a stick figure).

Left and right joints are named ``left_*`` / ``right_*`` from the *person's* point of view, so
for a person facing the camera ``left_*`` joints appear on the right of the image (as in NTU RGB+D
and COCO). A horizontal flip of the video turns a left arm into what looks like a right arm;
:meth:`SkeletonGraph.mirror_permutation` and :func:`mirror_joints` relabel the joints to match.

Graphs are registered by name in :data:`SKELETON_GRAPHS`: the stick figure of StickActions
(:data:`STICK_FIGURE`) and the 25 Kinect v2 joints of NTU RGB+D (:data:`NTU_RGBD`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

_LEFT, _RIGHT = "left_", "right_"


@dataclass(frozen=True)
class SkeletonGraph:
    """An undirected skeleton graph: named joints, bones between them and a centre joint.

    Attributes:
        name: short identifier (``"stick_figure"``), used as the key of :data:`SKELETON_GRAPHS`.
        joints: joint names; index ``j`` of a ``(T, J, C)`` joint array is ``joints[j]``.
        edges: bones as ``(i, j)`` index pairs, each listed once, no self-loops.
        center: index of the joint a pose is centred on.

    Raises:
        ValueError: duplicate joint names, an edge or centre index out of range, a self-loop
            or a repeated edge.
    """

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    center: int

    def __post_init__(self) -> None:
        # Normalise lists (from JSON) to tuples so that graphs compare and hash by value.
        object.__setattr__(self, "joints", tuple(str(j) for j in self.joints))
        object.__setattr__(self, "edges", tuple((int(i), int(j)) for i, j in self.edges))
        object.__setattr__(self, "center", int(self.center))
        num = len(self.joints)
        if len(set(self.joints)) != num:
            raise ValueError(f"Skeleton {self.name!r} needs unique joint names; got {list(self.joints)}.")
        if not 0 <= self.center < num:
            raise ValueError(f"Skeleton {self.name!r}: center must be a joint index in [0, {num}); "
                             f"got {self.center}.")
        seen: set[frozenset[int]] = set()
        for i, j in self.edges:
            if not (0 <= i < num and 0 <= j < num) or i == j:
                raise ValueError(f"Skeleton {self.name!r}: edge ({i}, {j}) must join two different "
                                 f"joint indices in [0, {num}).")
            key = frozenset((i, j))
            if key in seen:
                raise ValueError(f"Skeleton {self.name!r}: edge ({i}, {j}) is listed twice.")
            seen.add(key)

    @property
    def num_joints(self) -> int:
        """Number of joints ``J``."""
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of a joint name (``ValueError`` naming the known joints if it does not exist)."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise ValueError(f"Skeleton {self.name!r} has no joint {joint!r}; joints: "
                             f"{', '.join(self.joints)}.") from None

    def adjacency(self, self_loops: bool = True) -> np.ndarray:
        """Symmetric adjacency matrix, shape ``(J, J)``, float32, 1 where a bone joins two joints.

        With ``self_loops`` the diagonal is 1 too (each joint also sees itself in a graph convolution).
        """
        a = np.zeros((self.num_joints, self.num_joints), dtype=np.float32)
        for i, j in self.edges:
            a[i, j] = a[j, i] = 1.0
        if self_loops:
            np.fill_diagonal(a, 1.0)
        return a

    def normalized_adjacency(self, self_loops: bool = True) -> np.ndarray:
        """``D^-1/2 A D^-1/2`` (Kipf and Welling), shape ``(J, J)``, float32; ``D`` is the degree of ``A``.

        Joints without any neighbour (possible only without self-loops) get a zero row and column.
        """
        a = self.adjacency(self_loops=self_loops)
        degree = a.sum(axis=1)
        inv_sqrt = np.zeros_like(degree)
        np.divide(1.0, np.sqrt(degree), out=inv_sqrt, where=degree > 0)
        return (inv_sqrt[:, None] * a * inv_sqrt[None, :]).astype(np.float32)

    def neighbors(self, j: int) -> tuple[int, ...]:
        """Indices of the joints joined to joint ``j`` by a bone, sorted."""
        if not 0 <= j < self.num_joints:
            raise ValueError(f"Joint index must be in [0, {self.num_joints}); got {j}.")
        return tuple(sorted({b for a, b in self.edges if a == j} | {a for a, b in self.edges if b == j}))

    def is_connected(self) -> bool:
        """True when every joint can be reached from the centre along bones."""
        seen, queue = {self.center}, deque([self.center])
        while queue:
            for k in self.neighbors(queue.popleft()):
                if k not in seen:
                    seen.add(k)
                    queue.append(k)
        return len(seen) == self.num_joints

    def mirror_permutation(self) -> np.ndarray:
        """Index permutation, shape ``(J,)`` int64, that swaps every ``left_*`` joint with its ``right_*`` twin.

        ``joints[:, perm]`` relabels a horizontally flipped skeleton; joints without a side
        (head, pelvis) map to themselves. Applying it twice gives the identity.

        Raises:
            ValueError: a ``left_*`` joint has no ``right_*`` twin, or the other way round.
        """
        perm = np.arange(self.num_joints, dtype=np.int64)
        for j, name in enumerate(self.joints):
            for side, other in ((_LEFT, _RIGHT), (_RIGHT, _LEFT)):
                if name.startswith(side):
                    twin = other + name[len(side):]
                    if twin not in self.joints:
                        raise ValueError(f"Skeleton {self.name!r}: joint {name!r} has no mirror twin "
                                         f"{twin!r}, so flips cannot be relabelled.")
                    perm[j] = self.joints.index(twin)
        return perm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``{"name", "joints", "edges", "center"}`` (lists, not tuples)."""
        return {"name": self.name, "joints": list(self.joints),
                "edges": [list(e) for e in self.edges], "center": self.center}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SkeletonGraph":
        """Inverse of :meth:`to_dict`; ``name`` may be missing (it becomes ``"custom"``)."""
        missing = [k for k in ("joints", "edges", "center") if k not in data]
        if missing:
            raise ValueError(f"A skeleton description needs the keys joints, edges and center; "
                             f"missing: {', '.join(missing)}.")
        return cls(name=str(data.get("name", "custom")), joints=tuple(data["joints"]),
                   edges=tuple(tuple(e) for e in data["edges"]), center=int(data["center"]))


def mirror_joints(joints: np.ndarray, permutation: "SkeletonGraph | np.ndarray | list[int]", *,
                  width: float | None = None, joint_axis: int = -2) -> np.ndarray:
    """Joints of a horizontally flipped frame: x mirrored and left/right joints swapped.

    The kit's one skeleton flip: the frame player, the exercises and the ``tf.data``
    pipeline (through ``tf.numpy_function``) all call it.

    Args:
        joints: an array whose ``joint_axis`` is the joint axis ``J`` and whose next axis holds
            the channels, channel 0 being x: ``(..., J, C)`` with the default ``joint_axis=-2``,
            or ``(T, J, C, persons)`` with ``joint_axis=1``.
        permutation: a :class:`SkeletonGraph` or its :meth:`~SkeletonGraph.mirror_permutation`
            (``perm[j]`` is the joint that takes ``j``'s place after the flip).
        width: width in pixels of the frame x refers to: ``x -> width - 1 - x``; ``None``
            for coordinates centred on 0 (normalised joints): ``x -> -x``.
        joint_axis: which axis holds the joints.

    Returns:
        A new array of the same shape and a float dtype; other channels (y, z, confidence) kept.

    Raises:
        ValueError: the permutation does not fit the joint axis.
    """
    joints = np.asarray(joints)
    perm = (permutation.mirror_permutation() if isinstance(permutation, SkeletonGraph)
            else np.asarray(permutation, dtype=np.int64))
    axis = joint_axis % max(joints.ndim, 1)
    if joints.ndim < 2 or axis + 1 >= joints.ndim or perm.shape != (joints.shape[axis],) \
            or sorted(perm.tolist()) != list(range(len(perm))):
        raise ValueError(f"Expected joints with {len(perm)} joints on axis {joint_axis} followed by a channel "
                         f"axis, and a permutation of 0..{len(perm) - 1}; got joints of shape {joints.shape}.")
    out = np.take(joints, perm, axis=axis).astype(np.result_type(joints.dtype, np.float32), copy=True)
    x = (slice(None),) * (axis + 1) + (0,)
    out[x] = -out[x] if width is None else (width - 1) - out[x]
    return out


# --------------------------------------------------------------------------- the graphs
#: The StickActions stick figure: 18 joints, a tree of 17 bones, centred on the pelvis.
STICK_FIGURE = SkeletonGraph(
    name="stick_figure",
    joints=(
        "pelvis", "chest", "neck", "head",
        "left_shoulder", "left_elbow", "left_wrist", "left_hand",
        "right_shoulder", "right_elbow", "right_wrist", "right_hand",
        "left_hip", "left_knee", "left_ankle",
        "right_hip", "right_knee", "right_ankle",
    ),
    edges=(
        (0, 1), (1, 2), (2, 3),  # spine and head
        (2, 4), (4, 5), (5, 6), (6, 7),  # left arm
        (2, 8), (8, 9), (9, 10), (10, 11),  # right arm
        (0, 12), (12, 13), (13, 14),  # left leg
        (0, 15), (15, 16), (16, 17),  # right leg
    ),
    center=0,
)

#: NTU RGB+D (and NTU RGB+D 120): the 25 joints a Kinect v2 tracks, in the order of the ``.skeleton``
#: files (NTU numbers them 1-25; index ``j`` here is NTU joint ``j + 1``). NTU's joint 21, "spine",
#: is the top of the spine between the shoulders (Kinect's SpineShoulder), named ``spine_shoulder`` here.
#:
#: Bones: the 24 of ST-GCN's ``ntu-rgb+d`` layout (Yan et al., AAAI 2018, ``net/utils/graph.py``,
#: ``neighbor_1base`` minus 1), a tree. In that list each hand is a chain hand - thumb - hand tip
#: (NTU 8-23, 23-22 and 12-25, 25-24), not two fingers on the hand as the Kinect SDK draws them; the
#: kit keeps ST-GCN's bones so that its adjacency matches published graph models.
#:
#: Centre: joint 1, the middle of the spine (NTU joint 2), the joint :mod:`~hybridvid_lib.data.pipeline.joints`
#: centres NTU clips on (as 2s-AGCN's preprocessing does). ST-GCN's ``Graph`` uses ``center = 21 - 1``
#: (spine shoulder) to split neighbours into centripetal and centrifugal groups; a model that wants
#: that partition passes its own centre (``NTU_RGBD.index("spine_shoulder")``).
NTU_RGBD = SkeletonGraph(
    name="ntu_rgbd",
    joints=(
        "spine_base", "spine_middle", "neck", "head",  # NTU 1-4
        "left_shoulder", "left_elbow", "left_wrist", "left_hand",  # NTU 5-8
        "right_shoulder", "right_elbow", "right_wrist", "right_hand",  # NTU 9-12
        "left_hip", "left_knee", "left_ankle", "left_foot",  # NTU 13-16
        "right_hip", "right_knee", "right_ankle", "right_foot",  # NTU 17-20
        "spine_shoulder",  # NTU 21 ("spine")
        "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",  # NTU 22-25
    ),
    edges=(
        (0, 1), (1, 20), (2, 20), (3, 2),  # spine, neck and head
        (4, 20), (5, 4), (6, 5), (7, 6),  # left arm
        (8, 20), (9, 8), (10, 9), (11, 10),  # right arm
        (12, 0), (13, 12), (14, 13), (15, 14),  # left leg
        (16, 0), (17, 16), (18, 17), (19, 18),  # right leg
        (21, 22), (22, 7), (23, 24), (24, 11),  # hands: tip - thumb - hand
    ),
    center=1,
)

#: Every known skeleton layout by name.
SKELETON_GRAPHS: dict[str, SkeletonGraph] = {g.name: g for g in (STICK_FIGURE, NTU_RGBD)}


def get_skeleton_graph(name: str) -> SkeletonGraph:
    """The registered graph called ``name`` (``ValueError`` listing the known names otherwise)."""
    try:
        return SKELETON_GRAPHS[name]
    except KeyError:
        raise ValueError(f"Unknown skeleton {name!r}; known skeletons: "
                         f"{', '.join(SKELETON_GRAPHS)}.") from None
