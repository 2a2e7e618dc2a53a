"""``FusedBatchNormalization``: Keras' batch normalisation, trained with TensorFlow's fused kernel.

Keras 3 normalises a training batch with separate operations (mean, squared difference, mean,
subtract, multiply, add) and differentiates through each of them. TensorFlow has one kernel
for the whole thing and one for its gradient (``FusedBatchNormV3``: oneDNN on a CPU, cuDNN on
a GPU). Measured on 2 cores, one thread, a batch of 8 (``hybridvid bench models`` sizes): the
separate operations were about a quarter of a training step of ``c3d`` and ``cnn_lstm`` and the
fused kernel takes 25% off ``c3d``'s step, 17% off ``cnn_lstm``'s and 10% off an I3D stream's.

Only *training* changes: inference normalises with the moving statistics exactly as Keras does
(so imported checkpoints give the released logits bit for bit as before), and so does every
case the fused kernel cannot take (a mask, batch renormalisation, synchronised statistics
under a ``tf.distribute`` strategy, an axis other than the last, inputs that are not 4D or 5D).
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` with the same arguments, weights and results, trained faster.

    Call arguments:
        inputs: ``(B, H, W, C)`` or ``(B, T, H, W, C)`` take the fused kernel in training (a 5D
            input is normalised as ``(B * T, H, W, C)``: the statistics are per channel over every
            other axis either way); any other shape uses Keras' own path.
        training: as for Keras: the batch's statistics, and the moving ones updated with
            ``momentum``; otherwise the moving statistics.

    Returns:
        The input's shape, in the layer's compute dtype (statistics in float32, as Keras keeps them).

    The moving variance is updated with the *biased* batch variance, as Keras does: the fused
    kernel returns the Bessel-corrected one (divided by ``n - 1``), which is scaled back here.
    """

    def _takes_fused_path(self, inputs, training, mask) -> bool:
        rank = len(inputs.shape)
        return (bool(training) and self.trainable and mask is None and not self.renorm and not self.synchronized
                and rank in (4, 5) and self.axis in (-1, rank - 1) and inputs.shape[-1] is not None
                and keras.backend.backend() == "tensorflow")

    def call(self, inputs, training=None, mask=None):
        if not self._takes_fused_path(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)  # statistics in float32 under any policy, as Keras computes them
        channels = int(x.shape[-1])
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        shape = tf.shape(x)
        # The fused kernel takes NHWC; per-channel statistics do not care how the other axes are grouped.
        flat = x if len(x.shape) == 4 else tf.reshape(x, tf.concat([[-1], shape[2:]], axis=0))
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(flat, scale, offset, epsilon=self.epsilon,
                                                             is_training=True, data_format="NHWC")
        count = tf.cast(tf.size(x) // channels, tf.float32)
        variance = variance * tf.maximum(count - 1.0, 0.0) / tf.maximum(count, 1.0)  # Bessel's correction undone
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        if len(x.shape) == 5:
            y = tf.reshape(y, shape)
        return tf.cast(y, self.compute_dtype)
