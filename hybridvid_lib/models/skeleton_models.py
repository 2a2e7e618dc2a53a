"""Skeleton models: ST-GCN, graph convolutions over the joints and temporal convolutions over the frames.

``stgcn`` (Yan, Xiong and Lin, *Spatial Temporal Graph Convolutional Networks for Skeleton-Based
Action Recognition*, AAAI 2018) reads the ``joints`` of a clip, ``(B, T, J, C)`` (StickActions: x,
y, confidence) or ``(B, T, J, C, M)`` with ``M`` persons (NTU RGB+D: x, y, z of two bodies), and
never looks at a pixel. It is built like the other families, backbone then head:

- the **backbone** (:func:`build_stgcn_backbone`), a ``keras.Model`` named ``backbone``:
  ``{"joints": (B, T, J, C[, M])} -> (B, T', F)`` features per time step, averaged over the joints
  (and the persons), ``T' = T / (product of the temporal strides)`` rounded up. The shape is that of
  the frame models' backbones (``(B, T, F)``), so feature caches, fusion and sequence heads reuse it;
  ``model.get_layer("backbone").get_layer("block3_relu").output`` gives ``(B*M, T', J, F)`` per joint;
- the **head**: the mean over time (with the mean over joints, ST-GCN's global average pooling),
  then a softmax classifier computing in float32.

Inside the backbone, as in the released code (``net/st_gcn.py`` of ``yysijie/st-gcn``):

1. persons (when ``persons`` is set) are folded into the batch (:class:`~hybridvid_lib.layers.FoldPersons`):
   every person runs through the same network as a clip of its own;
2. ``data_bn``: batch normalisation of the input over its ``J * C`` values (one mean and variance per
   joint and channel), which also puts pixel, metre and confidence channels on one scale;
3. a stack of ST-GCN blocks (:func:`stgcn_block`): graph convolution
   (:class:`~hybridvid_lib.layers.GraphConv`, ``K`` partition subsets, learnable edge importance)
   -> BN -> ReLU -> temporal convolution ``(9, 1)`` with the block's stride -> BN -> dropout,
   plus a residual (none in the first block; identity, or a strided ``1 x 1`` convolution + BN
   when the width or the length changes) -> ReLU;
4. the mean over the joints, then over the persons (:class:`~hybridvid_lib.layers.PersonMean`,
   ST-GCN averages the persons' pooled features; the linear classifier makes that the average of
   the persons' scores before the softmax).

Sizes. The published network (``blocks="published"``) has ten blocks of 64, 64, 64, 64, 128, 128,
128, 256, 256, 256 channels with temporal stride 2 in the 5th and 8th, dropout 0.5 (pass
``dropout=0.5`` too) and edge importance on (``config/st_gcn/ntu-xview/train.yaml``): 3.10 M
parameters with the spatial strategy on NTU RGB+D's 25 joints and 60 classes (3.08 M on the stick
figure), about 170 ms a training step for a batch of 8 clips of 16 frames and 18 joints on 2 CPU
cores. The kit's default (``blocks="small"``) is three blocks of 16, 32 and 64
channels with stride 2 in the 2nd and 3rd (``T' = T / 4``) and dropout 0.1: 64k parameters for 18
joints and 12 classes, about 17 ms a training step on the same batch. It was chosen for speed and
checked on the *validation* groups of StickActions (preset ``default``, profile ``cpu``: 16 frames,
batch 8, Adam 1e-3, split 1 with 20% of its training groups held out), never on the test set: after
20 epochs (about 20 s of training on 2 cores) validation accuracy was 0.99 and 0.97 (seeds 0 and 1;
at least 0.91 from epoch 5 on), and the same with ``partition="uniform"`` (0.99, 0.97): StickActions'
clean 2D stick figures do not separate the partition strategies. ``width`` scales every block's
channels (``width=0.5`` halves them). Batch normalisation uses PyTorch's momentum, as ST-GCN
(``BN_MOMENTUM``).
"""

from __future__ import annotations

from typing import Sequence, Union

from hybridvid_lib.config import Settings
from hybridvid_lib.data.skeletons import get_skeleton_graph
from hybridvid_lib.layers import FoldPersons, FusedBatchNormalization, GraphConv, PersonMean, TemporalMean
from hybridvid_lib.models.graph_partitions import PARTITION_STRATEGIES, graph_partitions
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.models.trained import copy_backbone_weights
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

