"""``ClassToken``: a learned step put in front of a sequence, whose output summarises it.

Introduced by BERT and used by ViT: after the transformer blocks, the output at this first
step is the sequence's representation, a learned alternative to averaging all steps (chapter 04
compares the two).
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class ClassToken(keras.layers.Layer):
    """Prepends one trainable vector to every sequence of a batch.

    Call arguments:
        inputs: ``(batch, steps, dim)`` float.

    Returns:
        ``(batch, steps + 1, dim)``: the class token at step 0, then the inputs.

    Reference: Dosovitskiy et al., *An Image is Worth 16x16 Words*, ICLR 2021 (the ``[class]`` token).
    """

    def build(self, input_shape):
        self.token = self.add_weight(name="token", shape=(1, 1, int(input_shape[-1])),
                                     initializer=keras.initializers.RandomNormal(stddev=0.02))
        super().build(input_shape)

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        token = ops.broadcast_to(ops.cast(self.token, inputs.dtype), (batch, 1, ops.shape(inputs)[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], steps, input_shape[2])
