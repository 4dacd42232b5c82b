"""Known mistakes and correct alternatives of ``autoencoder`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

_BUILD = "build_autoencoder"
_COMPILED = 'loss="binary_crossentropy"'
_RETURN = "return autoencoder, encoder, decoder"
_NOISE = "rng.standard_normal(np.shape(images))"
_CLIPPED = "return np.clip(noisy, 0.0, 1.0)"
_GAUSSIAN = "test_add_noise_noise_is_gaussian_with_std_noise_factor"
_CLIPS = "test_add_noise_output_clipped_to_unit_interval"
_LATENT = "test_build_autoencoder_encoder_maps_input_to_latent_code"
_UNIT = "test_build_autoencoder_decoder_outputs_lie_in_unit_interval"
_LOSS = "test_build_autoencoder_compiled_with_reconstruction_loss"
_THREE = "test_build_autoencoder_returns_three_models"

#: An autoencoder of layers of its own, not the encoder's and the decoder's.
_SEPARATE_AUTOENCODER = """keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(latent_dim),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(input_dim, activation="sigmoid"),
    ], name="autoencoder")"""

MISTAKES = [
    # The code layer moved into the decoder: the "code" has 128 numbers.
    Mistake("encoder_outputs_the_hidden_layer", _BUILD, [
        ("keras.Model(inputs, code,", "keras.Model(inputs, hidden,"),
        ("shape=(latent_dim,)", "shape=(128,)"),
        ('Dense(128, activation="relu")(codes)', "Dense(latent_dim)(codes)"),
    ], words="exactly latent_dim", check=_LATENT),
    Mistake("input_size_hard_coded_784", _BUILD, [("shape=(input_dim,)", "shape=(784,)")],
            words="not a fixed size like 784", check=_LATENT),
    Mistake("linear_decoder_output", _BUILD, [(', activation="sigmoid"', "")],
            words="activation='sigmoid'", check=_UNIT),
    Mistake("relu_decoder_output", _BUILD, [('activation="sigmoid"', 'activation="relu"')],
            words="not bounded above", check=_UNIT),
    Mistake("tanh_decoder_output", _BUILD, [('activation="sigmoid"', 'activation="tanh"')],
            words="tanh", check=_UNIT),
    Mistake("autoencoder_built_from_separate_layers", _BUILD,
            [('keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")',
              _SEPARATE_AUTOENCODER)],
            words="decoder(encoder(inputs))",
            check="test_build_autoencoder_autoencoder_equals_decoder_of_encoder"),
    Mistake("autoencoder_not_compiled", _BUILD, [("autoencoder.compile(", "# autoencoder.compile(")],
            words="not compiled", check=_LOSS),
    Mistake("categorical_crossentropy_loss", _BUILD,
            [(_COMPILED, 'loss="categorical_crossentropy"')],
            words="one class per row", check=_LOSS),
    Mistake("binary_crossentropy_from_logits_with_sigmoid", _BUILD,
            [(_COMPILED, "loss=keras.losses.BinaryCrossentropy(from_logits=True)")],
            words="from_logits=True", check=_LOSS),
    Mistake("models_returned_in_another_order", _BUILD,
            [(_RETURN, "return encoder, decoder, autoencoder")],
            words="(encoder, decoder, autoencoder)", check=_THREE),
    Mistake("only_the_autoencoder_returned", _BUILD, [(_RETURN, "return autoencoder")],
            words="expected a tuple of three models", check=_THREE),
    Mistake("far_too_large", _BUILD, [("Dense(128,", "Dense(2048,")],
            words="at most 1,000,000", check="test_build_autoencoder_parameter_budget"),
    # A model that does not learn within the grader's budget: only the learning checks
    # catch it (tests/checks/test_autoencoder.py: both do, saying why).
    Mistake("sgd_with_a_tiny_learning_rate", _BUILD,
            [('optimizer="adam"', "optimizer=keras.optimizers.SGD(learning_rate=1e-3)")],
            words=("times", "Hint"), slow=True),
    Mistake("noise_not_clipped", "add_noise", [(_CLIPPED, "return noisy")],
            words="np.clip", check=_CLIPS, sample=True),
    Mistake("seed_ignored_global_random_state", "add_noise",
            [(_NOISE, "np.random.normal(size=np.shape(images))")],
            words="np.random.default_rng(seed)", check="test_add_noise_same_seed_same_output"),
    Mistake("seed_fixed_at_zero", "add_noise", [("default_rng(seed)", "default_rng(0)")],
            words="not a fixed", check="test_add_noise_different_seeds_different_noise"),
    Mistake("uniform_noise", "add_noise", [(_NOISE, "rng.uniform(-1.0, 1.0, np.shape(images))")],
            words="uniform", check=_GAUSSIAN),
    Mistake("uniform_noise_of_unit_variance", "add_noise",
            [(_NOISE, "rng.uniform(-np.sqrt(3), np.sqrt(3), np.shape(images))")],
            words="kurtosis", check=_GAUSSIAN),
    Mistake("positive_noise_from_random", "add_noise", [(_NOISE, "rng.random(np.shape(images))")],
            words="never negative", check=_GAUSSIAN),
    Mistake("noise_factor_applied_twice", "add_noise",
            [("noise_factor * noise", "noise_factor * noise_factor * noise")],
            words="applied twice", check=_GAUSSIAN),
    Mistake("input_clipped_instead_of_output", "add_noise", [
        ("np.asarray(images, dtype=float) +", "np.clip(images, 0.0, 1.0) +"),
        (_CLIPPED, "return noisy"),
    ], words="not the input", check=_CLIPS),
    # Every pixel 0 or 1: no pixel lies inside (0, 1), so a statistic taken over the
    # pixels the output leaves inside would be taken over nothing.
    Mistake("noisy_pixels_rounded_to_0_or_1", "add_noise",
            [(_CLIPPED, "return np.round(np.clip(noisy, 0.0, 1.0))")],
            words="pixels has", check=_GAUSSIAN),
    Mistake("rescaled_to_unit_interval_instead_of_clipped", "add_noise",
            [(_CLIPPED, "return (noisy - noisy.min()) / (noisy.max() - noisy.min())")],
            words="rather than rescaling", check=_CLIPS),
    # np.asarray of a float array is that very array: += then changes the caller's images.
    Mistake("images_modified_in_place", "add_noise", [
        ("noisy = np.asarray(images, dtype=float) + noise_factor * noise",
         "noisy = np.asarray(images, dtype=float)\n    noisy += noise_factor * noise"),
    ], words="`images`", check="test_add_noise_does_not_modify_images"),
    Mistake(  # cannot learn, and passes every other check of build_autoencoder (test_autoencoder.py)
        "autoencoder_cannot_learn_learning_rate_0", "build_autoencoder",
        edits=[('optimizer="adam"', 'optimizer=keras.optimizers.Adam(learning_rate=0.0)')],
        words="learned nothing", check="test_build_autoencoder_reconstructs_held_out_digits_like_pca", slow=True, learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen
        "autoencoder_cannot_learn_frozen_layers", "build_autoencoder",
        edits=[('    autoencoder.compile(', '    autoencoder.trainable = False\n    autoencoder.compile(')],
        words="learned nothing", check="test_build_autoencoder_reconstructs_held_out_digits_like_pca", slow=True, learns=False,
    ),
]  # fmt: skip

ALTERNATIVES = [
    Alternative("sequential_deeper_relu_code_mse_autoencoder_as_sequential", """
