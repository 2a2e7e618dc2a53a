"""Two-stream networks (chapter 02): appearance from RGB frames, motion from stacked optical flow.

Simonyan & Zisserman, *Two-Stream Convolutional Networks for Action Recognition in Videos*,
NeurIPS 2014: a **spatial** stream classifies single RGB frames (scores averaged over the
sampled frames) and a **temporal** stream classifies a stack of ``L`` consecutive optical-flow
fields, ``2L`` channels ``dx_1, dy_1, ..., dx_L, dy_L`` (the pipeline's ``flow_stack=L``). The
streams are trained separately, then fused.

==================  ==========================================================================
``two_stream_rgb``  the spatial stream: ``{"rgb": (B, T, S, S, 3)}`` -> probabilities
``two_stream_flow`` the temporal stream: ``{"flow": (B, S, S, 2L)}`` -> probabilities
``two_stream``      both streams and a fusion (``fusion=``):
                    ``average`` of the two streams' probabilities (late fusion, as published);
                    ``learned``: a Dense layer on the concatenated stream features (late);
                    ``conv``: Feichtenhofer et al. (CVPR 2016) mid-level fusion: the last conv
                    maps of both streams concatenated and mixed by a 1x1 convolution, then pooled
==================  ==========================================================================

``rgb_run`` / ``flow_run`` start the fused model's streams from trained stream runs (their
``backbone`` weights, and for ``average`` fusion their classifiers too), so a chapter trains
each stream, then fuses them.

Defaults, measured on the *validation* groups of StickActions (preset ``default``, profile
``cpu``: 64 px, split 1 with 20% of its training groups held out, 30 epochs, Adam 1e-3), never
on the test set. With Simonyan & Zisserman's ``L = 10`` the temporal stream underfitted: its
training accuracy stayed near 0.5 after 30 epochs (0.51 and 0.48, seeds 0 and 1) while the
validation accuracy was higher (0.63 and 0.64). A training stack is ``L`` consecutive fields
drawn at a random place in a video of 40-48 frames whose movement fills 55-85% of it, so many
training stacks hold only the still pose before or after the movement, or an ambiguous phase of
it (the arm coming down at the end of PointLeft looks like LowerArms), while the centred test
stack always falls inside the movement. Hence:

- ``L = 15`` (:data:`DEFAULT_FLOW_STACK`, capped at ``num_frames - 1``): a stack covers about a
  third of a video instead of a quarter. Validation accuracy with one centred stack 0.74 and 0.74
  (seeds 0, 1; 0.67 for seed 2) against 0.63 and 0.64 with ``L = 10``; training accuracy 0.61,
  0.64 and 0.61 against 0.51 and 0.48.
- several stacks per test video, their scores averaged (:data:`DEFAULT_TEST_CLIPS` = 5, pass it
  as ``clips_per_video``; Simonyan & Zisserman average 25): 0.83, 0.90 and 0.76 with ``L = 15``
  (0.81 and 0.81 with ``L = 10``, seeds 0 and 1); ten stacks gave 0.79 (seed 0).
- 60 epochs instead of 30 did not help (``L = 15``, seed 0: 0.69 with one stack, 0.81 with five).

Within the time-reversed pairs the temporal stream was right for every validation clip it put in
a pair in all these runs: its remaining errors are between classes that share a motion.

Fusion of the two trained streams (seed 0, five stacks per validation video; spatial stream 0.43,
temporal stream 0.83): ``average`` 0.88 with no training; ``learned`` 0.92 after 5 epochs and 0.90
after 10 (:data:`DEFAULT_FUSION_EPOCHS` = 5); ``conv`` only 0.32 after 5 and 0.57 after 10 epochs:
its new 1x1 convolution and classifier start from random weights on top of the streams' maps
and need far longer training than the ``cpu`` profile spends on a chapter.
"""

from __future__ import annotations

from typing import Sequence

from hybridvid_lib.config import Settings
from hybridvid_lib.layers import TemporalMean
from hybridvid_lib.models.frame_models import (
    DEFAULT_DROPOUT,
    DEFAULT_FEATURE_DIM,
    DEFAULT_FILTERS,
    build_frame_backbone,
    build_frame_encoder,
)
from hybridvid_lib.models.registry import register_model
from hybridvid_lib.models.trained import copy_backbone_weights, load_run_model
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

# Measured on the validation groups: see the module doc.
DEFAULT_FLOW_STACK = 15
DEFAULT_TEST_CLIPS = 5
DEFAULT_FUSION_EPOCHS = 5
FUSIONS = ("average", "learned", "conv")


