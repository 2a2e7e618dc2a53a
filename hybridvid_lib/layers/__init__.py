"""Reusable Keras layers of the kit, one per file, all registered for ``.keras`` files (package ``hybridvid``).

==================  ====================================================================
``TemporalMean``    mean over the time axis, padded frames left out (:mod:`.temporal_mean`)
==================  ====================================================================

Importing this package registers every layer, so ``keras.saving.load_model`` can read a
model that uses them.

Every layer of this package must pass ``tests.support.layer_test.run_layer_test`` in its test
file (``tests/layers/test_<module>.py``): its config round-trips and holds every init argument,
``build`` makes all weights, output shapes and dtypes match what is documented (under float32
and under each mixed precision policy the layer supports), one ``fit`` step trains it, and a
``.keras`` file saved and reloaded with ``safe_mode=True`` gives equal outputs. Tests of what the
layer computes come in addition to it.
"""

from hybridvid_lib.layers.temporal_mean import TemporalMean

__all__ = ["TemporalMean"]
