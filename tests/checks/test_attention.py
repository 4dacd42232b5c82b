"""The hidden checks of ``attention`` against the reference, the stubs, mistakes and alternatives.

The notebook's solution cells need Keras (``TransformerBlock`` subclasses
``keras.layers.Layer``), so the namespaces here are built with ``import keras``
beside ``import numpy as np``, as the notebook's first cell does. Checks that
train a model (the learning check) run only in the tests marked ``slow``; every
other test scores the checks of the function it is about.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.scoring import function_of, run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    RecordingSubmission,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
    training_requests,
)

ASSIGNMENT = "attention"
FUNCTIONS = (
    "scaled_dot_product_attention",
    "causal_mask",
    "positional_encoding",
    "TransformerBlock",
    "build_transformer_classifier",
)
LEARNING_CHECK = "test_build_transformer_classifier_learns_token_order"

# Some mutants fill every score of a row with -inf (NaN weights) or overflow on purpose.
pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value encountered:RuntimeWarning",
    "ignore:overflow encountered:RuntimeWarning",
    # Mutant blocks that never call one of their sublayers leave it unbuilt; Keras says so.
    "ignore:`build\\(\\)` was called on layer:UserWarning",
)


def _selection(*functions: str, learning: bool = False):
    """Accept the checks of ``functions`` (all if none), the learning check only if asked."""

    def accept(name: str) -> bool:
        if name == LEARNING_CHECK and not learning:
            return False
        return not functions or function_of(name, list(FUNCTIONS)) in functions

    return accept


# ---------------------------------------------------------------------------
# The reference and the stubs.
# ---------------------------------------------------------------------------


LEARNING_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def reference_learning_runs() -> dict:
    """The learning check on the reference, once per seed, with the tasks it ran."""
    runs = {}
    for seed in LEARNING_SEEDS:
        submission = RecordingSubmission(reference(ASSIGNMENT), seed=seed)
        (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
        runs[seed] = (result, submission)
    return runs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    """Every check but the learning check (see the slow test below), for three seeds."""
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed, _selection())
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert LEARNING_CHECK not in results
    for name in results:
        assert function_of(name, list(FUNCTIONS)) is not None, name


@pytest.mark.slow
@pytest.mark.parametrize("seed", LEARNING_SEEDS)
def test_reference_passes_the_learning_check(reference_learning_runs, seed):
    result, submission = reference_learning_runs[seed]
    assert result.passed, result.output
    metric = submission.metrics["attention_order_task_accuracy"]
    assert metric["passed"] and metric["value"] >= metric["threshold"]


@pytest.mark.slow
def test_learning_task_gets_no_test_labels(reference_learning_runs):
    """The training task receives training labels (one-hot) and test inputs only."""
    _, submission = reference_learning_runs[LEARNING_SEEDS[0]]
    (training,) = training_requests(submission)
    x_train, y_train, x_test = training["x_train"], training["y_train"], training["x_test"]
    assert np.asarray(y_train).shape == (len(x_train), 2)  # one-hot training targets
    assert len(x_test) != len(x_train)


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    arguments = {
        "scaled_dot_product_attention": (np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2))),
        "causal_mask": (3,),
        "positional_encoding": (4, 6),
        "TransformerBlock": (8, 2, 16),
        "build_transformer_classifier": (8, 10, 2),
    }
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            stub[function](*arguments[function])


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

_ATTENTION = """
def scaled_dot_product_attention(q, k, v, mask=None):
    d_k = q.shape[-1]
    scores = {scores}
    if mask is not None:
        {masking}
    scores = scores - scores.max(axis={axis}, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis={axis}, keepdims=True)
    {after}
    return weights @ v, weights
