"""Grader-defined code that runs inside the sandbox, beside the student's functions.

Some checks need more than a function call: building the student's Keras model
and reporting its shapes, or training it with the grader's seed, data and epoch
budget and returning predictions for held-out inputs. Such a *task* is a
function ``task(namespace, *args, **kwargs)`` in a module of this package, listed
in that module's ``TASKS``; ``namespace`` holds the student's notebook globals.
A check runs one with ``submission.task("<module>.<function>", *args)``.

Tasks run in the student's process, so they get no secrets: no labels of test
inputs, no reference solutions, no expected values. They return plain data
(numbers, arrays, lists, dicts with string keys), which the checks judge in the
grader's process. This package is copied into the sandbox as ``tasks``, so its
modules import each other relatively.
"""

from __future__ import annotations

import importlib

#: The task :meth:`autograder.submission.Submission.judge` runs first: the child's
#: export of the student's model, which the judge then rebuilds and measures.
EXPORT_TASK = "keras_models.export"


def resolve(name: str, package: str = __name__):
    """The task function called ``"<module>.<function>"``; ``LookupError`` if none is."""
    module_name, _, function = name.partition(".")
    if not module_name.isidentifier() or not function.isidentifier():
        raise LookupError(f"no task {name!r}")
    try:
        module = importlib.import_module(f"{package}.{module_name}")
    except ImportError as error:
        raise LookupError(f"no task module {module_name!r}: {error}") from None
    if function not in getattr(module, "TASKS", ()):
        raise LookupError(f"no task {name!r}")
    return getattr(module, function)
