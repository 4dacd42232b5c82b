"""What the hidden checks of ``activations`` must do beyond the generic suite.

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/activations.py``) are tried by ``test_every_assignment.py`` on the
checks of the functions concerned; here: no message gives the reference's answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import cases
from tests.harness import mistaken, reference, score

ASSIGNMENT = "activations"
TABLE = cases.load(ASSIGNMENT)

# Several mistakes overflow on purpose (np.exp(1e4)); their warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.mark.parametrize(
    "mistake_id",
    [
        "layer_gradient_norms_reversed",
        "sigmoid_derivative_s_times_one_minus_z",
        "leaky_relu_ignores_negative_slope",
        "softmax_always_axis_0",
    ],
)
def test_messages_do_not_contain_the_reference_answers(mistake_id):
    """The reference's answers to the checks' own inputs never appear in the messages."""
    function = TABLE.mistake(mistake_id).function
    solution = reference(ASSIGNMENT)
    namespace = mistaken(ASSIGNMENT, mistake_id)
    wrong = namespace[function]
    expected_strings: set[str] = set()

    def spy(*args, **kwargs):
        for value in np.ravel(solution[function](*args, **kwargs)):
            for text in (f"{value:.6g}", repr(float(value))):
                if len(text.strip("-0.").replace(".", "")) >= 4:  # 4+ significant digits
                    expected_strings.add(text)
        return wrong(*args, **kwargs)

    namespace[function] = spy
    results = score(ASSIGNMENT, namespace, seed=7, only=function)
    messages = " ".join(r.output for r in results.values() if not r.passed)
    assert messages and expected_strings
    leaked = sorted(text for text in expected_strings if text in messages)
    assert not leaked, (leaked, messages)