"""


def _attention(
    scores="q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)",
    masking="scores = np.where(mask, scores, -np.inf)",
    axis="-1",
    after="",
) -> str:
    return _ATTENTION.format(scores=scores, masking=masking, axis=axis, after=after)


_ENCODING = """
def positional_encoding(length, depth):
    pe = np.zeros((length, depth))
    for p in range(length):
        for i in range(depth // 2):
            angle = p / 10000 ** ({exponent} / depth)
            pe[p, 2 * i] = np.{even}(angle)
            pe[p, 2 * i + 1] = np.{odd}(angle)
    return pe
"""

_BLOCK = """
class TransformerBlock(keras.layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, dropout_rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.ff_dim = ff_dim
        self.dropout_rate = dropout_rate
        self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [keras.layers.Dense(ff_dim, activation="relu"), keras.layers.Dense(embed_dim)]
        )
        self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = keras.layers.Dropout(dropout_rate)
        self.dropout2 = keras.layers.Dropout(dropout_rate)

    def call(self, inputs, training=False):
        attn_output = {attention}
        attn_output = self.dropout1(attn_output, training={training})
        out1 = {out1}
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training={training})
        return {out2}

    def get_config(self):
        config = super().get_config()
        config.update({config})
        return config
"""


def _block(
    attention="self.att(inputs, inputs)",
    training="training",
    out1="self.layernorm1(inputs + attn_output)",
    out2="self.layernorm2(out1 + ffn_output)",
    config='{"embed_dim": self.embed_dim, "num_heads": self.num_heads, '
    '"ff_dim": self.ff_dim, "dropout_rate": self.dropout_rate}',
) -> str:
    return _BLOCK.format(
        attention=attention, training=training, out1=out1, out2=out2, config=config
    )


_CLASSIFIER = """
def build_transformer_classifier(seq_len, vocab_size, n_classes, embed_dim=32, num_heads=2,
                                 ff_dim=64):
    inputs = keras.Input(shape=(seq_len,))
    x = keras.layers.Embedding(vocab_size, embed_dim)(inputs)
    {positions}
    x = {block}(x)
    x = {pooling}(x)
    outputs = {head}(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss={loss}, metrics=["accuracy"])
    return model
"""


def _classifier(
    positions="x = x + keras.layers.Embedding(seq_len, embed_dim)("
    "keras.ops.zeros_like(inputs, dtype='int32') + keras.ops.arange(seq_len))",
    block="TransformerBlock(embed_dim, num_heads, ff_dim)",
    pooling="keras.layers.GlobalAveragePooling1D()",
    head='keras.layers.Dense(n_classes, activation="softmax")',
    loss='"categorical_crossentropy"',
) -> str:
    return _CLASSIFIER.format(
        positions=positions, block=block, pooling=pooling, head=head, loss=loss
    )


MUTANTS = [
    (
        "attention_without_scaling",
        "scaled_dot_product_attention",
        _attention(scores="q @ np.swapaxes(k, -1, -2)"),
    ),
    (
        "attention_scaled_by_d_k",
        "scaled_dot_product_attention",
        _attention(scores="q @ np.swapaxes(k, -1, -2) / d_k"),
    ),
    ("attention_softmax_over_queries", "scaled_dot_product_attention", _attention(axis="-2")),
    (
        "attention_transposes_every_axis_of_k",
        "scaled_dot_product_attention",
        _attention(scores="q @ k.T / np.sqrt(d_k)"),
    ),
    (
        "attention_mask_inverted",
        "scaled_dot_product_attention",
        _attention(masking="scores = np.where(mask, -np.inf, scores)"),
    ),
    (
        "attention_mask_applied_after_softmax",
        "scaled_dot_product_attention",
        _attention(
            masking="pass", after="weights = weights * mask if mask is not None else weights"
        ),
    ),
    (
        "attention_mask_filled_with_minus_1e3",
        "scaled_dot_product_attention",
        _attention(masking="scores = np.where(mask, scores, -1e3)"),
    ),
    (
        "attention_scales_q_in_place",
        "scaled_dot_product_attention",
        """
def scaled_dot_product_attention(q, k, v, mask=None):
    q /= np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights
""",
    ),
    (
        "causal_mask_upper_triangle",
        "causal_mask",
        """
