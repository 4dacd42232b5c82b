"""What holds for the hidden checks of ``rbm`` only (the rest: test_every_assignment.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder import cases
from tests.checks.test_every_assignment import mistake_results
from tests.harness import check_module, failing_seeds, mistaken, reference, score

ASSIGNMENT = "rbm"

# Overflowing softplus and sigmoid formulas are among the table's mistakes.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".5g", ".4g", ".3g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_free_energy():
    seen: list = []
    spy = """
def free_energy(v, W, b_v, b_h):
    _seen.append((np.array(v), np.array(W), np.array(b_v), np.array(b_h)))
    return -np.logaddexp(0, v @ W + b_h).sum(axis=1)
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    output = score(ASSIGNMENT, namespace, seed=11, only="free_energy")["test_free_energy_values"]
    output = output.output
    assert seen and "not correct" in output
    v, W, b_v, b_h = seen[0]
    expected = -v @ b_v - np.logaddexp(0, v @ W + b_h).sum(axis=1)
    for value in expected:
        for text in _formats(float(value)):
            assert text not in output, (text, output)


def test_messages_do_not_reveal_the_expected_update():
    """The CD messages give distances in standard errors, never an expected update."""
    results = mistake_results(ASSIGNMENT, "contrastive_divergence_sign_flipped")
    output = results["test_contrastive_divergence_expected_cd1_update"].output
    assert "times further" in output
    numbers = re.findall(r"-?\d+\.\d+", output)
    # Only the learning rate of the call and the distance (over the tolerance) are printed.
    assert len(numbers) <= 2, numbers


# ---------------------------------------------------------------------------
# The statistical checks, run over many seeds
# ---------------------------------------------------------------------------

#: Correct contrastive divergences (the reference and the table's alternatives) that
#: the statistical checks of contrastive_divergence are run over. The per-row loops
#: alternative is left to the generic suite (seconds per run); its expectation is the
#: reference's, whose order of draws another alternative changes too.
CD_CORRECT = (
    "reference",
    "mean_field_reconstruction_and_sampled_hidden_statistics",
    "binomial_sampler_and_visible_probabilities_in_the_negative_statistics",
    "free_energy_gradient_written_cd",
    "probabilities_for_the_last_visible_reconstruction",
    "probabilities_for_every_visible_state_of_the_chain",
    "sampled_statistics_and_another_order_of_draws",
)
CD_MISTAKES = tuple(
    f"contrastive_divergence_{name}"
    for name in ("sign_flipped", "sums_over_the_batch", "negative_phase_with_data_hidden",
                 "negative_phase_with_generating_hidden")
)  # fmt: skip
SAMPLER_CORRECT = (
    "reference",
    "binomial_sampler_and_visible_probabilities_in_the_negative_statistics",
    "manual_stable_softplus_where_sampler_tanh_sigmoid",
)

#: Every check of rbm whose verdict rests on random draws: the correct cases it must pass
#: on every seed and the mistakes it must fail on every seed, and how many seeds the
#: ordinary run tries (benchmarks/statistical_checks.py runs a thousand and more).
STATISTICAL = {
    "test_sample_bernoulli_frequencies_match_p": (
        SAMPLER_CORRECT,
        (
            "sample_bernoulli_thresholds_at_one_half",
            "sample_bernoulli_inverted_comparison",
            "sample_bernoulli_one_draw_per_row",
        ),
        200,
    ),  # fmt: skip
    "test_sample_bernoulli_uses_the_given_rng": (
        SAMPLER_CORRECT,
        ("sample_bernoulli_thresholds_at_one_half", "sample_bernoulli_global_random_state"),
        200,
    ),
    "test_contrastive_divergence_uses_the_given_rng": (
        CD_CORRECT,
        ("contrastive_divergence_global_random_state", "contrastive_divergence_never_samples"),
        200,
    ),
    "test_contrastive_divergence_expected_cd1_update": (CD_CORRECT, CD_MISTAKES, 20),
    "test_contrastive_divergence_expected_cdk_update": (
        CD_CORRECT,
        (*CD_MISTAKES, "contrastive_divergence_ignores_k"),
        10,
    ),
    "test_contrastive_divergence_raises_log_likelihood": (
        CD_CORRECT,
        ("contrastive_divergence_sign_flipped",),
        50,
    ),
}


