"""``StreamFusion``: streams laid side by side along the features, kept so (concatenation) or added (sum).

The hybrid of chapter 07 reads the RGB-I3D and Flow-I3D feature sequences side by side, ``(B, T', D_rgb + D_flow)``;
the seed paper fuses them by concatenation, and summation is the option the ablation of chapter 08 measures.
"""

from __future__ import annotations

from typing import Sequence

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()  # the kit imports TensorFlow quietly before Keras
import keras  # noqa: E402

FUSIONS = ("concat", "sum")


@keras.saving.register_keras_serializable(package="hybridvid")
class StreamFusion(keras.layers.Layer):
    """Fuse streams laid side by side along the features: ``(B, T, sum(sizes))`` -> ``(B, T, D)``.

    Args:
        sizes: the feature length of each stream, in order (e.g. ``(1024, 1024)`` for RGB and flow).
        mode: ``"concat"`` keeps them side by side (``D = sum(sizes)``); ``"sum"`` adds them
            (``D = sizes[0]``; every size must be equal).

    Call arguments:
        inputs: ``(batch, steps, sum(sizes))`` float.

    Returns:
        ``(batch, steps, D)``, the input's dtype.
    """

    def __init__(self, sizes: Sequence[int], mode: str = "concat", **kwargs):
        super().__init__(**kwargs)
        sizes = tuple(int(s) for s in sizes)
        if not sizes or min(sizes) < 1:
            raise ValueError(f"StreamFusion needs positive stream sizes; got {sizes!r}.")
        if mode not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}; got {mode!r}.")
        if mode == "sum" and len(set(sizes)) != 1:
            raise ValueError(f"fusion 'sum' adds the streams, so they need one size; got {sizes}. "
                             "Use 'concat' for streams of different sizes.")
        self.sizes, self.mode = sizes, mode

    def call(self, inputs):
        if self.mode == "concat" or len(self.sizes) == 1:
            return inputs
        parts, start = [], 0
        for size in self.sizes:
            parts.append(inputs[..., start:start + size])
            start += size
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != sum(self.sizes):
            raise ValueError(f"StreamFusion{self.sizes} expects {sum(self.sizes)} features (the streams side by "
                             f"side); got {input_shape[-1]}.")
        width = sum(self.sizes) if self.mode == "concat" else self.sizes[0]
        return tuple(input_shape[:-1]) + (width,)

    def get_config(self):
        config = super().get_config()
        config.update({"sizes": list(self.sizes), "mode": self.mode})
        return config
