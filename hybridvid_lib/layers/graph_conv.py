"""``GraphConv``: ST-GCN's spatial graph convolution over the joints of a skeleton, K partitions.

Introduced with ST-GCN (the skeleton chapter). In every frame each joint gathers the features
of its neighbours along the bones, with one set of weights per *partition subset* (the joint
itself, the neighbour towards the body's centre, the neighbours away from it: see
:mod:`hybridvid_lib.models.graph_partitions`). The time axis is left alone; ST-GCN follows each
graph convolution with a ``(9, 1)`` temporal convolution (a plain ``keras.layers.Conv2D``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class GraphConv(keras.layers.Layer):
    """Spatial graph convolution: ``out[w] = sum_k sum_v (A_k * M_k)[v, w] * (x[v] @ W_k + b_k)``.

    A ``1 x 1`` convolution (one dense kernel shared by every joint and frame) makes ``K * units``
    channels, ``units`` per subset ``k``; the features of subset ``k`` are then gathered along the
    graph with ``A_k`` and the ``K`` results summed. This is ST-GCN's ``ConvTemporalGraphical``
    with a temporal kernel of 1.

    Args:
        units: output channels per joint, ``C_out``.
        adjacency: ``(K, J, J)`` (or ``(J, J)``, then ``K = 1``) non-negative constant,
            ``A[k, v, w]`` = weight of source joint ``v`` for target joint ``w`` in subset ``k``,
            e.g. from :func:`hybridvid_lib.models.graph_partitions.graph_partitions`. It is part of
            the layer's config (a nested list), not a weight: a ``.keras`` file holds it and loads
            in safe mode.
        edge_importance: learn ST-GCN's edge importance ``M``, a trainable ``(K, J, J)`` mask
            multiplied element-wise with ``A`` (initialised to ones, so training starts from the
            plain graph). Entries where ``A`` is 0 get no gradient: bones are re-weighted, never
            added.
        use_bias: add a bias per subset and output channel before the gathering (as ST-GCN's
            convolution does), so joints with larger neighbour sets get the bias summed over them.
        kernel_initializer, bias_initializer: initialisers of the ``(C_in, K * units)`` kernel and
            the ``(K * units,)`` bias.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, frames, joints, C_in)`` float (any number of axes before ``joints``:
            ``(batch, joints, C_in)`` works too); ``joints`` must be ``J`` of ``adjacency``.

    Returns:
        ``(batch, frames, joints, units)`` in the layer's compute dtype.

    Example::

        from hybridvid_lib.data.skeletons import STICK_FIGURE
        from hybridvid_lib.models.graph_partitions import graph_partitions
        gcn = GraphConv(64, graph_partitions(STICK_FIGURE, "spatial"))   # (B, T, 18, 3) -> (B, T, 18, 64)

    Reference: Yan, Xiong and Lin, *Spatial Temporal Graph Convolutional Networks for
    Skeleton-Based Action Recognition*, AAAI 2018 (equations 9-10 and "Learnable edge importance
    weighting"); code ``net/utils/tgcn.py`` and ``net/st_gcn.py`` in ``yysijie/st-gcn``.
    """

    def __init__(self, units: int, adjacency: Any, *, edge_importance: bool = True, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"GraphConv needs units >= 1 (output channels per joint); got {units!r}.")
        self.units = int(units)
        self.adjacency = _check_adjacency(adjacency)
        self.edge_importance = bool(edge_importance)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    @property
    def num_subsets(self) -> int:
        """``K``, the number of partition subsets."""
        return int(self.adjacency.shape[0])

    @property
    def num_joints(self) -> int:
        """``J``, the number of joints the layer expects."""
        return int(self.adjacency.shape[1])

    def build(self, input_shape):
        if len(input_shape) < 3 or input_shape[-1] is None:
            raise ValueError(f"GraphConv expects (batch, frames, joints, channels) inputs with a known channel "
                             f"count; got shape {tuple(input_shape)}.")
        if input_shape[-2] != self.num_joints:
            raise ValueError(f"GraphConv's adjacency is for {self.num_joints} joints, but the input has "
                             f"{input_shape[-2]} on its joints axis (shape {tuple(input_shape)}): build the "
                             f"adjacency from the skeleton graph of the data.")
        k, j = self.num_subsets, self.num_joints
        self.kernel = self.add_weight(name="kernel", shape=(int(input_shape[-1]), k * self.units),
                                      initializer=self.kernel_initializer)
        self.bias = (self.add_weight(name="bias", shape=(k * self.units,), initializer=self.bias_initializer)
                     if self.use_bias else None)
        self.importance = (self.add_weight(name="edge_importance", shape=(k, j, j), initializer="ones")
                           if self.edge_importance else None)
        super().build(input_shape)

    def call(self, inputs):
        k, j = self.num_subsets, self.num_joints
        h = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype))  # (..., J, K * units)
        if self.bias is not None:
            h = h + ops.cast(self.bias, inputs.dtype)
        leading = ops.shape(inputs)[:-2]
        h = ops.reshape(h, (-1, j, k, self.units))  # (N, J, K, units), N = every leading axis
        adjacency = ops.convert_to_tensor(self.adjacency, dtype=inputs.dtype)
        if self.importance is not None:
            adjacency = adjacency * ops.cast(self.importance, inputs.dtype)
        out = ops.einsum("nvkc,kvw->nwc", h, adjacency)  # gather along the graph, sum over subsets
        return ops.reshape(out, tuple(leading) + (j, self.units))

    def effective_adjacency(self) -> np.ndarray:
        """``A * M`` as numpy ``(K, J, J)`` float32: the graph the layer uses now (``A`` without edge importance)."""
        if self.importance is None:
            return self.adjacency.copy()
        return (self.adjacency * np.asarray(ops.convert_to_numpy(self.importance), np.float32)).astype(np.float32)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "adjacency": self.adjacency.tolist(),
            "edge_importance": self.edge_importance,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        })
        return config


def _check_adjacency(adjacency: Any) -> np.ndarray:
    a = np.asarray(adjacency, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"GraphConv's adjacency must be (K, J, J) or (J, J); got shape {np.shape(adjacency)}.")
    if not np.all(np.isfinite(a)) or (a < 0).any():
        raise ValueError("GraphConv's adjacency must hold finite, non-negative weights.")
    return a
