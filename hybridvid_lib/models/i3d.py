"""I3D (chapter 06): Inception-v1 inflated to 3D, as released with the Kinetics checkpoints.

Carreira & Zisserman, *Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset*, CVPR 2017,
and the released definition (``i3d.py`` of ``deepmind/kinetics-i3d``), layer by layer::

    Conv3d_1a_7x7 (64, stride 2) -> MaxPool3d_2a_3x3 (1x3x3, stride 1x2x2) -> Conv3d_2b_1x1 (64)
    -> Conv3d_2c_3x3 (192) -> MaxPool3d_3a_3x3 (1x3x3, stride 1x2x2) -> Mixed_3b, Mixed_3c
    -> MaxPool3d_4a_3x3 (3x3x3, stride 2) -> Mixed_4b ... Mixed_4f -> MaxPool3d_5a_2x2 (2x2x2, stride 2)
    -> Mixed_5b, Mixed_5c -> Logits: AvgPool 2x7x7 (valid, stride 1), dropout, Conv3d_0c_1x1 (bias),
    squeezed over space, averaged over time

Every unit is ``Conv3D`` (padding SAME, no bias) + ``BatchNormalization`` (no scale, epsilon 1e-3) + ReLU
(the batch norm is :class:`~hybridvid_lib.layers.FusedBatchNormalization`: Keras' layer, trained through
TensorFlow's fused kernel); every Mixed block has four branches (1x1x1; 1x1x1 -> 3x3x3; 1x1x1 -> 3x3x3;
3x3x3 max pool -> 1x1x1), concatenated. Pooling is SAME except the final average pool.

Layer names follow the released variable scopes with ``.`` for ``/`` (Keras names cannot hold ``/``):
``Mixed_4b.Branch_1.Conv3d_0b_3x3.conv_3d`` is the checkpoint's ``Mixed_4b/Branch_1/Conv3d_0b_3x3/conv_3d``.
The released code names one layer irregularly, and its checkpoints carry that name: Mixed_5b's Branch_2
3x3x3 unit is ``Conv3d_0a_3x3`` (every other block says ``Conv3d_0b_3x3``). :func:`mixed_unit_names`
holds that rule in one place, for the model and the checkpoint import alike.

The kit's additions, each an option:

- ``width``: every channel count times ``width`` (at least 4): the profile picks it (``DEFAULT_WIDTH``);
  1.0 is the released net, which the Kinetics checkpoints need.
- ``final_pool``: the released ``2 x 7 x 7`` average pool expects 224-pixel frames; for the course's smaller
  frames the pool is ``min(2, T') x min(7, S') x min(7, S')`` (``None``, the default), so the logits still
  see the whole frame.
- outputs: ``probs`` (softmax of the time-averaged logits), ``logits`` (the time-averaged logits, as
  the released code returns them) and ``features`` ``(B, T', F)``: Mixed_5c pooled over space, one vector
  per time step (``T' = ceil(T / 8)``), the sequence the hybrid of chapter 07 reads.

Inputs: ``{"rgb": (B, T, S, S, 3)}`` in [-1, 1] (``i3d_rgb``), ``{"flow": (B, T, S, S, 2)}`` in [-1, 1]
(``i3d_flow``), or both (``i3d_two_stream``, whose logits are the average of the two streams').
"""

from __future__ import annotations

import math
from typing import Any

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import FusedBatchNormalization
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

#: Output channels of each Mixed block, as released: (Branch_0 1x1x1, Branch_1 1x1x1, Branch_1 3x3x3,
#: Branch_2 1x1x1, Branch_2 3x3x3, Branch_3 1x1x1 after the pool).
MIXED_CHANNELS: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
#: The units before the first Mixed block: (scope, channels, kernel, stride).
STEM_UNITS = (("Conv3d_1a_7x7", 64, (7, 7, 7), (2, 2, 2)), ("Conv3d_2b_1x1", 64, (1, 1, 1), (1, 1, 1)),
              ("Conv3d_2c_3x3", 192, (3, 3, 3), (1, 1, 1)))
#: Max pools between the blocks: scope -> (kernel, stride), before the block named in the key's position.
POOLS = {"MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)), "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
         "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)), "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2))}