#: ``(channels, temporal stride)`` of every block of the published ST-GCN (``net/st_gcn.py``).
PUBLISHED_BLOCKS = ((64, 1), (64, 1), (64, 1), (64, 1), (128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1))
#: The kit's default: three blocks, small enough to train on 2 CPU cores (see "Sizes" in the module doc).
SMALL_BLOCKS = ((16, 1), (32, 2), (64, 2))
BLOCK_PRESETS = {"small": SMALL_BLOCKS, "published": PUBLISHED_BLOCKS}
DEFAULT_DROPOUT = 0.1
TEMPORAL_KERNEL = 9  # ST-GCN's temporal kernel: 9 frames
# PyTorch's default batch-norm momentum (0.1 of the new batch), which ST-GCN trains with. Keras's default
# (0.99) lets the moving statistics lag so far behind on StickActions that validation stayed at chance
# for the first 10 of 20 epochs while training accuracy passed 0.9.
BN_MOMENTUM = 0.9

Blocks = Union[str, Sequence[Sequence[int]]]


def resolve_blocks(blocks: Blocks, width: float = 1.0) -> tuple[tuple[int, int], ...]:
    """``(channels, stride)`` per block from a preset name or pairs, channels scaled by ``width``.

    Args:
        blocks: ``"small"`` (the kit's default), ``"published"`` (ST-GCN's ten blocks), or a
            sequence of ``(channels, temporal stride)`` pairs, e.g. ``[[16, 1], [32, 2]]``.
        width: multiplies every block's channels (rounded, at least 1).

    Raises:
        ValueError: an unknown preset, an empty list, or a pair that is not two positive whole numbers.
    """
    if isinstance(blocks, str):
        if blocks not in BLOCK_PRESETS:
            raise ValueError(f"Unknown blocks preset {blocks!r}; use one of {', '.join(BLOCK_PRESETS)} or a list "
                             f"of (channels, stride) pairs such as [[16, 1], [32, 2]].")
        blocks = BLOCK_PRESETS[blocks]
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0:
        raise ValueError(f"width must be a positive number (1.0: the listed channels); got {width!r}.")
    pairs = []
    for pair in blocks:
        ok = (isinstance(pair, (list, tuple)) and len(pair) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair))
        if not ok:
            raise ValueError(f"blocks must be (channels, temporal stride) pairs of positive whole numbers, e.g. "
                             f"[[16, 1], [32, 2]]; got {blocks!r}.")
        pairs.append((max(1, round(pair[0] * width)), int(pair[1])))
    if not pairs:
        raise ValueError("blocks must hold at least one (channels, temporal stride) pair.")
    return tuple(pairs)


def stgcn_block(x, channels: int, adjacency, *, stride: int = 1, residual: bool = True,
                temporal_kernel: int = TEMPORAL_KERNEL, dropout: float = 0.0, edge_importance: bool = True,
                name: str = "block"):
    """One ST-GCN unit on ``(B, T, J, C_in)`` in a functional model: ``(B, ceil(T / stride), J, channels)``.

    Layout (ST-GCN's ``st_gcn`` module): ``GraphConv(channels, adjacency)`` -> BN -> ReLU ->
    ``Conv2D(channels, (temporal_kernel, 1), strides=(stride, 1))`` -> BN -> dropout, plus the
    residual -> ReLU. The residual is the input itself when the shape is kept, a ``1 x 1`` convolution
    with stride ``(stride, 1)`` and BN when it is not, and nothing with ``residual=False`` (ST-GCN's
    first block). The convolutions before a BN have no bias (the BN's offset replaces it).

    Args:
        x: the block's input, ``(B, T, J, C_in)``.
        channels: ``C_out``.
        adjacency: ``(K, J, J)`` partition subsets (:func:`~hybridvid_lib.models.graph_partitions.graph_partitions`).
        stride: temporal stride (2 halves the frames).
        residual: add the residual connection.
        temporal_kernel: frames seen by the temporal convolution (odd; ST-GCN: 9).
        dropout: rate after the temporal BN.
        edge_importance: learn the ``(K, J, J)`` edge importance of the graph convolution.
        name: prefix of the layers' names (``{name}_gcn``, ``{name}_tcn``, ... ``{name}_relu``).
    """
    if not residual:
        shortcut = None
    elif x.shape[-1] == channels and stride == 1:
        shortcut = x
    else:
        shortcut = layers.Conv2D(channels, 1, strides=(stride, 1), use_bias=False, name=f"{name}_residual_conv")(x)
        shortcut = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_residual_bn")(shortcut)
    y = GraphConv(channels, adjacency, edge_importance=edge_importance, name=f"{name}_gcn")(x)
    y = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_gcn_bn")(y)
    y = layers.ReLU(name=f"{name}_gcn_relu")(y)
    y = layers.Conv2D(channels, (temporal_kernel, 1), strides=(stride, 1), padding="same", use_bias=False,
                      name=f"{name}_tcn")(y)
    y = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_tcn_bn")(y)
    y = layers.Dropout(dropout, name=f"{name}_dropout")(y)
    if shortcut is not None:
        y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_relu")(y)


