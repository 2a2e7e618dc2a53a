"""CNN + Transformer (chapter 04): frame features from a 2D CNN, related across time by self-attention.

The frame backbone of chapter 01 turns each frame into a feature vector; a linear projection
makes them ``d_model`` tokens; a temporal position encoding says where each frame is
(``position``: ``sinusoidal`` or ``learned``, or ``none`` to show what is lost); ``num_layers``
pre-norm Transformer blocks (Vaswani et al. 2017) let every frame attend to every other; the clip
is summarised by a class token (``pooling="cls"``, as ViT) or the mean of the steps
(``pooling="mean"``), and classified.

The model returns a dict: ``probs`` ``(B, C)`` and ``attention`` ``(B, heads, T', T')``, the last
block's attention weights (``T' = T + 1`` with a class token), for chapter 04's plots.

Without a position encoding and with mean pooling the model is blind to frame order: attention
and the mean treat the frames as a set, so reversed clips give the same probabilities (tested).
With a class token and no position encoding it is blind too; the position encoding brings the
order back.
"""

from __future__ import annotations

from typing import Sequence

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import ClassToken, PositionEncoding, TemporalMean, TransformerBlock
from hybridvid_lib.models.frame_models import DEFAULT_FEATURE_DIM, DEFAULT_FILTERS, build_frame_backbone
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

POSITIONS = ("sinusoidal", "learned", "none")
POOLINGS = ("cls", "mean")


@register_model("cnn_transformer", family="transformer", inputs=("rgb",), outputs=("probs", "attention"),
                description="2D CNN per frame -> position encoding -> Transformer blocks over time -> softmax")
def build_cnn_transformer(settings: Settings, num_classes: int, *, position: str = "sinusoidal",
                          pooling: str = "cls", num_layers: int = 2, num_heads: int = 4, d_model: int = 64,
                          mlp_dim: int = 128, dropout: float = 0.1, filters: Sequence[int] = DEFAULT_FILTERS,
                          feature_dim: int = DEFAULT_FEATURE_DIM) -> keras.Model:
    """CNN + Transformer: ``{"rgb": (B, T, S, S, 3)}`` -> ``{"probs": (B, C), "attention": (B, H, T', T')}``.

    Args:
        position: ``sinusoidal`` | ``learned`` | ``none`` temporal position encoding.
        pooling: ``cls`` (class token) | ``mean`` (average of the steps).
        num_layers, num_heads, d_model, mlp_dim: the Transformer's depth and widths
            (``d_model`` divisible by ``num_heads``).
        dropout: in the blocks and before the classifier.
        filters, feature_dim: the frame encoder (chapter 01's).
    """
    if position not in POSITIONS or pooling not in POOLINGS:
        raise ValueError(f"position must be one of {', '.join(POSITIONS)} and pooling one of "
                         f"{', '.join(POOLINGS)}; got {position!r}, {pooling!r}.")
    if num_layers < 1 or d_model % num_heads:
        raise ValueError(f"num_layers must be >= 1 and d_model ({d_model}) divisible by num_heads ({num_heads}).")
    backbone = build_frame_backbone(settings, filters=filters, feature_dim=feature_dim)
    rgb = keras.Input(backbone.input["rgb"].shape[1:], name="rgb")
    x = layers.Dense(d_model, name="tokens")(backbone({"rgb": rgb}))        # (B, T, D)
    if pooling == "cls":
        x = ClassToken(name="class_token")(x)                                # (B, T + 1, D)
    if position != "none":
        x = PositionEncoding(position, max_length=settings.num_frames + 1, name="position")(x)
    attention = None
    for i in range(num_layers):
        last = i == num_layers - 1
        out = TransformerBlock(num_heads, d_model // num_heads, mlp_dim, dropout, return_attention=last,
                               name=f"block{i + 1}")(x)
        x, attention = (out["sequence"], out["attention"]) if last else (out, attention)
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = TemporalMean(name="mean_over_steps")(x) if pooling == "mean" else _first_step(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model({"rgb": rgb}, {"probs": probs, "attention": attention}, name="cnn_transformer")


def _first_step(x):
    """The class token's output: step 0 of ``(B, T', D)`` -> ``(B, D)``, with plain layers (no Lambda)."""
    steps = x.shape[1]
    return layers.Reshape((x.shape[-1],), name="class_output")(layers.Cropping1D((0, steps - 1), name="class_step")(x))