#: The endpoints in order, as the released ``InceptionI3d.VALID_ENDPOINTS`` (without Logits/Predictions).
ENDPOINTS = ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
             "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
             "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c")
LOGITS_SCOPE = "Logits/Conv3d_0c_1x1"
BN_EPSILON = 1e-3  # Sonnet's BatchNorm default, which the checkpoints were trained with
# Keras' default momentum (0.99) lets the moving statistics lag far behind on the course's few hundred
# clips (see skeleton_models.py); 0.9 follows them. Imported checkpoints set the statistics directly.
BN_MOMENTUM = 0.9
DEFAULT_WIDTH = {"smoke": 0.125, "cpu": 0.25, "gpu": 1.0}
DEFAULT_DROPOUT = 0.5  # the published fine-tuning recipe (keep probability 0.5)
#: The learning-rate schedule the streams train with in chapters 06-08, whatever the profile's: the cosine, with
#: 40 epochs on `cpu` in chapter 06 and 40 fine-tuning epochs in chapter 08. At 20 epochs the streams were still
#: learning at their last epoch (training accuracy about 0.6), the cosine's shrinking steps could only slow them and
#: the schedule made no measurable difference (chapter 06's i3d_rgb, seed 0: 79 of 144 test videos with each;
#: fine-tuned on the hard preset 0.58 constant, 0.59 cosine), while two runs at the same constant rate differed more
#: (0.55 and 0.66: thread counts change the order of float sums). A higher constant rate is no way out: 3e-3 left
#: the RGB stream at chance on the hard preset. What held them back was the length of training: fine-tuned on the
#: hard preset (seed 0, 288 test videos), RGB scored 0.58 after 20 epochs and 0.74 after 40 (training accuracy
#: 0.59 -> 0.83, still rising), flow 0.44 -> 0.49; at 20 epochs neither dropout 0 (0.60) nor 96-pixel frames (0.64,
#: 2.2x the FLOPs) came near. XLA does not buy the epochs on a CPU: it trained i3d_rgb at 6 clips/s against 57.
#: Length and schedule together do (StickActions version 3, default preset, `hybridvid train --val`, seed 0, 144
#: test videos, from scratch, 2 threads alone): i3d_rgb 0.632 after 20 epochs constant (100 s), 0.688 after 30 cosine
#: (125 s), 0.778 after 40 cosine (172 s, validation 0.86); i3d_flow 0.785 after 40 cosine (159 s). The course run
#: with 20 constant epochs gave chapter 06's streams, inflated, 0.50 / 0.59 / 0.51 (RGB) and 0.69 / 0.67 / 0.67
#: (flow) over seeds 0-2. Fine-tuned on the hard preset from the 40-epoch RGB stream (288 test videos, seed 0):
#: 20 epochs constant 0.576 (194 s), 40 epochs cosine 0.767 (381 s, training accuracy 0.95), against 0.656 in that
#: course run. So the better start pays only with the longer cosine fine-tuning too. The cost: about 2 more minutes
#: per stream and seed in chapter 06 and 4 per stream in chapter 08's first seed (20 epochs: 93-110 s, 217-231 s).
#: The gpu profile's streams follow the same schedule with the profile's epochs.
STREAM_LR_SCHEDULE = "cosine"


def mixed_unit_names(block: str) -> tuple[str, str, str, str, str, str]:
    """The six unit scopes of a Mixed block, relative to it, in :data:`MIXED_CHANNELS` order.

    ``Mixed_5b`` keeps the released irregular name ``Branch_2/Conv3d_0a_3x3`` for its second Branch_2 unit.
    """
    branch2 = "Conv3d_0a_3x3" if block == "Mixed_5b" else "Conv3d_0b_3x3"
    return ("Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1", "Branch_1/Conv3d_0b_3x3",
            "Branch_2/Conv3d_0a_1x1", f"Branch_2/{branch2}", "Branch_3/Conv3d_0b_1x1")