def flow_stack_length(settings: Settings, flow_stack: int | None) -> int:
    """``L``: the option, else :data:`DEFAULT_FLOW_STACK` (15) capped at the clip's ``num_frames - 1`` fields.

    Simonyan & Zisserman use ``L = 10``; on StickActions 15 fields learned better (module doc).
    """
    if flow_stack is not None:
        if int(flow_stack) < 1:
            raise ValueError(f"flow_stack must be a positive number of flow fields; got {flow_stack!r}.")
        return int(flow_stack)
    return max(1, min(DEFAULT_FLOW_STACK, settings.num_frames - 1))


def build_flow_backbone(settings: Settings, *, flow_stack: int | None = None, filters: Sequence[int] = DEFAULT_FILTERS,
                        feature_dim: int = DEFAULT_FEATURE_DIM) -> keras.Model:
    """The temporal stream's backbone: ``{"flow": (B, S, S, 2L)}`` -> ``(B, F)`` features (the frame encoder's layout)."""
    size, length = settings.frame_size, flow_stack_length(settings, flow_stack)
    flow = keras.Input((size, size, 2 * length), name="flow", dtype="float32")
    encoder = build_frame_encoder(size, channels=2 * length, filters=filters, feature_dim=feature_dim,
                                  name="flow_encoder")
    return keras.Model({"flow": flow}, encoder(flow), name="backbone")


def _spatial_head(features, num_classes: int, dropout: float, name: str = "frame_probs"):
    """(B, T, F) frame features -> (B, C) mean of per-frame probabilities (float32)."""
    x = layers.Dropout(dropout, name=f"{name}_dropout")(features)
    frame_probs = layers.Dense(num_classes, activation="softmax", name=name, dtype="float32")(x)
    return TemporalMean(name=f"{name}_mean", dtype="float32")(frame_probs)


@register_model("two_stream_rgb", family="two_stream", inputs=("rgb",),
                description="spatial stream: 2D CNN on RGB frames, frame scores averaged (Simonyan & Zisserman)")
def build_two_stream_rgb(settings: Settings, num_classes: int, *, filters: Sequence[int] = DEFAULT_FILTERS,
                         feature_dim: int = DEFAULT_FEATURE_DIM, dropout: float = DEFAULT_DROPOUT) -> keras.Model:
    """The spatial stream: ``{"rgb": (B, T, S, S, 3)}`` -> ``(B, C)`` probabilities (mean over frames)."""
    backbone = build_frame_backbone(settings, filters=filters, feature_dim=feature_dim)
    rgb = keras.Input(backbone.input["rgb"].shape[1:], name="rgb")
    probs = _spatial_head(backbone({"rgb": rgb}), num_classes, dropout)
    return keras.Model({"rgb": rgb}, probs, name="two_stream_rgb")


@register_model("two_stream_flow", family="two_stream", inputs=("flow",),
                description="temporal stream: 2D CNN on L stacked optical-flow fields (Simonyan & Zisserman)")
def build_two_stream_flow(settings: Settings, num_classes: int, *, flow_stack: int | None = None,
                          filters: Sequence[int] = DEFAULT_FILTERS, feature_dim: int = DEFAULT_FEATURE_DIM,
                          dropout: float = DEFAULT_DROPOUT) -> keras.Model:
    """The temporal stream: ``{"flow": (B, S, S, 2L)}`` -> ``(B, C)`` probabilities.

    ``flow_stack`` is ``L`` (default :func:`flow_stack_length`); feed it a pipeline built with the
    same ``flow_stack`` (:func:`~hybridvid_lib.runs.train_and_evaluate` reads it from the model).
    """
    backbone = build_flow_backbone(settings, flow_stack=flow_stack, filters=filters, feature_dim=feature_dim)
    flow = keras.Input(backbone.input["flow"].shape[1:], name="flow")
    x = layers.Dropout(dropout, name="feature_dropout")(backbone({"flow": flow}))
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model({"flow": flow}, probs, name="two_stream_flow")


@register_model("two_stream", family="two_stream", inputs=("rgb", "flow"),
                description="spatial + temporal streams fused (average, learned, or mid-level conv fusion)")
