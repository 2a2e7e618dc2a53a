"""StreamFusion: two streams side by side, kept (concat) or added (sum); the shared layer test."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.layers import StreamFusion  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402


def test_sum_adds_the_streams_and_concat_keeps_them():
    x = np.random.default_rng(0).normal(size=(2, 3, 6)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(StreamFusion((3, 3), "sum")(x)), x[..., :3] + x[..., 3:],
                               rtol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(StreamFusion((4, 2))(x)), x)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="need one size"):
        StreamFusion((4, 2), "sum")
    with pytest.raises(ValueError, match="one of concat, sum"):
        StreamFusion((4, 4), "max")
    with pytest.raises(ValueError, match=r"expects 8 features"):
        StreamFusion((4, 4)).compute_output_shape((None, 3, 6))


@pytest.mark.parametrize("mode, width", [("concat", 8), ("sum", 4)])
def test_stream_fusion_passes_the_shared_layer_test(mode, width, tmp_path):
    x = np.random.default_rng(1).normal(size=(4, 5, 8)).astype("float32")
    run_layer_test(StreamFusion, {"sizes": [4, 4], "mode": mode}, x, expected_output_shape=(4, 5, width),
                   expected_num_trainable_weights=0, run_training_check=False, tmp_path=tmp_path)