def causal_mask(length):
    return np.triu(np.ones((length, length), dtype=bool))
""",
    ),
    (
        "causal_mask_without_diagonal",
        "causal_mask",
        """
def causal_mask(length):
    return np.tril(np.ones((length, length), dtype=bool), k=-1)
""",
    ),
    (
        "causal_mask_of_floats",
        "causal_mask",
        """
def causal_mask(length):
    return np.tril(np.ones((length, length)))
""",
    ),
    (
        "positional_encoding_sin_and_cos_swapped",
        "positional_encoding",
        _ENCODING.format(exponent="2 * i", even="cos", odd="sin"),
    ),
    (
        "positional_encoding_exponent_i_instead_of_2i",
        "positional_encoding",
        _ENCODING.format(exponent="i", even="sin", odd="cos"),
    ),
    (
        "positional_encoding_column_index_in_exponent",
        "positional_encoding",
        """
def positional_encoding(length, depth):
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(depth)[None, :] / depth)
    angles[:, 0::2] = np.sin(angles[:, 0::2])
    angles[:, 1::2] = np.cos(angles[:, 1::2])
    return angles
""",
    ),
    (
        "block_without_residuals",
        "TransformerBlock",
        _block(out1="self.layernorm1(attn_output)", out2="self.layernorm2(ffn_output)"),
    ),
    (
        "block_without_the_feed_forward_residual",
        "TransformerBlock",
        _block(out2="self.layernorm2(ffn_output)"),
    ),
    (
        "block_get_config_misses_the_arguments",
        "TransformerBlock",
        _block(config="{}"),
    ),
    (
        "block_get_config_misses_dropout_rate",
        "TransformerBlock",
        _block(
            config='{"embed_dim": self.embed_dim, "num_heads": self.num_heads, '
            '"ff_dim": self.ff_dim}'
        ),
    ),
    ("block_dropout_always_on", "TransformerBlock", _block(training="True")),
    ("block_without_final_layer_norm", "TransformerBlock", _block(out2="out1 + ffn_output")),
    (
        "block_without_attention",
        "TransformerBlock",
        _block(attention="keras.ops.zeros_like(inputs)"),
    ),
    (
        "classifier_linear_output",
        "build_transformer_classifier",
        _classifier(head="keras.layers.Dense(n_classes)"),
    ),
    (
        "classifier_without_position_embedding",
        "build_transformer_classifier",
        _classifier(positions="pass"),
    ),
    (
        "classifier_sparse_loss",
        "build_transformer_classifier",
        _classifier(loss='"sparse_categorical_crossentropy"'),
    ),
    (
        "classifier_without_transformer_block",
        "build_transformer_classifier",
        _classifier(block="(lambda h: keras.layers.MultiHeadAttention(2, embed_dim)(h, h))"),
    ),
]

#: The mutant that only the learning check (and the order check) can catch.
LEARNING_MUTANT = "classifier_without_position_embedding"


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(
            ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_selection(function)
        )
        for mutant_id, function, source in MUTANTS
    }


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    results = mutant_results[mutant_id]
    assert results and all(function_of(name, list(FUNCTIONS)) == function for name in results)
    assert_caught_helpfully(results, function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("attention_without_scaling", "test_scaled_dot_product_attention_matches_reference",
         "divide q @ k^T by sqrt(d_k)"),
        ("attention_without_scaling",
         "test_scaled_dot_product_attention_scales_scores_by_sqrt_dk", "unscaled"),
        ("attention_scaled_by_d_k",
         "test_scaled_dot_product_attention_scales_scores_by_sqrt_dk", "divided by d_k"),
        ("attention_softmax_over_queries", "test_scaled_dot_product_attention_weights_sum_to_one",
         "over the queries"),
        ("attention_softmax_over_queries", "test_scaled_dot_product_attention_matches_reference",
         "over the queries"),
        ("attention_transposes_every_axis_of_k",
         "test_scaled_dot_product_attention_matches_reference", "np.swapaxes(k, -1, -2)"),
        ("attention_mask_inverted", "test_scaled_dot_product_attention_causal_mask", "inverted"),
        ("attention_mask_inverted", "test_scaled_dot_product_attention_padding_masks",
         "inverted"),
        ("attention_mask_applied_after_softmax", "test_scaled_dot_product_attention_causal_mask",
         "zeroed afterwards"),
        ("attention_mask_filled_with_minus_1e3",
         "test_scaled_dot_product_attention_padding_masks", "finite fill"),
        ("attention_mask_filled_with_minus_1e3",
         "test_scaled_dot_product_attention_causal_mask", "finite fill"),
        ("attention_scales_q_in_place", "test_scaled_dot_product_attention_does_not_modify_inputs",
         "modified its argument `q`"),
        ("causal_mask_upper_triangle", "test_causal_mask_values", "upper triangle"),
        ("causal_mask_without_diagonal", "test_causal_mask_values", "misses the diagonal"),
        ("causal_mask_of_floats", "test_causal_mask_is_boolean", "dtype bool"),
        ("positional_encoding_sin_and_cos_swapped", "test_positional_encoding_values", "swapped"),
        ("positional_encoding_sin_and_cos_swapped",
         "test_positional_encoding_sine_on_even_cosine_on_odd_columns", "sin on the even"),
        ("positional_encoding_exponent_i_instead_of_2i", "test_positional_encoding_values",
         "exponent is i / depth"),
        ("positional_encoding_column_index_in_exponent", "test_positional_encoding_values",
         "share one angle"),
        ("block_without_residuals", "test_TransformerBlock_has_residual_connections",
         "same output for two different inputs"),
        ("block_without_the_feed_forward_residual",
         "test_TransformerBlock_has_residual_connections", "residual"),
        ("block_get_config_misses_the_arguments", "test_TransformerBlock_get_config_round_trips",
         "has no key(s) embed_dim, num_heads, ff_dim, dropout_rate"),
        ("block_get_config_misses_dropout_rate", "test_TransformerBlock_get_config_round_trips",
         "has no key(s) dropout_rate"),
        ("block_dropout_always_on", "test_TransformerBlock_is_deterministic_at_inference",
         "training"),
        ("block_without_final_layer_norm", "test_TransformerBlock_ends_with_layer_normalization",
         "LayerNormalization"),
        ("block_without_attention", "test_TransformerBlock_mixes_positions", "self-attention"),
        ("classifier_linear_output", "test_build_transformer_classifier_outputs_probabilities",
         "softmax"),
        ("classifier_without_position_embedding",
         "test_build_transformer_classifier_is_order_sensitive", "position embedding"),
        ("classifier_sparse_loss",
         "test_build_transformer_classifier_compiled_with_categorical_crossentropy", "one-hot"),
        ("classifier_without_transformer_block",
         "test_build_transformer_classifier_uses_transformer_block", "no Transformer block"),
    ],
)  # fmt: skip
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed
    assert words in result.output, result.output


def test_get_config_without_arguments_reports_why_from_config_fails():
    """A config with the arguments but an __init__ without **kwargs: from_config's error is shown."""
    source = _block().replace("dropout_rate=0.1, **kwargs):", "dropout_rate=0.1):")
    source = source.replace("super().__init__(**kwargs)", "super().__init__()")
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, source), seed=8, only=_selection("TransformerBlock")
    )
    result = results["test_TransformerBlock_get_config_round_trips"]
    assert not result.passed
    assert "from_config" in result.output and "TypeError" in result.output, result.output
    assert GRADER_FAULT not in result.output


