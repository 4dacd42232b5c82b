"""Known mistakes and correct alternatives of ``attention`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

_SDPA = "scaled_dot_product_attention"
_SCORES = "scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)"
_MASKING = "scores = np.where(mask, scores, -np.inf)"
_NORM2 = "self.norm2(x1 + self.dropout2"
_BLOCK_CONFIG = "test_TransformerBlock_get_config_round_trips"

MISTAKES = [
    Mistake("attention_without_scaling", _SDPA, [(" / np.sqrt(d_k)", "")],
            words="divide q @ k^T by sqrt(d_k)",
            check="test_scaled_dot_product_attention_matches_reference",
            also={"test_scaled_dot_product_attention_scales_scores_by_sqrt_dk": "unscaled"}),
    Mistake("attention_scaled_by_d_k", _SDPA, [("/ np.sqrt(d_k)", "/ d_k")],
            words="divided by d_k",
            check="test_scaled_dot_product_attention_scales_scores_by_sqrt_dk"),
    Mistake("attention_softmax_over_queries", _SDPA, [("axis=-1", "axis=-2")],
            words="over the queries",
            check="test_scaled_dot_product_attention_weights_sum_to_one",
            also={"test_scaled_dot_product_attention_matches_reference": "over the queries"}),
    Mistake("attention_transposes_every_axis_of_k", _SDPA, [("np.swapaxes(k, -1, -2)", "k.T")],
            words="np.swapaxes(k, -1, -2)",
            check="test_scaled_dot_product_attention_matches_reference"),
    Mistake("attention_mask_inverted", _SDPA,
            [(_MASKING, "scores = np.where(mask, -np.inf, scores)")],
            words="inverted", check="test_scaled_dot_product_attention_causal_mask",
            also={"test_scaled_dot_product_attention_padding_masks": "inverted"}),
    Mistake("attention_mask_applied_after_softmax", _SDPA, [
        (_MASKING, "pass"),
        ("output = weights @ v", "weights = weights * mask if mask is not None else weights\n"
         "    output = weights @ v"),
    ], words="zeroed afterwards", check="test_scaled_dot_product_attention_causal_mask"),
    Mistake("attention_mask_filled_with_minus_1e3", _SDPA, [("-np.inf)", "-1e3)")],
            words="finite fill", check="test_scaled_dot_product_attention_padding_masks",
            also={"test_scaled_dot_product_attention_causal_mask": "finite fill"}),
    Mistake("attention_scales_q_in_place", _SDPA,
            [(_SCORES, "q /= np.sqrt(d_k)\n    scores = q @ np.swapaxes(k, -1, -2)")],
            words="modified its argument `q`",
            check="test_scaled_dot_product_attention_does_not_modify_inputs"),
    Mistake("causal_mask_upper_triangle", "causal_mask", [("np.tril", "np.triu")],
            words="upper triangle", check="test_causal_mask_values", sample=True),
    Mistake("causal_mask_without_diagonal", "causal_mask", [("dtype=bool))", "dtype=bool), k=-1)")],
            words="misses the diagonal", check="test_causal_mask_values"),
    Mistake("causal_mask_of_floats", "causal_mask", [(", dtype=bool", "")],
            words="dtype bool", check="test_causal_mask_is_boolean"),
    Mistake("positional_encoding_sin_and_cos_swapped", "positional_encoding",
            [("0::2] = np.sin", "0::2] = np.cos"), ("1::2] = np.cos", "1::2] = np.sin")],
            words="swapped", check="test_positional_encoding_values",
            also={"test_positional_encoding_sine_on_even_cosine_on_odd_columns": "sin on the even"}),
    Mistake("positional_encoding_exponent_i_instead_of_2i", "positional_encoding",
            [("(two_i / depth)", "(two_i / 2 / depth)")],
            words="exponent is i / depth", check="test_positional_encoding_values"),
    Mistake("positional_encoding_column_index_in_exponent", "positional_encoding", [
        ("np.arange(0, depth, 2)", "np.arange(depth)"),  # one angle per column
        ("np.sin(angles)", "np.sin(angles[:, 0::2])"), ("np.cos(angles)", "np.cos(angles[:, 1::2])"),
    ], words="share one angle", check="test_positional_encoding_values"),
    Mistake("block_without_residuals", "TransformerBlock", [
        ("self.norm1(inputs + self.dropout1", "self.norm1(self.dropout1"),
        (_NORM2, "self.norm2(self.dropout2"),
    ], words="same output for two different inputs",
       check="test_TransformerBlock_has_residual_connections"),
    Mistake("block_without_the_feed_forward_residual", "TransformerBlock",
            [(_NORM2, "self.norm2(self.dropout2")],
            words="residual", check="test_TransformerBlock_has_residual_connections"),
    Mistake("block_get_config_misses_the_arguments", "TransformerBlock",
            [("return config", "return super().get_config()")],
            words="has no key(s) embed_dim, num_heads, ff_dim, dropout_rate", check=_BLOCK_CONFIG),
    Mistake("block_get_config_misses_dropout_rate", "TransformerBlock",
            [("dropout_rate=self.dropout_rate,", "")],
            words="has no key(s) dropout_rate", check=_BLOCK_CONFIG),
    # The config has the arguments, but __init__ takes no **kwargs: from_config's TypeError.
    Mistake("block_init_without_kwargs", "TransformerBlock",
            [(", **kwargs):", "):"), ("super().__init__(**kwargs)", "super().__init__()")],
            words=("from_config", "TypeError"), check=_BLOCK_CONFIG),
    Mistake("block_dropout_always_on", "TransformerBlock", [("training=training", "training=True")],
            words="training", check="test_TransformerBlock_is_deterministic_at_inference"),
    Mistake("block_without_final_layer_norm", "TransformerBlock", [(_NORM2, "(x1 + self.dropout2")],
            words="LayerNormalization",
            check="test_TransformerBlock_ends_with_layer_normalization"),
    Mistake("block_without_attention", "TransformerBlock",
            [("self.attention(inputs, inputs, training=training)", "keras.ops.zeros_like(inputs)")],
            words="self-attention", check="test_TransformerBlock_mixes_positions"),
    Mistake("classifier_linear_output", "build_transformer_classifier",
            [(', activation="softmax"', "")],
            words="softmax", check="test_build_transformer_classifier_outputs_probabilities"),
    # The learning check catches it too (tests/checks/test_attention.py).
    Mistake("classifier_without_position_embedding", "build_transformer_classifier",
            [("x = x + keras.layers.Embedding(seq_len, embed_dim)(positions)", "pass")],
            words="position embedding",
            check="test_build_transformer_classifier_is_order_sensitive"),
    Mistake("classifier_sparse_loss", "build_transformer_classifier",
            [('loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"')],
            words="one-hot",
            check="test_build_transformer_classifier_compiled_with_categorical_crossentropy"),
    Mistake("classifier_without_transformer_block", "build_transformer_classifier",
            [("TransformerBlock(embed_dim, num_heads, ff_dim)(x)",
              "keras.layers.MultiHeadAttention(num_heads, embed_dim)(x, x)")],
            words="no Transformer block",
            check="test_build_transformer_classifier_uses_transformer_block"),
    Mistake(  # cannot learn, and passes every other check of build_transformer_classifier (test_attention.py)
        "transformer_classifier_cannot_learn_learning_rate_0", "build_transformer_classifier",
        edits=[('optimizer="adam"', 'optimizer=keras.optimizers.Adam(learning_rate=0.0)')],
        words="learned nothing", check="test_build_transformer_classifier_learns_token_order", slow=True, learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen (the judge re-freezes MultiHeadAttention's projections)
        "transformer_classifier_cannot_learn_frozen_layers", "build_transformer_classifier",
        edits=[('    model.compile(', '    model.trainable = False\n    model.compile(')],
        words="learned nothing", check="test_build_transformer_classifier_learns_token_order", slow=True, learns=False,
    ),
]  # fmt: skip

#: The Keras tutorial's block: one Sequential feed-forward network, key_dim = embed_dim.
_BLOCK = """
class TransformerBlock(keras.layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.ff_dim, self.dropout_rate = ff_dim, dropout_rate
        self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [keras.layers.Dense(ff_dim, activation="relu"), keras.layers.Dense(embed_dim)]
        )
        self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = keras.layers.Dropout(dropout_rate)
        self.dropout2 = keras.layers.Dropout(dropout_rate)

    def call(self, inputs, training=False):
        attn_output = self.dropout1(self.att(inputs, inputs), training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.dropout2(self.ffn(out1), training=training)
        return self.layernorm2(out1 + ffn_output)

    def get_config(self):
        config = super().get_config()
        config.update({"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                       "ff_dim": self.ff_dim, "dropout_rate": self.dropout_rate})
        return config
"""

#: A classifier with float token inputs and positions of int32 zeros plus 0..seq_len-1.
_CLASSIFIER = """
def build_transformer_classifier(seq_len, vocab_size, n_classes, embed_dim=32, num_heads=2,
                                 ff_dim=64):
    inputs = keras.Input(shape=(seq_len,))
    x = keras.layers.Embedding(vocab_size, embed_dim)(inputs)
    positions = keras.ops.zeros_like(inputs, dtype="int32") + keras.ops.arange(seq_len)
    x = x + keras.layers.Embedding(seq_len, embed_dim)(positions)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = {pooling}(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
"""

ALTERNATIVES = [
    Alternative("einsum_attention_with_minus_1e9_fill_loops_encoding_and_index_mask", """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + np.where(mask, 0.0, -1e9)
    e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    weights = e / np.sum(e, axis=-1, keepdims=True)
    return np.einsum("...qk,...kd->...qd", weights, v), weights


def causal_mask(length):
    positions = np.arange(length)
    return positions[None, :] <= positions[:, None]


def positional_encoding(length, depth):
    pe = np.zeros((length, depth))
    for p in range(length):
        for i in range(depth // 2):
            angle = p / 10000 ** (2 * i / depth)
            pe[p, 2 * i] = np.sin(angle)
            pe[p, 2 * i + 1] = np.cos(angle)
    return pe
"""),
    Alternative("boolean_indexing_mask_and_exp_log_encoding", """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(k.shape[-1])
    if mask is not None:
        blocked = ~np.broadcast_to(mask, scores.shape)
        scores = scores.copy()
        scores[blocked] = -np.inf
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.matmul(weights, v), weights


def causal_mask(length):
    return np.tri(length, dtype=bool)


def positional_encoding(length, depth):
    positions = np.arange(length, dtype=float)[:, None]
    rates = np.exp(-np.log(10000.0) * (2 * (np.arange(depth) // 2)) / depth)
    angles = positions * rates[None, :]
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))
"""),
    # With a classifier of its own, so that the learning check trains this block.
    Alternative("block_built_in_build_with_config_of_arguments_only", """
class TransformerBlock(keras.layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.ff_dim, self.dropout_rate = ff_dim, dropout_rate

    def build(self, input_shape):
        self.mha = keras.layers.MultiHeadAttention(self.num_heads, self.embed_dim // self.num_heads)
        self.dense_relu = keras.layers.Dense(self.ff_dim, activation="relu")
        self.dense_out = keras.layers.Dense(self.embed_dim)
        self.drop_a = keras.layers.Dropout(self.dropout_rate)
        self.drop_b = keras.layers.Dropout(self.dropout_rate)
        self.norm_a = keras.layers.LayerNormalization()
        self.norm_b = keras.layers.LayerNormalization()

    def call(self, x, training=None):
        h = self.norm_a(x + self.drop_a(self.mha(query=x, value=x, key=x), training=training))
        return self.norm_b(h + self.drop_b(self.dense_out(self.dense_relu(h)), training=training))

    def get_config(self):
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "dropout_rate": self.dropout_rate}
""" + _CLASSIFIER.format(pooling="keras.layers.GlobalAveragePooling1D()"), slow=True),
    Alternative("tutorial_block_max_pooling_position_layer_loss_object", _BLOCK + """

class TokenAndPositionEmbedding(keras.layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = keras.layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = keras.layers.Embedding(maxlen, embed_dim)

    def call(self, x):
        positions = keras.ops.arange(0, keras.ops.shape(x)[-1], 1)
        return self.token_emb(x) + self.pos_emb(positions)


def build_transformer_classifier(seq_len, vocab_size, n_classes, embed_dim=32, num_heads=2,
                                 ff_dim=64):
    inputs = keras.layers.Input(shape=(seq_len,))
    x = TokenAndPositionEmbedding(seq_len, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dense(n_classes)(x)
    outputs = keras.layers.Activation("softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(), keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model
""", slow=True),
    Alternative("classifier_flattens_instead_of_pooling",
                _CLASSIFIER.format(pooling="keras.layers.Flatten()"), slow=True),
]  # fmt: skip

CALLS = {
    "scaled_dot_product_attention": (np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2))),
    "causal_mask": (3,),
    "positional_encoding": (4, 6),
    "TransformerBlock": (8, 2, 16),
    "build_transformer_classifier": (8, 10, 2),
}
