"""``TransformerBlock``: one pre-norm Transformer encoder block over the steps of a clip.

``x + MHA(LN(x))`` then ``x + MLP(LN(x))`` (Vaswani et al. 2017; pre-norm as in ViT, which
trains more stably in small models). With ``return_attention=True`` the block also returns its
attention weights, so chapter 04 can draw which frames each frame attends to.
"""

from __future__ import annotations

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402


@keras.saving.register_keras_serializable(package="hybridvid")
class TransformerBlock(keras.layers.Layer):
    """Multi-head self-attention and an MLP, each with a residual connection and layer norm first.

    Args:
        num_heads: attention heads.
        key_dim: size of each head's queries and keys.
        mlp_dim: hidden size of the two-layer MLP (GELU).
        dropout: dropout on the attention weights and after each sub-layer.
        return_attention: also return the attention weights.
        **kwargs: standard layer arguments.

    Call arguments:
        inputs: ``(batch, steps, dim)`` float.

    Returns:
        ``(batch, steps, dim)``; with ``return_attention`` a dict ``{"sequence": (batch, steps, dim),
        "attention": (batch, num_heads, steps, steps)}`` (row ``i``: how step ``i`` weighs every step).
    """

    def __init__(self, num_heads: int = 4, key_dim: int = 16, mlp_dim: int = 128, dropout: float = 0.1,
                 return_attention: bool = False, **kwargs):
        super().__init__(**kwargs)
        if min(num_heads, key_dim, mlp_dim) < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError("TransformerBlock needs num_heads, key_dim, mlp_dim >= 1 and dropout in [0, 1); "
                             f"got {num_heads}, {key_dim}, {mlp_dim}, {dropout}.")
        self.num_heads, self.key_dim, self.mlp_dim = int(num_heads), int(key_dim), int(mlp_dim)
        self.dropout, self.return_attention = float(dropout), bool(return_attention)
        policy = self.dtype_policy
        self.norm_attention = layers.LayerNormalization(epsilon=1e-6, dtype=policy, name="norm_attention")
        self.attention = layers.MultiHeadAttention(self.num_heads, self.key_dim, dropout=self.dropout,
                                                   dtype=policy, name="attention")
        self.norm_mlp = layers.LayerNormalization(epsilon=1e-6, dtype=policy, name="norm_mlp")
        self.hidden = layers.Dense(self.mlp_dim, activation="gelu", dtype=policy, name="mlp_hidden")
        self.drop = layers.Dropout(self.dropout, dtype=policy)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.output_dense = layers.Dense(dim, dtype=self.dtype_policy, name="mlp_output")
        self.norm_attention.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm_mlp.build(input_shape)
        self.hidden.build(input_shape)
        self.output_dense.build((*input_shape[:-1], self.mlp_dim))
        super().build(input_shape)

    def call(self, inputs, training=None):
        normed = self.norm_attention(inputs)
        attended, weights = self.attention(normed, normed, return_attention_scores=True, training=training)
        x = inputs + self.drop(attended, training=training)
        mlp = self.output_dense(self.drop(self.hidden(self.norm_mlp(x)), training=training))
        x = x + self.drop(mlp, training=training)
        if self.return_attention:
            return {"sequence": x, "attention": weights}
        return x

    def compute_output_shape(self, input_shape):
        if not self.return_attention:
            return input_shape
        steps = input_shape[1]
        return {"sequence": input_shape, "attention": (input_shape[0], self.num_heads, steps, steps)}

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "key_dim": self.key_dim, "mlp_dim": self.mlp_dim,
                       "dropout": self.dropout, "return_attention": self.return_attention})
        return config