def _check_options(partition, channels, persons, dropout, temporal_kernel):
    if partition not in PARTITION_STRATEGIES:
        raise ValueError(f"partition must be one of {', '.join(PARTITION_STRATEGIES)}; got {partition!r}.")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive whole number (3: x, y and confidence or z); got {channels!r}.")
    if persons is not None and (isinstance(persons, bool) or not isinstance(persons, int) or persons < 1):
        raise ValueError(f"persons must be None (input (B, T, J, C)) or a positive whole number M (input "
                         f"(B, T, J, C, M)); got {persons!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
    if isinstance(temporal_kernel, bool) or not isinstance(temporal_kernel, int) or temporal_kernel < 1 \
            or temporal_kernel % 2 == 0:
        raise ValueError(f"temporal_kernel must be an odd positive whole number (ST-GCN: 9); got {temporal_kernel!r}.")


def joints_input_shape(settings: Settings, *, graph: str = "stick_figure", channels: int = 3,
                       persons: int | None = None) -> tuple[int, ...]:
    """The ``joints`` input of a skeleton model without the batch: ``(T, J, C)`` or ``(T, J, C, M)``.

    ``T`` is ``settings.num_frames``, ``J`` the joints of the skeleton graph called ``graph``.
    """
    num_joints = get_skeleton_graph(graph).num_joints
    shape = (settings.num_frames, num_joints, channels)
    return shape if persons is None else shape + (persons,)


def build_stgcn_backbone(
    settings: Settings,
    *,
    graph: str = "stick_figure",
    channels: int = 3,
    persons: int | None = None,
    partition: str = "spatial",
    edge_importance: bool = True,
    blocks: Blocks = "small",
    width: float = 1.0,
    dropout: float = DEFAULT_DROPOUT,
    temporal_kernel: int = TEMPORAL_KERNEL,
) -> keras.Model:
    """ST-GCN's feature extractor: ``data_bn`` and the ST-GCN blocks, averaged over joints and persons.

    Args: as :func:`build_stgcn`.

    Returns:
        ``keras.Model`` named ``backbone``: ``{"joints": (B, T, J, C)}`` (or ``(B, T, J, C, M)``) float32
        -> ``(B, T', F)`` features, ``F`` the last block's channels, ``T'`` the frames after the strides.
    """
    _check_options(partition, channels, persons, dropout, temporal_kernel)
    pairs = resolve_blocks(blocks, width)
    skeleton = get_skeleton_graph(graph)  # looked up now: graphs registered later work too
    adjacency = graph_partitions(skeleton, partition)
    t, j = settings.num_frames, skeleton.num_joints

    joints = keras.Input(joints_input_shape(settings, graph=graph, channels=channels, persons=persons),
                         name="joints", dtype="float32")
    x = joints if persons is None else FoldPersons(name="fold_persons")(joints)  # (B*M, T, J, C)
    # data_bn: one mean and variance per joint and channel (ST-GCN's BatchNorm1d over V * C).
    x = layers.Reshape((t, j * channels), name="data_bn_flatten")(x)
    x = FusedBatchNormalization(momentum=BN_MOMENTUM, name="data_bn")(x)
    x = layers.Reshape((t, j, channels), name="data_bn_unflatten")(x)
    for i, (width_i, stride) in enumerate(pairs):
        x = stgcn_block(x, width_i, adjacency, stride=stride, residual=i > 0, temporal_kernel=temporal_kernel,
                        dropout=dropout, edge_importance=edge_importance, name=f"block{i + 1}")
    # Mean over the joints: (B*M, T', J, F) -> (B*M, J, T', F) -> (B*M, T', F).
    x = layers.Permute((2, 1, 3), name="joints_first")(x)
    x = TemporalMean(name="average_over_joints")(x)
    if persons is not None:
        x = PersonMean(persons, name="average_over_persons")(x)  # (B, T', F)
    return keras.Model({"joints": joints}, x, name="backbone")


@register_model("stgcn", family="skeleton", inputs=("joints",),
                description="ST-GCN: graph convolutions over the joints + temporal convolutions (skeleton only)")
def build_stgcn(
    settings: Settings,
    num_classes: int,
    *,
    graph: str = "stick_figure",
    channels: int = 3,
    persons: int | None = None,
    partition: str = "spatial",
    edge_importance: bool = True,
    blocks: Blocks = "small",
    width: float = 1.0,
    dropout: float = DEFAULT_DROPOUT,
    temporal_kernel: int = TEMPORAL_KERNEL,
    backbone_from: str | None = None,
) -> keras.Model:
    """ST-GCN: the skeleton clip through graph and temporal convolutions, pooled, classified.

    Args:
        settings: ``num_frames`` (T) sets the input's length.
        num_classes: number of classes C.
        graph: name of the skeleton in :data:`hybridvid_lib.data.skeletons.SKELETON_GRAPHS` (``"stick_figure"``:
            StickActions' 18 joints); it sets ``J``, the edges and the centre joint. It is looked up when the
            model is built, so any graph registered by then works.
        channels: channels per joint, ``C`` (3: x, y, confidence for StickActions, x, y, z for NTU RGB+D).
        persons: ``None`` for ``(B, T, J, C)`` inputs; ``M`` for ``(B, T, J, C, M)`` (NTU RGB+D: 2). Persons
            run through the network one by one and their features are averaged (as ST-GCN does).
        partition: the graph convolution's neighbour partition: ``"uniform"`` (1 subset), ``"distance"``
            (2: the joint, its neighbours) or ``"spatial"`` (3: the joint, the neighbour towards the centre,
            the neighbours away from it); see :mod:`hybridvid_lib.models.graph_partitions`.
        edge_importance: learn a ``(K, J, J)`` weight per bone in every block (ST-GCN's edge importance).
        blocks: ``"small"`` (default: 16, 32, 64 channels, strides 1, 2, 2), ``"published"`` (ST-GCN's ten
            blocks, 64 to 256 channels) or a list of ``(channels, temporal stride)`` pairs.
        width: multiplies the channels of every block.
        dropout: dropout rate inside every block (the published network: 0.5).
        temporal_kernel: frames seen by each temporal convolution (odd; ST-GCN: 9).
        backbone_from: a run folder of a trained ``stgcn`` with the same options; its backbone starts this one.

    Returns:
        ``keras.Model`` named ``stgcn``: ``{"joints": (B, T, J, C)}`` (or ``(B, T, J, C, M)``) float32 ->
        ``(B, C)`` float32 probabilities (rows sum to 1).

    Raises:
        ValueError: an unknown graph (the message lists the known ones), partition or blocks preset, or an
            option out of range.
    """
    backbone = build_stgcn_backbone(settings, graph=graph, channels=channels, persons=persons, partition=partition,
                                    edge_importance=edge_importance, blocks=blocks, width=width, dropout=dropout,
                                    temporal_kernel=temporal_kernel)
    if backbone_from:
        copy_backbone_weights(backbone_from, backbone)
    joints = keras.Input(backbone.input["joints"].shape[1:], name="joints", dtype="float32")
    x = backbone({"joints": joints})  # (B, T', F)
    x = TemporalMean(name="average_over_time")(x)  # with the joint mean: ST-GCN's global average pooling
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model({"joints": joints}, probs, name="stgcn")
