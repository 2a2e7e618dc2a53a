"""Fixtures shared by the chapter checks' tests."""

import pytest


@pytest.fixture(scope="module")
def keras():
    """Keras, imported after the kit's quiet TensorFlow import (the checks themselves import neither)."""
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras as keras_module

    return keras_module