import keras

def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(latent_dim, activation="relu"),
    ])
    decoder = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(input_dim, activation="sigmoid"),
    ])
    autoencoder = keras.Sequential([encoder, decoder])
    autoencoder.compile(optimizer="adam", loss="mse")
    return autoencoder, encoder, decoder
""", slow=True),
    Alternative("single_dense_layer_each_way_loss_object_list_returned", """
import keras

def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([keras.Input((input_dim,)), keras.layers.Dense(latent_dim, activation="relu")])
    decoder = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(input_dim, activation="sigmoid")])
    inputs = keras.Input((input_dim,))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    autoencoder.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy())
    return [autoencoder, encoder, decoder]
""", slow=True),
    Alternative("functional_leaky_relu_batch_norm_dropout_separate_activation", """
import keras

def build_autoencoder(input_dim, latent_dim):
    x = keras.Input(shape=(input_dim,), name="pixels")
    h = keras.layers.Dense(200)(x)
    h = keras.layers.LeakyReLU(negative_slope=0.1)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dropout(0.1)(h)
    z = keras.layers.Dense(latent_dim, name="code")(h)
    encoder = keras.Model(x, z, name="encoder")

    z_in = keras.Input(shape=(latent_dim,))
    g = keras.layers.Dense(200)(z_in)
    g = keras.layers.LeakyReLU(negative_slope=0.1)(g)
    g = keras.layers.Dense(input_dim)(g)
    x_hat = keras.layers.Activation("sigmoid")(g)
    decoder = keras.Model(z_in, x_hat, name="decoder")

    autoencoder = keras.Model(x, decoder(encoder(x)), name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(2e-3),
                        loss=keras.losses.MeanSquaredError())
    return autoencoder, encoder, decoder
""", slow=True),
    # Sequential models without an Input, built only when first called (no declared
    # shapes); its structure is checked, not its training.
    Alternative("subclassed_autoencoder_of_unbuilt_sequentials", """
import keras

class Autoencoder(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, x):
        return self.decoder(self.encoder(x))


def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dense(latent_dim)])
    decoder = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dense(input_dim, activation="sigmoid")])
    autoencoder = Autoencoder(encoder, decoder)
    autoencoder.compile(optimizer="adam", loss="mean_squared_error")
    return autoencoder, encoder, decoder
"""),
    Alternative("legacy_global_seed_and_normal_with_scale", """
def add_noise(images, noise_factor, seed=0):
    np.random.seed(seed)
    noisy = images + np.random.normal(loc=0.0, scale=noise_factor, size=images.shape)
    return np.clip(noisy, 0, 1)
"""),
    Alternative("random_state_randn_minimum_maximum_float32", """
def add_noise(images, noise_factor, seed=0):
    noise = np.random.RandomState(seed).randn(*images.shape)
    noisy = (images + noise_factor * noise).astype(np.float32)
    return np.minimum(np.maximum(noisy, 0.0), 1.0)
"""),
    Alternative("loop_over_images_with_where", """
def add_noise(images, noise_factor, seed=0):
    rng = np.random.default_rng(seed)
    out = np.array(images, dtype=float, copy=True)
    for i in range(len(out)):
        out[i] = out[i] + rng.normal(0.0, 1.0, size=out[i].shape) * noise_factor
    out = np.where(out < 0, 0.0, out)
    return np.where(out > 1, 1.0, out)
"""),
    Alternative("generator_normal_scale_and_clip_method", """
def add_noise(images, noise_factor, seed=0):
    generator = np.random.default_rng(seed=seed)
    return (images + generator.normal(scale=noise_factor, size=np.shape(images))).clip(0.0, 1.0)
"""),
]  # fmt: skip

CALLS = {
    "build_autoencoder": (20, 3),
    "add_noise": (np.zeros((2, 4)), 0.1),
}