def unit_scopes() -> list[str]:
    """Every Conv + BatchNorm unit's scope, in network order (``Conv3d_1a_7x7``, ..., ``Mixed_5c/Branch_3/...``)."""
    scopes = [scope for scope, *_ in STEM_UNITS]
    for block in MIXED_CHANNELS:
        scopes += [f"{block}/{unit}" for unit in mixed_unit_names(block)]
    return scopes


def layer_name(scope: str) -> str:
    """Keras layer name of a released variable scope: ``"Mixed_3b/Branch_0"`` -> ``"Mixed_3b.Branch_0"``."""
    return scope.replace("/", ".")


def i3d_width(settings: Settings, width: float | None) -> float:
    """The width multiplier: the option, else the profile's (``DEFAULT_WIDTH``)."""
    value = DEFAULT_WIDTH.get(settings.profile, 0.25) if width is None else float(width)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"width must be in (0, 1], a fraction of the released I3D; got {width!r}.")
    return value


def scaled(channels: int, width: float) -> int:
    """``channels * width`` rounded, at least 4 (1.0 keeps the released count)."""
    return channels if width == 1.0 else max(4, round(channels * width))


def layer_name_2d(name: str) -> str:
    """The 2D twin of a 3D layer name: ``Conv3d_1a_7x7.conv_3d`` -> ``Conv2d_1a_7x7.conv_2d`` (inflation pairs them)."""
    return name.replace("Conv3d", "Conv2d").replace("MaxPool3d", "MaxPool2d").replace("conv_3d", "conv_2d")


def _named(name: str, rank: int) -> str:
    return name if rank == 3 else layer_name_2d(name)


def _unit(x, channels: int, kernel, scope: str, *, stride=(1, 1, 1), rank: int = 3):
    """Conv (SAME, no bias) + BatchNorm (no scale) + ReLU, named after ``scope``; ``rank`` 2 drops time."""
    conv = layers.Conv3D if rank == 3 else layers.Conv2D
    kernel, stride = (tuple(kernel), tuple(stride)) if rank == 3 else (tuple(kernel)[1:], tuple(stride)[1:])
    name = _named(layer_name(scope), rank)
    x = conv(channels, kernel, strides=stride, padding="same", use_bias=False,
             name=_named(f"{layer_name(scope)}.conv_3d", rank))(x)
    x = FusedBatchNormalization(scale=False, epsilon=BN_EPSILON, momentum=BN_MOMENTUM,
                                name=f"{name}.batch_norm")(x)
    return layers.ReLU(name=f"{name}.relu")(x)


def _max_pool(x, kernel, stride, name: str, rank: int):
    name = _named(name, rank)
    if rank == 3:
        return layers.MaxPooling3D(kernel, strides=stride, padding="same", name=name)(x)
    return layers.MaxPooling2D(kernel[1:], strides=stride[1:], padding="same", name=name)(x)


def _mixed(x, block: str, width: float, rank: int):
    c = [scaled(v, width) for v in MIXED_CHANNELS[block]]
    names = [f"{block}/{unit}" for unit in mixed_unit_names(block)]
    b0 = _unit(x, c[0], (1, 1, 1), names[0], rank=rank)
    b1 = _unit(_unit(x, c[1], (1, 1, 1), names[1], rank=rank), c[2], (3, 3, 3), names[2], rank=rank)
    b2 = _unit(_unit(x, c[3], (1, 1, 1), names[3], rank=rank), c[4], (3, 3, 3), names[4], rank=rank)
    pooled = _max_pool(x, (3, 3, 3), (1, 1, 1), layer_name(f"{block}/Branch_3/MaxPool3d_0a_3x3"), rank)
    b3 = _unit(pooled, c[5], (1, 1, 1), names[5], rank=rank)
    return layers.Concatenate(axis=-1, name=layer_name(f"{block}/concat"))([b0, b1, b2, b3])


