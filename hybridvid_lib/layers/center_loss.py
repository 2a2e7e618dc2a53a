"""``CenterLoss``: Wen et al.'s center loss on an embedding, with class centers kept as model state.

Wen, Zhang, Li, Qiao, *A Discriminative Feature Learning Approach for Deep Face Recognition*, ECCV 2016.
The hybrid of chapter 07 trains with ``L = cross-entropy + lambda * L_C`` on its attention-pooled vector::

    L_C = 1/2 * mean_i ||x_i - c_{y_i}||^2                          (mean over the batch)
    c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)     after each training batch

where ``n_j`` is the number of samples of class ``j`` in the batch (the ``1 + n_j`` keeps a class that is
absent or rare from jumping). The centers are not trained by the optimizer: they are a non-trainable weight
(``(num_classes, D)``, zeros at first) that this layer updates with ``assign`` when called in training, so
they are saved in ``.keras`` files and checkpoints and a resumed run continues from them.

The layer needs the labels in training: the model has an optional ``label`` input that the kit's training
fills from the pipeline (:func:`hybridvid_lib.training.for_model`); at inference it is ``None`` and the layer
is the identity.
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()  # the kit imports TensorFlow quietly before Keras
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class CenterLoss(keras.layers.Layer):
    """Add ``weight * 1/2 * mean ||x - c_y||^2`` to the model's losses and move the centers toward the batch.

    Args:
        num_classes: number of centers.
        weight: ``lambda``, the center loss's weight against the cross-entropy (0 turns the loss off but
            the centers still follow the features, so a plot can show them).
        alpha: the centers' update rate, in (0, 1].
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: ``(batch, D)`` embedding.
        labels: ``(batch,)`` or ``(batch, 1)`` integer class ids, or ``None`` (inference).
        training: the loss and the update happen only when true and ``labels`` is given.

    Returns:
        ``inputs`` unchanged.
    """

    def __init__(self, num_classes: int, weight: float = 0.01, alpha: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"CenterLoss needs num_classes >= 2; got {num_classes!r}.")
        if not weight >= 0:
            raise ValueError(f"CenterLoss weight (lambda) must be >= 0; got {weight!r}.")
        if not 0 < alpha <= 1:
            raise ValueError(f"CenterLoss alpha (the centers' update rate) must be in (0, 1]; got {alpha!r}.")
        self.num_classes, self.weight, self.alpha = int(num_classes), float(weight), float(alpha)

    def build(self, inputs_shape, labels_shape=None):
        if len(inputs_shape) != 2 or inputs_shape[-1] is None:
            raise ValueError(f"CenterLoss expects (batch, features) embeddings; got shape {inputs_shape}.")
        # autocast=False, as Keras' BatchNormalization keeps its moving statistics: under a mixed policy the
        # centers would otherwise reach call() cast to the 16-bit compute dtype, the loss would mix them with
        # the float32 embedding (and fail), and every update would be rounded to 8 bits of mantissa.
        self.centers = self.add_weight(name="centers", shape=(self.num_classes, int(inputs_shape[-1])),
                                       initializer="zeros", trainable=False, autocast=False)

    def call(self, inputs, labels=None, training=None):
        if labels is None or not training:
            return inputs
        x = ops.cast(inputs, "float32")
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        centers = ops.stop_gradient(ops.convert_to_tensor(self.centers))
        own = ops.take(centers, labels, axis=0)  # (B, D): each sample's class center
        self.add_loss(self.weight * 0.5 * ops.mean(ops.sum(ops.square(x - own), axis=-1)))
        onehot = ops.one_hot(labels, self.num_classes, dtype="float32")  # (B, C)
        counts = ops.sum(onehot, axis=0)  # n_j
        pull = ops.matmul(ops.transpose(onehot), own - ops.stop_gradient(x))  # sum_i (c_j - x_i), (C, D)
        self.centers.assign(self.centers - self.alpha * pull / (1.0 + counts)[:, None])
        return inputs

    def compute_output_shape(self, inputs_shape, labels_shape=None):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "weight": self.weight, "alpha": self.alpha})
        return config
