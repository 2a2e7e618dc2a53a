"""``PositionEncoding``: tells an attention model *where* in the clip each step is.

Self-attention compares every step with every other and sums the results: without a position
signal it is blind to order, exactly like the single-frame average of chapter 01 (chapter 04
measures this). Two classic encodings, added to the step features:

``sinusoidal``
    fixed sines and cosines of geometrically spaced frequencies (Vaswani et al., *Attention Is
    All You Need*, NeurIPS 2017, section 3.5): ``PE[t, 2i] = sin(t / 10000^(2i/D))``,
    ``PE[t, 2i+1] = cos(t / 10000^(2i/D))``; no weights.
``learned``
    one trainable vector per position (as in BERT and ViT), initialised small.
"""

from __future__ import annotations

import numpy as np

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

KINDS = ("sinusoidal", "learned")


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """``(length, dim)`` float32 sinusoidal encodings (even columns sine, odd columns cosine)."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    rates = 1.0 / np.power(10000.0, (2 * (np.arange(dim) // 2)) / dim)
    angles = positions * rates[None, :]
    table = np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="hybridvid")
class PositionEncoding(keras.layers.Layer):
    """Adds a position encoding to a sequence of step features.

    Args:
        kind: ``"sinusoidal"`` (fixed) or ``"learned"`` (one trainable vector per position).
        max_length: the longest sequence the layer accepts (``learned`` makes that many vectors).
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: ``(batch, steps, dim)`` float with ``steps <= max_length``.

    Returns:
        ``(batch, steps, dim)``: ``inputs + encoding[:steps]``.

    Example::

        x = PositionEncoding("sinusoidal", max_length=17)(tokens)   # (B, 17, 64) -> (B, 17, 64)
    """

    def __init__(self, kind: str = "sinusoidal", max_length: int = 512, **kwargs):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"PositionEncoding kind must be one of {', '.join(KINDS)}; got {kind!r}.")
        if int(max_length) < 1:
            raise ValueError(f"max_length must be a positive whole number; got {max_length!r}.")
        self.kind, self.max_length = kind, int(max_length)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        if self.kind == "learned":
            self.table = self.add_weight(name="positions", shape=(self.max_length, dim),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))
        else:
            self.table = self.add_weight(name="positions", shape=(self.max_length, dim), trainable=False,
                                         initializer=keras.initializers.Constant(
                                             sinusoidal_table(self.max_length, dim)))
        super().build(input_shape)

    def call(self, inputs):
        steps = ops.shape(inputs)[1]
        return inputs + ops.cast(self.table[:steps], inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"kind": self.kind, "max_length": self.max_length})
        return config
