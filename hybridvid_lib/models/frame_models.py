"""Frame-level models (chapter 01): a small 2D CNN looks at every frame on its own.

Both models are built the same way, backbone then head (as Keras-Hub separates them):

- the **backbone** (:func:`build_frame_backbone`), a ``keras.Model`` named ``backbone``, runs
  the frame encoder (a small 2D CNN, :func:`build_frame_encoder`: one frame ``(S, S, 3)`` ->
  ``(F,)``) on all ``T`` frames of a clip with ``TimeDistributed``: ``{"rgb": (B, T, S, S, 3)}``
  -> ``(B, T, F)``. ``model.get_layer("backbone")`` is a feature extractor that fusion,
  feature caching and center loss reuse;
- the **head** turns the ``(B, T, F)`` sequence into class probabilities.

Each model builds its *own* backbone: the two models do not share weights. Their classifier
layers compute in float32 (``dtype="float32"``), so they stay exact under a mixed-precision
policy. ``backbone_from=RUN`` starts the backbone from the trained backbone of an earlier run
folder (e.g. a single-frame run, then an LSTM head on top).

``single_frame_cnn``
    encoder -> per-frame softmax -> **mean of the frame predictions** (Karpathy et al.,
    CVPR 2014, single-frame baseline). The average is blind to frame order: it cannot tell
    SitDown from StandUp, which is what chapter 01 shows.
``cnn_lstm``
    encoder -> per-frame features -> LSTM -> softmax on the last state (Donahue et al.,
    *Long-term Recurrent Convolutional Networks*, CVPR 2015, section 3.1): the LSTM reads the
    frames in order, so time-reversed actions become separable.

Optional frame mask: ``build_model(..., with_mask=True)`` adds a second input
``frame_mask`` ``(B, T)`` bool (``True`` = real frame). The LSTM skips masked steps and
the frame average leaves them out, so clips padded to ``T`` frames give the same answer
as their real frames alone. The kit's pipelines loop short videos instead of padding, so
the default models take clips only.

Sizes. The defaults (encoder filters 16-32-64, 128 features, LSTM of 128 units, dropout
0.1; about 290k parameters for ``cnn_lstm``) were chosen on the *validation* groups of
StickActions (preset ``default``, profile ``cpu``: 16 frames of 64 px, batch 8, Adam 1e-3,
30 epochs, split 1 with 20% of its training groups held out), never on the test set: with
them ``cnn_lstm`` reached validation accuracy 0.99, 0.96 and 0.90 after 30 epochs (seeds 0, 1
and 2); with 64 LSTM units and dropout 0.25 it reached 0.92 and 0.88 (seeds 0 and 1).
"""

from __future__ import annotations

from typing import Sequence

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import FusedBatchNormalization, TemporalMean
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.models.trained import copy_backbone_weights
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

# Defaults measured on StickActions (preset default, profile cpu): see "Sizes" in the module doc.
DEFAULT_FILTERS = (16, 32, 64)
DEFAULT_FEATURE_DIM = 128
DEFAULT_LSTM_UNITS = 128
DEFAULT_DROPOUT = 0.1