@pytest.mark.slow
def test_classifier_without_positions_fails_the_learning_check():
    source = dict((m, s) for m, _, s in MUTANTS)[LEARNING_MUTANT]
    submission = LocalSubmission(reference(ASSIGNMENT, source), seed=4)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    assert not result.passed
    assert "position embedding" in result.output and "counts tokens" in result.output
    assert GRADER_FAULT not in result.output
    # Order-blind: near chance (0.5), far under the threshold.
    assert submission.metrics["attention_order_task_accuracy"]["value"] < 0.6


# ---------------------------------------------------------------------------
# Correct alternatives: (id, functions they touch, needs the learning check, sources).
# ---------------------------------------------------------------------------

ALTERNATIVES = [
    (
        "einsum_attention_with_minus_1e9_fill_loops_encoding_and_index_mask",
        ("scaled_dot_product_attention", "causal_mask", "positional_encoding"),
        False,
        [
            """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + np.where(mask, 0.0, -1e9)
    e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    weights = e / np.sum(e, axis=-1, keepdims=True)
    return np.einsum("...qk,...kd->...qd", weights, v), weights
""",
            """
def causal_mask(length):
    positions = np.arange(length)
    return positions[None, :] <= positions[:, None]
""",
            _ENCODING.format(exponent="2 * i", even="sin", odd="cos"),
        ],
    ),
    (
        "boolean_indexing_mask_and_exp_log_encoding",
        ("scaled_dot_product_attention", "causal_mask", "positional_encoding"),
        False,
        [
            """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(k.shape[-1])
    if mask is not None:
        blocked = ~np.broadcast_to(mask, scores.shape)
        scores = scores.copy()
        scores[blocked] = -np.inf
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.matmul(weights, v), weights
""",
            """
def causal_mask(length):
    return np.tri(length, dtype=bool)
""",
            """
def positional_encoding(length, depth):
    positions = np.arange(length, dtype=float)[:, None]
    rates = np.exp(-np.log(10000.0) * (2 * (np.arange(depth) // 2)) / depth)
    angles = positions * rates[None, :]
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))
""",
        ],
    ),
    (
        "block_built_in_build_with_config_of_arguments_only",
        ("TransformerBlock", "build_transformer_classifier"),
        True,
        [
            """
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
""",
        ],
    ),
    (
        "tutorial_block_max_pooling_position_layer_loss_object",
        ("TransformerBlock", "build_transformer_classifier"),
        True,
        [
            _block(),
            """
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
""",
        ],
    ),
    (
        "classifier_flattens_instead_of_pooling",
        ("build_transformer_classifier",),
        True,
        [_classifier(pooling="keras.layers.Flatten()")],
    ),
]


