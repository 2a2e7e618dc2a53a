"""``FoldPersons``: the persons of a skeleton clip become separate samples of the batch.

Introduced with ST-GCN (the skeleton chapter). NTU RGB+D clips hold up to ``M = 2`` skeletons,
``(B, T, J, C, M)``. ST-GCN runs the same network on every person, as if each were a clip of its
own, and averages the persons' features at the end: this layer makes the ``B * M`` single-person
clips, :class:`~hybridvid_lib.layers.PersonMean` averages them back into ``B`` rows.
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class FoldPersons(keras.layers.Layer):
    """Move the persons axis (the last one) into the batch: ``(B, ..., M) -> (B * M, ...)``.

    Row ``b * M + m`` of the output is person ``m`` of clip ``b``, so the ``M`` persons of a clip
    are consecutive rows (what :class:`~hybridvid_lib.layers.PersonMean` expects).

    Args:
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch, frames, joints, channels, persons)``, or any ``(batch, ..., persons)``.

    Returns:
        ``(batch * persons, frames, joints, channels)``, same dtype.

    Example::

        x = FoldPersons()(joints)                 # (B, T, J, C, 2) -> (2B, T, J, C)

    Reference: ST-GCN's forward pass (``x.view(N * M, C, T, V)`` in ``net/st_gcn.py`` of
    ``yysijie/st-gcn``; Yan, Xiong and Lin, AAAI 2018).
    """

    def call(self, inputs):
        rank = len(inputs.shape)
        if rank < 2:
            raise ValueError(f"FoldPersons expects (batch, ..., persons) inputs; got shape {inputs.shape}.")
        moved = ops.transpose(inputs, (0, rank - 1) + tuple(range(1, rank - 1)))  # (B, M, ...)
        rest = tuple(ops.shape(inputs)[1:-1])
        return ops.reshape(moved, (-1,) + rest)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"FoldPersons expects (batch, ..., persons) inputs; got shape {tuple(input_shape)}.")
        batch, persons = input_shape[0], input_shape[-1]
        folded = None if batch is None or persons is None else batch * persons
        return (folded,) + tuple(input_shape[1:-1])
