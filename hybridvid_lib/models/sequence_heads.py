"""Heads on cached I3D feature sequences (chapters 07-08): the hybrid's LSTM part and the rows of its ablation.

The seed paper's system (section 4.2): RGB-I3D and Flow-I3D feature sequences, fused (then dropout at
``feature_dropout``, 0.5 as before the released I3D's classifier; see :data:`DEFAULT_FEATURE_DROPOUT`), into a stacked
bidirectional LSTM, temporal attention over its outputs, fully connected layers and a softmax; trained
with Adam (lr 1e-3, betas 0.9 / 0.999). The I3D features are computed once per clip
(``hybridvid features extract``) and cached, so each head here trains in seconds on them.

=========================  ===========================================================================
``i3d_lstm``               fused features -> one LSTM -> its last state -> FC -> softmax (3D CNN + LSTM)
``i3d_bilstm``             -> stacked BiLSTM -> mean over time -> FC -> softmax (bidirectional, no attention)
``i3d_bilstm_attention``   -> stacked BiLSTM -> temporal attention -> FC -> softmax; returns the weights
``hybrid``                 the same, trained with center loss on the attention-pooled vector (the full system)
=========================  ===========================================================================

Input: ``{"features": (B, T', D)}`` float32, ``D = sum(feature_dims)``: the streams' sequences side by side
along the features (RGB first, then flow), as a two-cache feature pipeline gives them. ``fusion="concat"``
keeps them side by side (the paper's fusion); ``"sum"`` adds them (streams of equal size), an option the
ablation can measure. ``T'`` may vary between datasets (``None`` in the model).

Outputs: ``probs`` ``(B, C)``; the attention head also ``attention`` ``(B, T')`` and ``embedding``
``(B, 2 * units)``, the attention-pooled vector the center loss of chapter 07 acts on.
"""

from __future__ import annotations

from typing import Sequence

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import CenterLoss, StreamFusion, TemporalAttention, TemporalMean
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

DEFAULT_FEATURE_DIMS = (1024, 1024)  # full-width RGB-I3D and Flow-I3D (Mixed_5c)
DEFAULT_UNITS = 128
DEFAULT_LAYERS = 2
DEFAULT_DENSE = 128
DEFAULT_DROPOUT = 0.3
# Dropout on the fused I3D features, before the LSTMs: the rate the released I3D's own classifier trains with on the
# same pooled Mixed_5c vector (keep probability 0.5). A head learns from the features of its *training* clips, which
# the streams have fitted (the heads reach training accuracy 1.0 in two epochs), so it must not lean on a few of
# them. Chosen on the hard preset's validation groups (streams fine-tuned on the other 432 training videos, 80 px,
# 16-frame features, seeds 0-2): hybrid 0.884 -> 0.900 (0.3: 0.903, 0.7: 0.900), i3d_lstm 0.889 -> 0.900,
# i3d_bilstm_attention 0.882 -> 0.898, i3d_bilstm 0.894 -> 0.884; on the test videos the changes were +-0.006.
# Features of 4 augmented clips per training video instead did not help (hybrid 0.863-0.866).
DEFAULT_FEATURE_DROPOUT = 0.5
# Wen et al. used lambda 0.003 and alpha 0.5 on face embeddings; the kit's pooled vectors are small (2 x 128),
# and 0.01 keeps the center term a fraction of the cross-entropy from the first epoch.
DEFAULT_CENTER_WEIGHT = 0.01
DEFAULT_CENTER_ALPHA = 0.5
# The paper's batch (section 5.2). On cached features a step of 32 clips costs about what a step of 8 does (the
# heads are small: most of a CPU step is per-operation overhead), so every profile trains the heads with it. On the
# hard preset's cached features (cpu profile, 30 epochs, seeds 0 and 1) it raised the hybrid's test accuracy from
# 0.660 and 0.667 (batch 8, the cpu profile's) to 0.719 and 0.694, in 28-39 s of training instead of 43-73 s.
HEAD_BATCH_SIZE = 32


def with_head_batch(settings: Settings) -> Settings:
    """The settings the heads train with: ``settings`` with a batch of at least :data:`HEAD_BATCH_SIZE`."""
    return settings.replace(batch_size=max(settings.batch_size, HEAD_BATCH_SIZE))


def _check(feature_dims, units, num_layers, feature_dropout=0.0):
    dims = tuple(int(d) for d in feature_dims)
    if not dims or min(dims) < 1:
        raise ValueError(f"feature_dims must list each stream's feature length; got {feature_dims!r}.")
    if int(units) < 1 or int(num_layers) < 1:
        raise ValueError(f"units and num_layers must be positive; got {units!r}, {num_layers!r}.")
    if not 0.0 <= float(feature_dropout) < 1.0:
        raise ValueError(f"feature_dropout is a rate in [0, 1); got {feature_dropout!r}.")
    return dims


def _dropped(x, feature_dropout: float):
    """``x`` ``(B, T', D)`` through dropout at ``feature_dropout`` (training only); unchanged at 0."""
    return layers.Dropout(float(feature_dropout), name="feature_dropout")(x) if feature_dropout else x


