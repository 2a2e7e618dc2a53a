"""Inflating a 2D network into I3D (chapter 06): every 2D kernel repeated along time and divided by its length.

Carreira & Zisserman (2017, section 2.3) bootstrap I3D from an ImageNet Inception-v1: a ``k x k`` kernel
becomes ``t x k x k`` by repeating it ``t`` times along time and dividing by ``t``. Then on a *boring video*
(one frame repeated) every inflated convolution gives, away from the first and last frames, exactly
what the 2D convolution gives on that frame: the ``t`` copies of the kernel each see the same frame, and
the ``1 / t`` undoes the sum. Batch normalisation, ReLU and pooling act the same on equal frames, so the
whole inflated network's features on a boring video equal the 2D network's on its frame.

"Away from the first and last frames": the released I3D pads time with zeros (SAME), so an output step
whose receptive field reaches before the first frame or after the last sees zeros and differs. The check
compares the steps in the middle of a clip long enough to have some (:func:`boring_video_steps`).

The course has no ImageNet: :func:`build_inception_2d` is the same Inception-v1 in 2D, trained on
StickActions frames in chapter 06, standing in for it. Its layer names are the 3D ones with ``2d`` for
``3d`` (``Conv2d_1a_7x7.conv_2d``), so :func:`inflate_from_2d` pairs the layers by name.
"""

from __future__ import annotations

import numpy as np

from hybridvid_lib.models.i3d import (
    DEFAULT_DROPOUT, ENDPOINTS, LOGITS_SCOPE, MIXED_CHANNELS, POOLS, STEM_UNITS, inception_trunk, layer_name,
    layer_name_2d, output_steps,
)
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402


def build_inception_2d(num_classes: int, *, size: int | None, channels: int = 3, width: float = 1.0,
                       dropout: float = DEFAULT_DROPOUT, name: str = "inception_2d") -> keras.Model:
    """Inception-v1 in 2D with I3D's layers: ``{"frame": (B, S, S, channels)}`` -> ``{"probs", "logits", "features"}``.

    ``features`` is ``(B, F)``, the last block averaged over space; ``logits`` come from a 7 x 7 average pool
    (capped at the maps' size, as in :func:`~hybridvid_lib.models.i3d.final_pool_size`) and a 1 x 1
    convolution with bias, averaged over the remaining positions: I3D's head without time.
    """
    frame = keras.Input((size, size, channels), name="frame", dtype="float32")
    maps = inception_trunk(frame, width, rank=2)  # (B, S', S', F)
    features = layers.GlobalAveragePooling2D(name="features")(maps)
    side = 7 if maps.shape[1] is None else min(7, maps.shape[1])
    x = layers.AveragePooling2D(side, strides=1, padding="valid", name="Logits.AvgPool2d")(maps)
    x = layers.Dropout(dropout, name="Logits.dropout")(x)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name=layer_name_2d(f"{layer_name(LOGITS_SCOPE)}.conv_3d"))(x)
    logits = layers.GlobalAveragePooling2D(name="logits", dtype="float32")(x)
    probs = layers.Softmax(name="probs", dtype="float32")(logits)
    return keras.Model({"frame": frame}, {"probs": probs, "logits": logits, "features": features}, name=name)


def inflate_kernel(kernel_2d: np.ndarray, time: int) -> np.ndarray:
    """``(kH, kW, C_in, C_out)`` -> ``(time, kH, kW, C_in, C_out)``: repeated along time, divided by ``time``."""
    kernel_2d = np.asarray(kernel_2d)
    if kernel_2d.ndim != 4 or int(time) < 1:
        raise ValueError(f"inflate_kernel expects a (kH, kW, C_in, C_out) kernel and time >= 1; "
                         f"got shape {kernel_2d.shape} and time {time!r}.")
    return np.repeat(kernel_2d[None], int(time), axis=0) / float(time)


def inflate_from_2d(model_3d: keras.Model, model_2d: keras.Model) -> list[str]:
    """Set every convolution and batch norm of ``model_3d`` from its 2D twin in ``model_2d``; the 3D names set.

    Convolution kernels are inflated (:func:`inflate_kernel`), biases and batch-norm weights copied.

    Raises:
        ValueError: a 3D layer has no 2D twin, or the twin's weights do not fit (another width or input).
    """
    done = []
    for layer in model_3d.layers:
        if not isinstance(layer, (layers.Conv3D, layers.BatchNormalization)):
            continue
        twin_name = layer_name_2d(layer.name)
        try:
            twin = model_2d.get_layer(twin_name)
        except ValueError:
            raise ValueError(f"The 2D network has no layer {twin_name!r} to inflate {layer.name!r} from; "
                             "build both with the same width (build_inception_2d and the I3D builders).") from None
        weights = twin.get_weights()
        if isinstance(layer, layers.Conv3D):
            weights[0] = inflate_kernel(weights[0], layer.kernel.shape[0])
        expected = [tuple(w.shape) for w in layer.weights]
        if [tuple(w.shape) for w in weights] != expected:
            raise ValueError(f"Layer {layer.name!r} needs weights of shapes {expected}; its 2D twin gives "
                             f"{[tuple(w.shape) for w in weights]} after inflation (another width or channels?).")
        layer.set_weights(weights)
        done.append(layer.name)
    return done


def temporal_receptive_field() -> tuple[int, int]:
    """``(frames, stride)``: how many input frames one Mixed_5c step sees, and the frames between two steps.

    Walks the released layers along time: a kernel ``k`` adds ``(k - 1) * stride`` frames, a stride ``s``
    multiplies the stride; each Mixed block adds its 3-long kernels once (its branches run side by side).
    For I3D this is 99 frames at a stride of 8.
    """
    field, stride = 1, 1
    for endpoint in ENDPOINTS:
        if endpoint in POOLS:
            (k, *_), (s, *_) = POOLS[endpoint]
        elif endpoint in MIXED_CHANNELS:
            k, s = 3, 1
        else:
            _, _, (k, *_), (s, *_) = next(u for u in STEM_UNITS if u[0] == endpoint)
        field += (k - 1) * stride
        stride *= s
    return field, stride


def boring_video_steps(frames: int) -> list[int]:
    """Feature steps of a ``frames``-long clip whose receptive field stays clear of the zero padding.

    Step ``i`` sees about the frames ``i * stride + [-(field - stride) / 2, (field + stride) / 2]``; one stride
    of margin on each side covers SAME padding's uneven split.
    """
    field, stride = temporal_receptive_field()
    steps = output_steps(frames)
    return [i for i in range(steps)
            if i * stride - field / 2 - stride >= 0 and i * stride + field / 2 + 2 * stride <= frames]
