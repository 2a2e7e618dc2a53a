"""Reusable Keras layers of the kit, one per file, all registered for ``.keras`` files (package ``hybridvid``).

==================  ====================================================================
``TemporalMean``    mean over the time axis, padded frames left out (:mod:`.temporal_mean`)
==================  ====================================================================

Importing this package registers every layer, so ``keras.saving.load_model`` can read a
model that uses them.
"""

from hybridvid_lib.layers.temporal_mean import TemporalMean

__all__ = ["TemporalMean"]