def _check_options(filters: Sequence[int], feature_dim: int, dropout: float) -> tuple[int, ...]:
    filters = tuple(int(f) for f in filters)
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be one or more positive channel counts, e.g. (16, 32, 64); got {filters!r}.")
    if feature_dim < 1:
        raise ValueError(f"feature_dim must be a positive whole number; got {feature_dim!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
    return filters


def build_frame_encoder(
    frame_size: int,
    *,
    channels: int = 3,
    filters: Sequence[int] = DEFAULT_FILTERS,
    feature_dim: int = DEFAULT_FEATURE_DIM,
    name: str = "frame_encoder",
) -> keras.Sequential:
    """The 2D CNN both frame models share: one frame ``(S, S, 3)`` -> features ``(F,)``.

    Layout: a 5x5 stride-2 convolution with ``filters[0]`` channels, then for every further
    entry of ``filters`` a 3x3 convolution; each convolution is followed by batch
    normalisation, ReLU and 2x2 max pooling. The map (``S / 2**(len(filters) + 1)`` pixels
    a side: 4 x 4 for 64-pixel frames) is flattened rather than averaged, because *where*
    the arms and legs are is the pose, then a dense layer makes ``feature_dim`` features.

    Args:
        frame_size: side ``S`` of the square input frames, pixels.
        channels: input channels: 3 for RGB, ``2L`` for a stack of ``L`` flow fields (chapter 02).
        filters: channels of the convolution blocks, one entry per block.
        feature_dim: length ``F`` of the feature vector.
        name: the model's name.

    Returns:
        A ``keras.Sequential``: ``(B, S, S, channels)`` float32 in [-1, 1] -> ``(B, F)`` float32 (ReLU).
    """
    filters = _check_options(filters, feature_dim, 0.0)
    if frame_size < 2 ** (len(filters) + 1):
        raise ValueError(f"frame_size {frame_size} is too small for {len(filters)} blocks; "
                         f"it must be at least {2 ** (len(filters) + 1)} pixels.")
    stack: list[keras.layers.Layer] = [keras.Input((frame_size, frame_size, channels), name="frame")]
    for i, f in enumerate(filters):
        kernel, stride = (5, 2) if i == 0 else (3, 1)
        stack += [
            layers.Conv2D(f, kernel, strides=stride, padding="same", use_bias=False, name=f"conv{i + 1}"),
            FusedBatchNormalization(name=f"bn{i + 1}"),
            layers.ReLU(name=f"relu{i + 1}"),
            layers.MaxPooling2D(2, name=f"pool{i + 1}"),
        ]
    stack += [layers.Flatten(name="flatten"), layers.Dense(feature_dim, activation="relu", name="features")]
    return keras.Sequential(stack, name=name)


def build_frame_backbone(settings: Settings, *, filters: Sequence[int] = DEFAULT_FILTERS,
                         feature_dim: int = DEFAULT_FEATURE_DIM) -> keras.Model:
    """The frame models' backbone: the frame encoder on every frame of a clip.

    Returns:
        ``keras.Model`` named ``backbone``: ``{"rgb": (B, T, S, S, 3)}`` float32 in [-1, 1] ->
        ``(B, T, F)`` float32 frame features (``F = feature_dim``).
    """
    t, s = settings.num_frames, settings.frame_size
    rgb = keras.Input((t, s, s, 3), name="rgb", dtype="float32")
    encoder = build_frame_encoder(s, filters=filters, feature_dim=feature_dim)
    features = layers.TimeDistributed(encoder, name="per_frame")(rgb)  # the B * T frames as one batch
    return keras.Model({"rgb": rgb}, features, name="backbone")


def _backbone_and_inputs(settings: Settings, filters, feature_dim, with_mask: bool, backbone_from):
    backbone = build_frame_backbone(settings, filters=filters, feature_dim=feature_dim)
    if backbone_from:
        copy_backbone_weights(backbone_from, backbone)
    rgb = keras.Input(backbone.input["rgb"].shape[1:], name="rgb", dtype="float32")
    inputs = {"rgb": rgb}
    if with_mask:
        inputs["frame_mask"] = keras.Input((settings.num_frames,), name="frame_mask", dtype="bool")
    return backbone({"rgb": rgb}), inputs


@register_model("single_frame_cnn", family="frame",
                description="2D CNN on every frame, frame predictions averaged (order-blind baseline)")
def build_single_frame_cnn(
    settings: Settings,
    num_classes: int,
    *,
    filters: Sequence[int] = DEFAULT_FILTERS,
    feature_dim: int = DEFAULT_FEATURE_DIM,
    dropout: float = DEFAULT_DROPOUT,
    with_mask: bool = False,
    backbone_from: str | None = None,
) -> keras.Model:
    """Single-frame baseline: every frame classified alone, the probabilities averaged over frames.

    Args:
        settings: ``num_frames`` (T) and ``frame_size`` (S) set the input shape.
        num_classes: number of classes C.
        filters, feature_dim: the frame encoder (:func:`build_frame_encoder`).
        dropout: dropout rate on the frame features.
        with_mask: add the ``frame_mask`` input ``(B, T)`` bool; masked frames are left out of the average.
        backbone_from: a run folder of a trained frame model; its backbone weights start this one.

    Returns:
        ``keras.Model`` named ``single_frame_cnn``: ``{"rgb": (B, T, S, S, 3)}`` float32 in
        [-1, 1] (and ``frame_mask``) -> ``(B, C)`` float32 probabilities (rows sum to 1).
    """
    filters = _check_options(filters, feature_dim, dropout)
    x, inputs = _backbone_and_inputs(settings, filters, feature_dim, with_mask, backbone_from)
    x = layers.Dropout(dropout, name="feature_dropout")(x)
    # Dense acts on the last axis, so this is one shared classifier per frame: (B, T, C).
    frame_probs = layers.Dense(num_classes, activation="softmax", name="frame_probs", dtype="float32")(x)
    probs = TemporalMean(name="average_over_frames", dtype="float32")(frame_probs, mask=inputs.get("frame_mask"))
    return keras.Model(inputs, probs, name="single_frame_cnn")


@register_model("cnn_lstm", family="frame",
                description="2D CNN on every frame -> LSTM over the frame features -> softmax (LRCN)")
def build_cnn_lstm(
    settings: Settings,
    num_classes: int,
    *,
    filters: Sequence[int] = DEFAULT_FILTERS,
    feature_dim: int = DEFAULT_FEATURE_DIM,
    lstm_units: int = DEFAULT_LSTM_UNITS,
    dropout: float = DEFAULT_DROPOUT,
    with_mask: bool = False,
    backbone_from: str | None = None,
) -> keras.Model:
    """CNN + LSTM (LRCN): frame features read in order by an LSTM, classified from its last state.

    Args:
        settings: ``num_frames`` (T) and ``frame_size`` (S) set the input shape.
        num_classes: number of classes C.
        filters, feature_dim: the frame encoder (:func:`build_frame_encoder`).
        lstm_units: size of the LSTM state.
        dropout: dropout rate on the frame features and on the LSTM output.
        with_mask: add the ``frame_mask`` input ``(B, T)`` bool; the LSTM skips masked frames.
        backbone_from: a run folder of a trained frame model; its backbone weights start this one.

    Returns:
        ``keras.Model`` named ``cnn_lstm``: ``{"rgb": (B, T, S, S, 3)}`` float32 in [-1, 1]
        (and ``frame_mask``) -> ``(B, C)`` float32 probabilities.
    """
    filters = _check_options(filters, feature_dim, dropout)
    if lstm_units < 1:
        raise ValueError(f"lstm_units must be a positive whole number; got {lstm_units!r}.")
    x, inputs = _backbone_and_inputs(settings, filters, feature_dim, with_mask, backbone_from)
    x = layers.Dropout(dropout, name="feature_dropout")(x)
    # (B, units): the state after the last real frame.
    x = layers.LSTM(lstm_units, name="lstm")(x, mask=inputs.get("frame_mask"))
    x = layers.Dropout(dropout, name="lstm_dropout")(x)
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model(inputs, probs, name="cnn_lstm")