def _fused_input(feature_dims, fusion, feature_dropout: float = 0.0):
    """The ``features`` input ``(B, T', sum(dims))`` and the fused sequence after :func:`_dropped`."""
    features = keras.Input((None, sum(feature_dims)), name="features", dtype="float32")
    return features, _dropped(StreamFusion(feature_dims, fusion, name="fusion")(features), feature_dropout)


def _classifier(x, num_classes: int, dense: int, dropout: float):
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(dense, activation="relu", name="fc")(x)
    return layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)


def _bilstm_stack(x, units: int, num_layers: int, dropout: float):
    for i in range(num_layers):
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True, dropout=dropout),
                                 name=f"bilstm_{i + 1}")(x)
    return x  # (B, T', 2 * units)


@register_model("i3d_lstm", family="hybrid", inputs=("features",),
                description="I3D feature sequence -> LSTM (last state) -> FC -> softmax (3D CNN + LSTM)")
def build_i3d_lstm(settings: Settings, num_classes: int, *, feature_dims: Sequence[int] = DEFAULT_FEATURE_DIMS,
                   fusion: str = "concat", units: int = DEFAULT_UNITS, dense: int = DEFAULT_DENSE,
                   dropout: float = DEFAULT_DROPOUT, feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """``{"features": (B, T', sum(feature_dims))}`` -> ``(B, C)`` probabilities."""
    dims = _check(feature_dims, units, 1, feature_dropout)
    features, x = _fused_input(dims, fusion, feature_dropout)
    x = layers.LSTM(int(units), dropout=dropout, name="lstm")(x)  # the last step's state, as section 3.1
    return keras.Model({"features": features}, _classifier(x, num_classes, dense, dropout), name="i3d_lstm")


@register_model("i3d_bilstm", family="hybrid", inputs=("features",),
                description="I3D features -> stacked BiLSTM -> mean over time -> FC -> softmax")
def build_i3d_bilstm(settings: Settings, num_classes: int, *, feature_dims: Sequence[int] = DEFAULT_FEATURE_DIMS,
                     fusion: str = "concat", units: int = DEFAULT_UNITS, num_layers: int = DEFAULT_LAYERS,
                     dense: int = DEFAULT_DENSE, dropout: float = DEFAULT_DROPOUT,
                     feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """``{"features": (B, T', sum(feature_dims))}`` -> ``(B, C)``; the BiLSTM outputs averaged over time."""
    dims = _check(feature_dims, units, num_layers, feature_dropout)
    features, x = _fused_input(dims, fusion, feature_dropout)
    x = TemporalMean(name="mean_over_time")(_bilstm_stack(x, int(units), int(num_layers), dropout))
    return keras.Model({"features": features}, _classifier(x, num_classes, dense, dropout), name="i3d_bilstm")


def _attention_model(name: str, num_classes: int, feature_dims, fusion, units, num_layers, attention_units, dense,
                     dropout, center: tuple[float, float] | None, front=None,
                     feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """The BiLSTM + attention head; with ``center = (lambda, alpha)`` a center loss on the pooled vector.

    ``front``: ``(inputs dict, fused (B, T', D) tensor)`` to put the head on (the end-to-end hybrid's I3D
    streams); ``None``: the cached-features input.
    """
    dims = _check(feature_dims, units, num_layers, feature_dropout)
    if front is None:
        features, x = _fused_input(dims, fusion, feature_dropout)
        inputs = {"features": features}
    else:
        inputs, x = front
        inputs = dict(inputs)
        x = _dropped(x, feature_dropout)
    pooled = TemporalAttention(int(attention_units), name="attention_pool")(
        _bilstm_stack(x, int(units), int(num_layers), dropout))
    context = pooled["context"]
    if center is not None:
        # The labels reach the center loss through an optional input that training fills (training.LABEL_INPUT).
        inputs["label"] = keras.Input((), name="label", dtype="int32", optional=True)
        context = CenterLoss(num_classes, weight=center[0], alpha=center[1], name="center_loss")(
            context, labels=inputs["label"])
    embedding = layers.Identity(name="embedding", dtype="float32")(context)
    attention = layers.Identity(name="attention", dtype="float32")(pooled["weights"])
    probs = _classifier(context, num_classes, dense, dropout)
    return keras.Model(inputs, {"probs": probs, "attention": attention, "embedding": embedding}, name=name)


@register_model("i3d_bilstm_attention", family="hybrid", inputs=("features",),
                outputs=("probs", "attention", "embedding"),
                description="I3D features -> stacked BiLSTM -> temporal attention -> FC -> softmax (the hybrid "
                            "without center loss)")
def build_i3d_bilstm_attention(settings: Settings, num_classes: int, *,
                               feature_dims: Sequence[int] = DEFAULT_FEATURE_DIMS, fusion: str = "concat",
                               units: int = DEFAULT_UNITS, num_layers: int = DEFAULT_LAYERS,
                               attention_units: int = 64, dense: int = DEFAULT_DENSE,
                               dropout: float = DEFAULT_DROPOUT,
                               feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """``{"features": (B, T', D)}`` -> ``{"probs" (B, C), "attention" (B, T'), "embedding" (B, 2 * units)}``."""
    return _attention_model("i3d_bilstm_attention", num_classes, feature_dims, fusion, units, num_layers,
                            attention_units, dense, dropout, center=None, feature_dropout=feature_dropout)


@register_model("hybrid", family="hybrid", inputs=("features",), outputs=("probs", "attention", "embedding"),
                description="the seed paper's hybrid: I3D features -> stacked BiLSTM -> temporal attention -> FC "
                            "-> softmax, trained with center loss")
def build_hybrid(settings: Settings, num_classes: int, *, feature_dims: Sequence[int] = DEFAULT_FEATURE_DIMS,
                 fusion: str = "concat", units: int = DEFAULT_UNITS, num_layers: int = DEFAULT_LAYERS,
                 attention_units: int = 64, dense: int = DEFAULT_DENSE, dropout: float = DEFAULT_DROPOUT,
                 center_weight: float = DEFAULT_CENTER_WEIGHT, center_alpha: float = DEFAULT_CENTER_ALPHA,
                 feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """The full hybrid: ``i3d_bilstm_attention`` plus Wen et al.'s center loss on the attention-pooled vector.

    Inputs ``{"features": (B, T', D), "label": (B,) optional}``: the kit's training fills ``label`` (the
    center loss needs it); at inference it is ``None``. ``center_weight`` is ``lambda``, ``center_alpha`` the
    centers' update rate (:class:`~hybridvid_lib.layers.CenterLoss`).
    """
    return _attention_model("hybrid", num_classes, feature_dims, fusion, units, num_layers, attention_units, dense,
                            dropout, center=(float(center_weight), float(center_alpha)),
                            feature_dropout=feature_dropout)


@register_model("hybrid_end_to_end", family="hybrid", inputs=("rgb", "flow"),
                outputs=("probs", "attention", "embedding"),
                description="the hybrid trained end to end: RGB-I3D and Flow-I3D streams on video and flow, "
                            "their feature sequences into the BiLSTM + attention head, with center loss")
def build_hybrid_end_to_end(settings: Settings, num_classes: int, *, width: float | None = None,
                            fusion: str = "concat", units: int = DEFAULT_UNITS, num_layers: int = DEFAULT_LAYERS,
                            attention_units: int = 64, dense: int = DEFAULT_DENSE, dropout: float = DEFAULT_DROPOUT,
                            center_weight: float = DEFAULT_CENTER_WEIGHT, center_alpha: float = DEFAULT_CENTER_ALPHA,
                            rgb_weights: str | None = None, flow_weights: str | None = None,
                            feature_dropout: float = DEFAULT_FEATURE_DROPOUT) -> keras.Model:
    """The seed paper's system as one network, for end-to-end fine-tuning (the option beside cached features).

    ``{"rgb": (B, T, S, S, 3), "flow": (B, T, S, S, 2), "label": (B,) optional}`` ->
    ``{"probs" (B, C), "attention" (B, T'), "embedding" (B, 2 * units)}``: each I3D stream's ``features``
    (Mixed_5c pooled over space, ``(B, T', F)``) fused, then the ``hybrid`` head. ``rgb_weights`` /
    ``flow_weights``: a stream's ``.keras`` file (a chapter 06/08 run's ``model.keras`` or an imported Kinetics
    checkpoint) whose layers start the stream (its classifier is not used). It trains slowly on a CPU (two I3Ds
    per step); the course trains the head on cached features, which is the same network with the streams frozen.
    """
    from hybridvid_lib.models.i3d import build_i3d_flow, build_i3d_rgb
    from hybridvid_lib.models.trained import init_from

    streams = {"rgb": build_i3d_rgb(settings, num_classes, width=width),
               "flow": build_i3d_flow(settings, num_classes, width=width)}
    for key, path in (("rgb", rgb_weights), ("flow", flow_weights)):
        if path:
            init_from(streams[key], path)
    inputs = {key: keras.Input(stream.input[key].shape[1:], name=key, dtype="float32")
              for key, stream in streams.items()}
    # Each stream cut at its features: one nested model per stream keeps the released layer names inside.
    parts = [keras.Model(stream.input, stream.output["features"], name=f"i3d_{key}_features")({key: inputs[key]})
             for key, stream in streams.items()]
    dims = tuple(int(part.shape[-1]) for part in parts)
    joined = layers.Concatenate(axis=-1, name="streams")(parts)  # (B, T', D_rgb + D_flow), RGB first
    fused = StreamFusion(dims, fusion, name="fusion")(joined)
    return _attention_model("hybrid_end_to_end", num_classes, dims, fusion, units, num_layers, attention_units,
                            dense, dropout, center=(float(center_weight), float(center_alpha)),
                            front=(inputs, fused), feature_dropout=feature_dropout)
