"""PositionEncoding, ClassToken and TransformerBlock: what they compute, and the shared layer test."""

import numpy as np
import pytest

from hybridvid_lib.layers import ClassToken, PositionEncoding, TransformerBlock
from hybridvid_lib.layers.position_encoding import sinusoidal_table
from tests.support.layer_test import run_layer_test

X = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")


def test_sinusoidal_table_follows_the_published_formula():
    table = sinusoidal_table(6, 8)
    t, i = 4, 3  # odd column 2i+1 = 3 uses i = 1
    assert table[t, 2] == pytest.approx(np.sin(t / 10000 ** (2 / 8)), rel=1e-6)
    assert table[t, 3] == pytest.approx(np.cos(t / 10000 ** (2 / 8)), rel=1e-6)
    assert np.allclose(table[0, 0::2], 0.0) and np.allclose(table[0, 1::2], 1.0)
    assert len({tuple(np.round(row, 5)) for row in table}) == 6  # every position distinct


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_position_encoding_is_a_well_behaved_layer_that_adds_a_position_signal(kind, tmp_path):
    out = run_layer_test(PositionEncoding, {"kind": kind, "max_length": 7}, X, expected_output_shape=(3, 5, 8),
                         expected_num_trainable_weights=1 if kind == "learned" else 0, tmp_path=tmp_path,
                         expect_input_gradient=True)
    if kind == "sinusoidal":
        np.testing.assert_allclose(out - X, np.broadcast_to(sinusoidal_table(7, 8)[:5], X.shape), atol=1e-6)
    with pytest.raises(ValueError, match="kind must be one of"):
        PositionEncoding("rotary")


def test_class_token_prepends_one_learned_step(tmp_path):
    out = run_layer_test(ClassToken, {}, X, expected_output_shape=(3, 6, 8), expected_num_trainable_weights=1,
                         tmp_path=tmp_path)
    np.testing.assert_allclose(out[:, 1:], X, atol=1e-6)
    np.testing.assert_allclose(out[0, 0], out[2, 0])  # the same token for every clip


@pytest.mark.parametrize("return_attention", [False, True])
def test_transformer_block_is_a_well_behaved_layer(return_attention, tmp_path):
    shape = {"sequence": (3, 5, 8), "attention": (3, 2, 5, 5)} if return_attention else (3, 5, 8)
    out = run_layer_test(TransformerBlock, {"num_heads": 2, "key_dim": 4, "mlp_dim": 16, "dropout": 0.0,
                                            "return_attention": return_attention}, X,
                         expected_output_shape=shape, tmp_path=tmp_path, rtol=1e-4, atol=1e-5)
    if return_attention:
        np.testing.assert_allclose(out["attention"].sum(axis=-1), 1.0, rtol=1e-5)  # each row a distribution


def test_transformer_block_treats_the_steps_as_a_set():
    block = TransformerBlock(num_heads=2, key_dim=4, mlp_dim=16, dropout=0.0)
    forward = np.asarray(block(X))
    backward = np.asarray(block(X[:, ::-1]))
    np.testing.assert_allclose(backward[:, ::-1], forward, rtol=1e-5, atol=1e-5)  # permutation-equivariant