def inception_trunk(x, width: float, *, rank: int = 3):
    """Conv3d_1a_7x7 ... Mixed_5c on ``x`` (``(B, T, S, S, C)``, or ``(B, S, S, C)`` with ``rank=2``).

    Returns the Mixed_5c maps ``(B, T', S', S', F)`` with ``T' = ceil(T / 8)``, ``S' = ceil(S / 32)``,
    ``F = 1024 * width`` (rounded per branch).
    """
    for endpoint in ENDPOINTS:
        if endpoint in POOLS:
            kernel, stride = POOLS[endpoint]
            x = _max_pool(x, kernel, stride, endpoint, rank)
        elif endpoint in MIXED_CHANNELS:
            x = _mixed(x, endpoint, width, rank)
        else:
            _, channels, kernel, stride = next(u for u in STEM_UNITS if u[0] == endpoint)
            x = _unit(x, scaled(channels, width), kernel, endpoint, stride=stride, rank=rank)
    return x


def final_pool_size(time_steps: int | None, size: int | None, final_pool: tuple[int, int, int] | None):
    """The Logits average pool: ``final_pool`` if given, else the released 2x7x7 capped at the maps' size."""
    if final_pool is not None:
        return tuple(int(v) for v in final_pool)
    if size is None:
        return (2, 7, 7)
    t = 2 if time_steps is None else min(2, time_steps)
    return (t, min(7, size), min(7, size))


def build_i3d_stream(num_classes: int, *, channels: int, frames: int | None, size: int | None,
                     width: float = 1.0, dropout: float = DEFAULT_DROPOUT,
                     final_pool: tuple[int, int, int] | None = None, input_name: str = "rgb",
                     name: str = "i3d") -> keras.Model:
    """One I3D stream: ``{input_name: (B, T, S, S, channels)}`` -> ``{"probs", "logits", "features"}``.

    Args:
        num_classes: logits of the ``Conv3d_0c_1x1`` classifier (400 for the Kinetics-400 checkpoints).
        channels: 3 for RGB, 2 for flow.
        frames, size: ``T`` and ``S`` of the input; ``None`` accepts any (the imported checkpoints).
        width: channel multiplier (1.0: released).
        dropout: before the classifier, in training only.
        final_pool: the Logits average pool; see :func:`final_pool_size`.

    Returns:
        A model with outputs ``probs`` ``(B, C)`` float32, ``logits`` ``(B, C)`` (averaged over the
        pooled time steps) and ``features`` ``(B, T', F)`` (Mixed_5c averaged over space).
    """
    inputs = keras.Input((frames, size, size, channels), name=input_name, dtype="float32")
    maps = inception_trunk(inputs, width)  # (B, T', S', S', F)
    features = layers.TimeDistributed(layers.GlobalAveragePooling2D(), name="features")(maps)
    pool = final_pool_size(maps.shape[1], maps.shape[2], final_pool)
    x = layers.AveragePooling3D(pool, strides=(1, 1, 1), padding="valid", name="Logits.AvgPool3d")(maps)
    x = layers.Dropout(dropout, name="Logits.dropout")(x)
    x = layers.Conv3D(num_classes, 1, use_bias=True, name=f"{layer_name(LOGITS_SCOPE)}.conv_3d")(x)
    x = layers.Reshape((-1, num_classes), name="Logits.SpatialSqueeze")(x)  # (B, T'', C): 1 x 1 in space
    logits = layers.GlobalAveragePooling1D(name="logits", dtype="float32")(x)
    probs = layers.Softmax(name="probs", dtype="float32")(logits)
    return keras.Model({input_name: inputs}, {"probs": probs, "logits": logits, "features": features}, name=name)


def _stream(settings: Settings, num_classes: int, channels: int, input_name: str, name: str,
            width: float | None, dropout: float, final_pool) -> keras.Model:
    return build_i3d_stream(num_classes, channels=channels, frames=settings.num_frames, size=settings.frame_size,
                            width=i3d_width(settings, width), dropout=dropout, final_pool=final_pool,
                            input_name=input_name, name=name)


@register_model("i3d_rgb", family="3d", inputs=("rgb",), outputs=("probs", "logits", "features"),
                description="I3D RGB stream: Inception-v1 inflated to 3D (Carreira & Zisserman)")
def build_i3d_rgb(settings: Settings, num_classes: int, *, width: float | None = None,
                  dropout: float = DEFAULT_DROPOUT, final_pool: Any = None) -> keras.Model:
    """``{"rgb": (B, T, S, S, 3)}`` in [-1, 1] -> ``{"probs", "logits", "features" (B, T', F)}``."""
    return _stream(settings, num_classes, 3, "rgb", "i3d_rgb", width, dropout, final_pool)