def case_namespace(case: str) -> dict:
    """The reference, an alternative of the table, or a mistake of it, by id."""
    if case == "reference":
        return reference(ASSIGNMENT)
    table = cases.load(ASSIGNMENT)
    alternatives = {alternative.id: alternative for alternative in table.alternatives}
    if case in alternatives:
        return reference(ASSIGNMENT, alternatives[case].source)
    return mistaken(ASSIGNMENT, case)


def _correct_cases(seeds_of=lambda n: n):
    return [
        pytest.param(check, case, seeds_of(n), id=f"{check}-{case}")
        for check, (correct, _, n) in STATISTICAL.items()
        for case in correct
    ]


def _mistaken_cases(seeds_of=lambda n: n):
    return [
        pytest.param(check, case, seeds_of(n), id=f"{check}-{case}")
        for check, (_, mistakes, n) in STATISTICAL.items()
        for case in mistakes
    ]


@pytest.mark.parametrize(("check", "case", "n_seeds"), _correct_cases())
def test_statistical_check_passes_correct_work_on_every_seed(check, case, n_seeds):
    failed = failing_seeds(ASSIGNMENT, check, case_namespace(case), range(n_seeds))
    assert not failed, (len(failed), n_seeds, next(iter(failed.items())))


@pytest.mark.parametrize(("check", "case", "n_seeds"), _mistaken_cases())
def test_statistical_check_fails_mistake_on_every_seed(check, case, n_seeds):
    failed = failing_seeds(ASSIGNMENT, check, case_namespace(case), range(n_seeds))
    assert len(failed) == n_seeds, (n_seeds - len(failed), n_seeds)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("check", "case", "n_seeds"),
    [p for p in _correct_cases(lambda n: 200) if "expected_cd" in p.values[0]],
)
def test_expected_update_passes_correct_work_on_200_seeds(check, case, n_seeds):
    failed = failing_seeds(ASSIGNMENT, check, case_namespace(case), range(1000, 1000 + n_seeds))
    assert not failed, (len(failed), n_seeds, next(iter(failed.items())))


def _flat_update(namespace, v0, W, b_v, b_h, k: int, seed: int) -> np.ndarray:
    new = namespace["contrastive_divergence"](v0, W, b_v, b_h, 1.0, k=k,
                                              rng=np.random.default_rng(seed))  # fmt: skip
    return np.concatenate([(a - b).ravel() for a, b in zip(new, (W, b_v, b_h), strict=True)])


def test_cd_variance_bound_holds_for_every_correct_variant():
    """The analytic variance bound behind the CD tolerances is above each variant's variance."""
    checks = check_module(ASSIGNMENT)
    rng = np.random.default_rng(3)
    W, b_v, b_h = checks._rbm(rng, 4, 3, scale=3.0)
    v0 = checks._binary_states(4)[[3, 10, 12]]  # three data rows
    for k in (1, 3):
        bounds = [
            checks._cd_row_variance_bound(
                v0, W, b_h, *checks._chain_states(v0, W, b_v, b_h, k, variant)
            ).sum(axis=0)
            for variant in checks.CD_VARIANTS
        ]
        for case in CD_CORRECT:
            namespace = case_namespace(case)
            draws = np.array([_flat_update(namespace, v0, W, b_v, b_h, k, s) for s in range(2000)])
            measured = draws.var(axis=0, ddof=1) * len(v0) ** 2  # variance of the rows' sum
            # A sample variance has relative standard error sqrt((kurtosis - 1) / n): large
            # for an entry moved by rare events, small for the others; 6 of them is the
            # room left (the seeds are fixed, so the answer is the same on every run).
            centred = draws - draws.mean(axis=0)
            kurtosis = (
                np.mean(centred**4, axis=0) / np.maximum(np.mean(centred**2, axis=0), 1e-300) ** 2
            )
            room = 1.0 + 6.0 * np.sqrt(np.maximum(kurtosis - 1.0, 0.0) / len(draws))
            assert any(np.all(measured <= room * bound + 1e-12) for bound in bounds), (case, k)
