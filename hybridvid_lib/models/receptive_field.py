"""Receptive fields of convolution and pooling stacks (chapter 03): how many input frames (or pixels) a unit sees.

For a chain of layers with kernel ``k`` and stride ``s`` along one axis, the receptive field ``r`` and the
*jump* ``j`` (input steps between two neighbouring units) grow as::

    r_out = r_in + (k - 1) * j_in        j_out = j_in * s        (r = 1, j = 1 at the input)

(Araujo, Norris, Sim, *Computing Receptive Fields of Convolutional Neural Networks*, Distill 2019.) With
``padding="same"`` a unit near the clip's ends sees fewer real frames; ``frames_seen`` caps ``r`` at the input
length. Layers that mix the whole axis (``Flatten`` + ``Dense``, global pooling) see all of it.

Example::

    from hybridvid_lib.models import build_model
    from hybridvid_lib.models.receptive_field import receptive_fields
    for row in receptive_fields(build_model("c3d", settings, 12), axis="time"):
        print(row["layer"], row["receptive_field"], row["output_length"])
"""

from __future__ import annotations

from typing import Any, Sequence

AXES = {"time": 0, "height": 1, "width": 2}


def chain_receptive_fields(kernels: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Receptive field (input steps) after each layer of a chain: ``kernels[i]``, ``strides[i]`` per layer.

    Raises:
        ValueError: the two lists differ in length, or a kernel or stride is below 1.
    """
    if len(kernels) != len(strides):
        raise ValueError(f"kernels and strides need one entry per layer; got {len(kernels)} and {len(strides)}.")
    field, jump, out = 1, 1, []
    for k, s in zip(kernels, strides):
        if int(k) < 1 or int(s) < 1:
            raise ValueError(f"kernel and stride must be at least 1; got kernel {k!r}, stride {s!r}.")
        field += (int(k) - 1) * jump
        jump *= int(s)
        out.append(field)
    return out


def _flat_layers(model: Any) -> list[Any]:
    """The layers of a (nested) functional model in order, nested models opened."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers and not hasattr(layer, "layer"):
            out.extend(_flat_layers(layer))
        else:
            out.append(layer)
    return out


def receptive_fields(model: Any, axis: str = "time") -> list[dict[str, Any]]:
    """One row per 3D convolution or pooling layer of ``model``, along ``axis`` (``time``, ``height``, ``width``).

    Args:
        model: a Keras model whose convolutions are ``Conv3D`` / ``MaxPooling3D`` / ``AveragePooling3D``
            layers on ``(B, T, H, W, C)`` tensors, in a chain (such as ``c3d`` and its backbone).
        axis: which axis of the clip.

    Returns:
        Rows ``{"layer", "kernel", "stride", "receptive_field", "frames_seen", "jump", "output_length"}``:
        ``receptive_field`` input steps one unit of that layer's output depends on (``frames_seen``: capped at
        the input length), ``jump`` input steps between neighbouring units, ``output_length`` units along the axis.

    Raises:
        ValueError: an unknown axis, or a model without such layers.
    """
    if axis not in AXES:
        raise ValueError(f"axis must be one of {', '.join(AXES)}; got {axis!r}.")
    import keras  # noqa: PLC0415

    dim = AXES[axis]
    length = model.inputs[0].shape[1 + dim]
    field, jump, rows = 1, 1, []
    for layer in _flat_layers(model):
        if isinstance(layer, keras.layers.Conv3D):
            kernel, stride = layer.kernel_size[dim], layer.strides[dim]
            kernel = (kernel - 1) * layer.dilation_rate[dim] + 1
        elif isinstance(layer, (keras.layers.MaxPooling3D, keras.layers.AveragePooling3D)):
            kernel, stride = layer.pool_size[dim], layer.strides[dim]
        else:
            continue
        field += (kernel - 1) * jump
        jump *= stride
        rows.append({"layer": layer.name, "kernel": int(kernel), "stride": int(stride),
                     "receptive_field": int(field), "frames_seen": int(min(field, length)) if length else int(field),
                     "jump": int(jump), "output_length": int(layer.output.shape[1 + dim])})
    if not rows:
        raise ValueError(f"{model.name!r} has no Conv3D or 3D pooling layer: its receptive field along {axis} "
                         "is not defined by this function.")
    return rows