@register_model("i3d_flow", family="3d", inputs=("flow",), outputs=("probs", "logits", "features"),
                description="I3D flow stream: the same network on 2-channel optical flow")
def build_i3d_flow(settings: Settings, num_classes: int, *, width: float | None = None,
                   dropout: float = DEFAULT_DROPOUT, final_pool: Any = None) -> keras.Model:
    """``{"flow": (B, T, S, S, 2)}`` in [-1, 1] -> ``{"probs", "logits", "features" (B, T', F)}``."""
    return _stream(settings, num_classes, 2, "flow", "i3d_flow", width, dropout, final_pool)


@register_model("i3d_two_stream", family="3d", inputs=("rgb", "flow"), outputs=("probs", "logits"),
                description="two-stream I3D: RGB and flow streams, their logits averaged")
def build_i3d_two_stream(settings: Settings, num_classes: int, *, width: float | None = None,
                         dropout: float = DEFAULT_DROPOUT, final_pool: Any = None) -> keras.Model:
    """``{"rgb": (B, T, S, S, 3), "flow": (B, T, S, S, 2)}`` -> ``{"probs", "logits"}``.

    The logits are the mean of the two streams' logits (the released evaluation sums them; the softmax of a
    sum and of a mean rank the classes alike).
    """
    rgb = build_i3d_rgb(settings, num_classes, width=width, dropout=dropout, final_pool=final_pool)
    flow = build_i3d_flow(settings, num_classes, width=width, dropout=dropout, final_pool=final_pool)
    inputs = {"rgb": keras.Input(rgb.input["rgb"].shape[1:], name="rgb"),
              "flow": keras.Input(flow.input["flow"].shape[1:], name="flow")}
    # Each stream is one nested layer, so both keep the released layer names inside.
    rgb_out, flow_out = rgb({"rgb": inputs["rgb"]}), flow({"flow": inputs["flow"]})
    logits = layers.Average(name="logits", dtype="float32")([rgb_out["logits"], flow_out["logits"]])
    probs = layers.Softmax(name="probs", dtype="float32")(logits)
    return keras.Model(inputs, {"probs": probs, "logits": logits}, name="i3d_two_stream")


def output_steps(frames: int) -> int:
    """``T'``: feature time steps for ``frames`` input frames (three stride-2 steps in time, SAME)."""
    return math.ceil(math.ceil(math.ceil(frames / 2) / 2) / 2)


def with_clip_length(model: keras.Model, frames: int | None) -> keras.Model:
    """The same I3D stream (same weights) for clips of ``frames`` frames (``None``: any length).

    A stream trained on 16-frame clips gives a 2-step feature sequence; the hybrid reads longer ones (chapter
    07 extracts 40-frame clips, 5 steps). Every I3D layer is convolutional in time, so the weights fit any
    length: the stream is rebuilt with the input's new ``T`` and the weights copied. Width, classes, input
    and the Logits pool are read from ``model``.

    Raises:
        ValueError: ``model`` is not an I3D stream built by :func:`build_i3d_stream`.
    """
    try:
        first = model.get_layer(f"{layer_name('Conv3d_1a_7x7')}.conv_3d")
        classifier = model.get_layer(f"{layer_name(LOGITS_SCOPE)}.conv_3d")
        pool = model.get_layer("Logits.AvgPool3d").pool_size
    except ValueError:
        raise ValueError(f"{model.name} is not an I3D stream (no Conv3d_1a_7x7 or Logits layer).") from None
    (input_name, tensor), = dict(model.input).items()
    width = first.filters / 64  # the released stem has 64 filters; scaled() keeps at least 4
    rebuilt = build_i3d_stream(classifier.filters, channels=int(tensor.shape[-1]), frames=frames,
                               size=tensor.shape[2], width=1.0 if first.filters == 64 else width,
                               final_pool=tuple(pool), input_name=input_name, name=model.name)
    rebuilt.set_weights(model.get_weights())
    return rebuilt
