"""``TemporalMean``: the average over the time axis, leaving padded frames out.

Introduced with the single-frame baseline (chapter 01): a 2D CNN scores every frame and
the clip's prediction is the mean of the frame predictions. The same layer averages
feature vectors over time in later chapters.
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()  # the kit imports TensorFlow quietly before Keras
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class TemporalMean(keras.layers.Layer):
    """Mean over axis 1 (time), optionally only over the frames a mask keeps.

    Args:
        epsilon: guards the division when a mask keeps no frame of a clip (the output is
            then zeros, not NaN).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, frames, ...)`` float, e.g. ``(B, T, C)`` per-frame probabilities
            or features.
        mask: optional ``(batch, frames)`` bool or 0/1 float; ``True`` marks real frames,
            ``False`` padded ones. A Keras mask propagated from an earlier layer is used
            the same way.

    Returns:
        ``(batch, ...)``: the input without its time axis, same dtype.

    Example::

        probs = TemporalMean(name="average_over_frames")(frame_probs)   # (B, T, C) -> (B, C)

    Reference: Karpathy et al., *Large-scale Video Classification with Convolutional
    Neural Networks*, CVPR 2014 (single-frame baseline, predictions averaged over frames).
    """

    def __init__(self, epsilon: float = 1e-7, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"TemporalMean needs epsilon > 0; got {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.cast(mask, inputs.dtype)  # (B, T)
        # Broadcast the (B, T) mask over every feature axis of the input.
        for _ in range(len(inputs.shape) - 2):
            weights = ops.expand_dims(weights, -1)
        total = ops.sum(inputs * weights, axis=1)
        count = ops.sum(weights, axis=1)
        return total / ops.maximum(count, self.epsilon)

    def compute_mask(self, inputs, mask=None):
        return None  # the time axis is gone: nothing left to mask

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"TemporalMean expects (batch, frames, ...) inputs; got shape {input_shape}.")
        return (input_shape[0],) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