def build_two_stream(settings: Settings, num_classes: int, *, fusion: str = "average", flow_stack: int | None = None,
                     filters: Sequence[int] = DEFAULT_FILTERS, feature_dim: int = DEFAULT_FEATURE_DIM,
                     dropout: float = DEFAULT_DROPOUT, rgb_run: str | None = None,
                     flow_run: str | None = None) -> keras.Model:
    """Both streams and their fusion: ``{"rgb": (B, T, S, S, 3), "flow": (B, S, S, 2L)}`` -> ``(B, C)``.

    Args:
        fusion: ``average`` | ``learned`` | ``conv`` (see the module doc).
        rgb_run, flow_run: run folders of trained ``two_stream_rgb`` / ``two_stream_flow`` models;
            their backbones (and, for ``average``, their classifiers) start this model's streams.
        flow_stack, filters, feature_dim, dropout: as for the stream models (a trained run must
            have been made with the same ones).
    """
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}; got {fusion!r}.")
    rgb_backbone = build_frame_backbone(settings, filters=filters, feature_dim=feature_dim)
    flow_backbone = build_flow_backbone(settings, flow_stack=flow_stack, filters=filters, feature_dim=feature_dim)
    rgb_backbone.name, flow_backbone.name = "rgb_backbone", "flow_backbone"
    if rgb_run:
        copy_backbone_weights(rgb_run, rgb_backbone)
    if flow_run:
        copy_backbone_weights(flow_run, flow_backbone)
    rgb = keras.Input(rgb_backbone.input["rgb"].shape[1:], name="rgb")
    flow = keras.Input(flow_backbone.input["flow"].shape[1:], name="flow")
    inputs = {"rgb": rgb, "flow": flow}

    if fusion == "average":
        rgb_probs = _spatial_head(rgb_backbone({"rgb": rgb}), num_classes, dropout, name="rgb_frame_probs")
        flow_x = layers.Dropout(dropout, name="flow_dropout")(flow_backbone({"flow": flow}))
        flow_probs = layers.Dense(num_classes, activation="softmax", name="flow_probs", dtype="float32")(flow_x)
        probs = layers.Average(name="probs", dtype="float32")([rgb_probs, flow_probs])
        model = keras.Model(inputs, probs, name="two_stream")
        _copy_classifiers(model, rgb_run, flow_run)
        return model
    if fusion == "learned":
        rgb_features = TemporalMean(name="rgb_features_mean")(rgb_backbone({"rgb": rgb}))      # (B, F)
        joint = layers.Concatenate(name="concat_features")([rgb_features, flow_backbone({"flow": flow})])
        x = layers.Dropout(dropout, name="fusion_dropout")(joint)
        probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
        return keras.Model(inputs, probs, name="two_stream")
    # conv: the last conv maps of both streams, spatially aligned, mixed by a 1x1 convolution.
    rgb_maps = layers.TimeDistributed(_frame_maps(rgb_backbone), name="rgb_maps")(rgb)        # (B, T, h, w, c)
    rgb_maps = TemporalMean(name="rgb_maps_mean")(rgb_maps)                                   # (B, h, w, c)
    flow_maps = _flow_maps(flow_backbone)(flow)                                               # (B, h, w, c)
    x = layers.Concatenate(name="concat_maps")([rgb_maps, flow_maps])
    x = layers.Conv2D(int(filters[-1]), 1, activation="relu", name="fusion_conv")(x)
    x = layers.GlobalAveragePooling2D(name="fusion_pool")(x)
    x = layers.Dropout(dropout, name="fusion_dropout")(x)
    probs = layers.Dense(num_classes, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model(inputs, probs, name="two_stream")


def _frame_maps(rgb_backbone: keras.Model) -> keras.Model:
    """The RGB frame encoder up to its last pooled conv map: one frame -> ``(h, w, c)``."""
    encoder = rgb_backbone.get_layer("per_frame").layer
    return keras.Model(encoder.inputs, encoder.get_layer("flatten").input, name="rgb_frame_maps")


def _flow_maps(flow_backbone: keras.Model) -> keras.Model:
    """The flow encoder up to its last pooled conv map: a stack -> ``(h, w, c)``."""
    encoder = flow_backbone.get_layer("flow_encoder")
    return keras.Model(encoder.inputs, encoder.get_layer("flatten").input, name="flow_maps")


def _copy_classifiers(model: keras.Model, rgb_run: str | None, flow_run: str | None) -> None:
    """Average fusion of trained streams needs no training: take each stream's classifier too."""
    for run, source_layer, target_layer in ((rgb_run, "frame_probs", "rgb_frame_probs"),
                                            (flow_run, "probs", "flow_probs")):
        if run:
            trained = load_run_model(run)
            model.get_layer(target_layer).set_weights(trained.get_layer(source_layer).get_weights())