@pytest.mark.parametrize(
    ("functions", "sources"),
    [(functions, sources) for _, functions, _, sources in ALTERNATIVES],
    ids=[alternative for alternative, *_ in ALTERNATIVES],
)
def test_correct_alternative_gets_full_marks(functions, sources):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, *sources), seed=5, only=_selection())
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    touched = {function_of(name, list(FUNCTIONS)) for name in results}
    assert set(functions) <= touched


@pytest.mark.slow
@pytest.mark.parametrize(
    "sources",
    [sources for _, _, learning, sources in ALTERNATIVES if learning],
    ids=[alternative for alternative, _, learning, _ in ALTERNATIVES if learning],
)
def test_correct_alternative_passes_the_learning_check(sources):
    submission = LocalSubmission(reference(ASSIGNMENT, *sources), seed=6)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    assert result.passed, result.output


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".5g", ".4g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_weights():
    seen: list = []
    spy = """
def scaled_dot_product_attention(q, k, v, mask=None):
    _seen.append((np.array(q), np.array(k)))
    scores = q @ np.swapaxes(k, -1, -2)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights
"""
    namespace = reference(ASSIGNMENT, spy)
    namespace["_seen"] = seen
    results = score(ASSIGNMENT, namespace, seed=11, only=_selection("scaled_dot_product_attention"))
    output = results["test_scaled_dot_product_attention_scales_scores_by_sqrt_dk"].output
    assert "not correct" in output
    q, k = seen[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    for value in weights.ravel()[:20]:
        for text in _formats(float(value)):
            assert text not in output, (text, output)
