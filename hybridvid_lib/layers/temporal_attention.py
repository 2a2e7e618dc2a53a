"""``TemporalAttention``: additive attention pooling over time, the weights returned for plots.

The hybrid of chapter 07 (the seed paper's section 4) pools its BiLSTM outputs with temporal attention:
every step gets a score, the scores become weights by a softmax over time, and the clip's vector is the
weighted sum of the steps. The score is additive (Bahdanau et al., 2015, with a learned query vector, as in
Yang et al.'s attention pooling, 2016)::

    e_t = v . tanh(W h_t + b)          one score per step
    a   = softmax(e) over the steps    (padded steps, where a mask says so, get weight 0)
    c   = sum_t a_t h_t
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()  # the kit imports TensorFlow quietly before Keras
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class TemporalAttention(keras.layers.Layer):
    """Weighted sum of a sequence over time, with learned additive scores.

    Args:
        units: size of the score's hidden layer (``W`` is ``(D, units)``, ``v`` is ``(units,)``).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, steps, D)`` float sequence (e.g. BiLSTM outputs).
        mask: optional ``(batch, steps)`` bool; ``False`` steps get weight 0 (a Keras mask from an earlier
            layer is used the same way). A clip whose mask keeps no step gets zeros.

    Returns:
        ``{"context": (batch, D), "weights": (batch, steps)}``: the pooled vector and the attention
        weights, which sum to 1 over the kept steps; the weights are float32 under mixed precision (so a
        plot reads them as they are).

    Example::

        pooled = TemporalAttention(64, name="attention")(sequence)
        pooled["context"]  # (B, D)
        pooled["weights"]  # (B, T), for the frame scrubber of chapter 07
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"TemporalAttention needs units >= 1 (the score's hidden size); got {units!r}.")
        self.units = int(units)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"TemporalAttention expects (batch, steps, features) inputs; got shape {input_shape}.")
        dim = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(dim, self.units), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.query = self.add_weight(name="query", shape=(self.units,), initializer="glorot_uniform")

    def call(self, inputs, mask=None):
        hidden = ops.tanh(ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype)) + ops.cast(self.bias, inputs.dtype))
        scores = ops.cast(ops.sum(hidden * ops.cast(self.query, inputs.dtype), axis=-1), "float32")  # (B, T)
        if mask is not None:
            keep = ops.cast(mask, "bool")
            scores = ops.where(keep, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:  # a clip with no kept step: all weights 0, not a uniform spread over padding
            weights = weights * ops.cast(keep, "float32")
        context = ops.sum(inputs * ops.cast(weights, inputs.dtype)[..., None], axis=1)
        return {"context": context, "weights": weights}

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_spec(self, inputs, mask=None):
        batch, steps, dim = inputs.shape
        return {"context": keras.KerasTensor((batch, dim), dtype=self.compute_dtype),
                "weights": keras.KerasTensor((batch, steps), dtype="float32")}

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
