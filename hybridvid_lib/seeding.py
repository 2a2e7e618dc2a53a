"""One seeding helper for the whole kit: same seed, same numbers (on one CPU machine).

Call :func:`set_seed` before building a model and before training; the notebooks do it
at the top of every experiment. ``keras.utils.set_random_seed`` seeds Python, NumPy and
the backend (TensorFlow) together; Python's and NumPy's global generators are seeded
here as well so that the call says what it does. Results still change with the number of
CPU threads, so tests compare with a tolerance.
"""

from __future__ import annotations

import random

import numpy as np

from hybridvid_lib.tf_setup import import_tensorflow


def set_seed(seed: int) -> int:
    """Seed Python's ``random``, NumPy's global generator, Keras and TensorFlow with ``seed``.

    Args:
        seed: a whole number in ``[0, 2**32)``.

    Returns:
        ``seed``, so a notebook can write ``SEED = set_seed(SEED)``.

    Raises:
        ValueError: ``seed`` is not a whole number in ``[0, 2**32)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"A seed must be a whole number in [0, 2**32); got {seed!r}.")
    seed = int(seed)
    import_tensorflow()
    import keras  # noqa: PLC0415 - after the quiet TensorFlow import

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    return seed
