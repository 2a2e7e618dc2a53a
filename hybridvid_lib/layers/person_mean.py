"""``PersonMean``: the average over the persons of each clip, undoing :class:`~hybridvid_lib.layers.FoldPersons`.

Introduced with ST-GCN (the skeleton chapter): after the network has run on every person of a
clip as a separate sample, the clip's features are the mean of its persons' features. A clip with
one person and an all-zero second skeleton (NTU RGB+D pads that way) averages in the features of
the empty skeleton, as ST-GCN does.
"""

from __future__ import annotations

import numpy as np

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class PersonMean(keras.layers.Layer):
    """Average every ``persons`` consecutive rows of the batch: ``(B * M, ...) -> (B, ...)``.

    Args:
        persons: ``M``, the number of persons per clip (rows ``b * M ... b * M + M - 1`` are clip ``b``).
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: ``(batch * persons, ...)`` float, e.g. ``(B * M, T', F)`` features.

    Returns:
        ``(batch, ...)``, same dtype.

    Example::

        features = PersonMean(2)(folded_features)     # (2B, T', F) -> (B, T', F)

    Reference: ST-GCN's ``x.view(N, M, -1, 1, 1).mean(dim=1)`` (``net/st_gcn.py`` of ``yysijie/st-gcn``).
    """

    def __init__(self, persons: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(persons, bool) or not isinstance(persons, (int, np.integer)) or persons < 1:
            raise ValueError(f"PersonMean needs persons >= 1 (persons per clip); got {persons!r}.")
        self.persons = int(persons)

    def call(self, inputs):
        rest = tuple(ops.shape(inputs)[1:])
        grouped = ops.reshape(inputs, (-1, self.persons) + rest)  # (B, M, ...)
        return ops.mean(grouped, axis=1)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        if batch is not None and batch % self.persons:
            raise ValueError(f"PersonMean({self.persons}) needs a batch that is a multiple of {self.persons}; "
                             f"got shape {tuple(input_shape)}.")
        return (None if batch is None else batch // self.persons,) + tuple(input_shape[1:])

    def get_config(self):
        config = super().get_config()
        config.update({"persons": self.persons})
        return config
