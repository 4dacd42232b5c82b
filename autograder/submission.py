"""What the hidden checks see of a submission: functions they can call.

The checks never touch the student's objects. They call a function by name with
arguments they chose and get plain data back (see :mod:`autograder.channel`).
:class:`LocalSubmission` does this in-process, for the kit's own tests of
mutants; :class:`autograder.remote.SandboxedSubmission` does it across the
sandbox boundary.
"""

from __future__ import annotations

import re
from typing import Any

from autograder import channel


class SubmissionError(Exception):
    """A call could not give a result; ``str(error)`` speaks to the student."""


class FunctionMissing(SubmissionError):
    """The notebook does not define the function."""

    def __init__(self, function: str, note: str = "") -> None:
        message = (
            f"`{function}` is not defined in your notebook. Keep the function name and "
            "signature of the stub and run the cell that defines it."
        )
        super().__init__(message + (f" {note}" if note else ""))


class NotImplementedYet(SubmissionError):
    """The function still raises ``NotImplementedError``."""

    def __init__(self, function: str) -> None:
        super().__init__(
            f"`{function}` is not implemented yet: calling it raised NotImplementedError. "
            "Replace `raise NotImplementedError()` with your code."
        )


#: Terminal colour and style codes, which Keras puts in its error messages.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _readable(message: str) -> str:
    """An error message as a student reads it in a results page.

    Terminal colour codes are dropped, and Keras's "Arguments received by ..."
    dump of every argument value (long, and repeating the grader's inputs) is cut.
    """
    message = _ANSI.sub("", message)
    message = message.split("\n\nArguments received by", 1)[0]
    return message.strip()


class StudentException(SubmissionError):
    """The student's function raised an exception."""

    def __init__(self, function: str, error_type: str, message: str, where: str = "") -> None:
        message = _readable(message)[:500]
        text = f"calling `{function}` raised {error_type}: {message}"
        if where:
            text += f" ({where})"
        super().__init__(text)
        self.error_type = error_type


class CallTimeout(SubmissionError):
    """The function did not return within the time limit."""

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(
            f"`{function}` did not return within {seconds:g} s on a small input; "
            "look for an infinite loop or a far too slow loop."
        )


class BadReturn(SubmissionError):
    """The function returned something the grader cannot read."""

    def __init__(self, function: str, why: str) -> None:
        super().__init__(f"`{function}` returned a value the grader cannot read: {why}")


class Unavailable(SubmissionError):
    """The submission as a whole could not be run (broken file, crash, time-out)."""


def student_error(function: str, reply: dict) -> SubmissionError:
    """Turn a child's error reply into the matching exception."""
    kind = reply.get("error")
    if kind == "missing":
        return FunctionMissing(function, str(reply.get("note", ""))[:300])
    if kind == "not_implemented":
        return NotImplementedYet(function)
    if kind == "timeout":
        return CallTimeout(function, float(reply.get("seconds", 0)))
    if kind == "bad_return":
        return BadReturn(function, str(reply.get("message", ""))[:300])
    return StudentException(
        function,
        str(reply.get("error_type", "Exception"))[:80],
        str(reply.get("message", "")),
        str(reply.get("where", ""))[:200],
    )


def _naming(error: SubmissionError, task: str, student: str) -> SubmissionError:
    """``error`` of a task, told as an error of the student's ``student``."""
    if isinstance(error, NotImplementedYet):
        return NotImplementedYet(student)
    if isinstance(error, StudentException) and error.error_type == "NameError":
        if f"'{student}'" in str(error):
            return FunctionMissing(student)
    return SubmissionError(str(error).replace(f"`{task}`", f"`{student}`", 1))


class Submission:
    """Interface the checks use. Subclasses implement :meth:`_call`.

    Attributes:
        seed: the seed drawn for this grading run; checks derive their inputs from it.
        metrics: what training checks measured, reported in ``results.json``.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        #: Figures the checks measured (accuracies, errors), by name: see ``report_metric``.
        self.metrics: dict[str, dict] = {}

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's ``function(*args, **kwargs)`` and return its result.

        Raises:
            SubmissionError: the function is missing, unimplemented, raised,
                timed out or returned something unreadable.
        """
        result, _, _ = self._call(function, args, kwargs, return_args=False)
        return result

    def call_keep_args(self, function: str, *args: Any, **kwargs: Any) -> tuple[Any, tuple, dict]:
        """Like :meth:`call`, and also return the arguments as they were after the call.

        Returns:
            ``(result, args_after, kwargs_after)``, for checking that inputs were not modified.
        """
        return self._call(function, args, kwargs, return_args=True)

    def task(
        self,
        name: str,
        *args: Any,
        timeout: float | None = None,
        student: str | None = None,
        doing: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the grader's task ``"<module>.<function>"`` (see :mod:`autograder.tasks`).

        The task runs where the student's functions live and gets their namespace.

        Args:
            name: the task, e.g. ``"keras_models.fit_predict"``.
            timeout: seconds it may take (default: the call time limit).
            student: the student's function or class the task works on; failures then
                name it rather than the task ("`build_cnn` is not implemented yet").
            doing: what the grader was doing, to start failure messages with
                ("While the grader trained your model: ...").

        Raises:
            SubmissionError: as :meth:`call`.

        Example:
            >>> submission.task("keras_models.model_info", "build_cnn",
            ...                 args=[(28, 28, 1), 10], student="build_cnn")  # doctest: +SKIP
        """
        try:
            return self._task(name, args, kwargs, timeout)
        except Unavailable:
            raise
        except SubmissionError as error:
            if student is None and doing is None:
                raise
            renamed = _naming(error, name, student) if student else error
            if doing and not isinstance(renamed, NotImplementedYet | FunctionMissing):
                renamed = SubmissionError(f"While the grader {doing}: {renamed}")
            raise renamed from None

    def _call(
        self, function: str, args: tuple, kwargs: dict, return_args: bool
    ) -> tuple[Any, tuple, dict]:
        raise NotImplementedError

    def _task(self, name: str, args: tuple, kwargs: dict, timeout: float | None) -> Any:
        raise NotImplementedError

    def notes(self) -> list[str]:
        """Things the student should know about how their notebook ran."""
        return []


class LocalSubmission(Submission):
    """Functions from an in-process namespace, called as the sandbox would call them.

    Arguments and results are copied through the channel's encoding, so a check
    behaves exactly as it does against a sandboxed notebook. For the kit's own
    tests only: it offers no isolation.

    Example:
        >>> sub = LocalSubmission({"double": lambda x: 2 * x})
        >>> sub.call("double", 3)
        6
    """

    def __init__(self, namespace: dict, seed: int = 0) -> None:
        super().__init__(seed)
        self.namespace = namespace

    def _call(self, function, args, kwargs, return_args):
        func = self.namespace.get(function)
        if not callable(func):
            raise FunctionMissing(function)
        args = channel.resolve_markers(channel.roundtrip(tuple(args)), self.namespace)
        kwargs = channel.resolve_markers(channel.roundtrip(dict(kwargs)), self.namespace)
        try:
            result = func(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(function) from None
        except Exception as error:
            raise StudentException(function, type(error).__name__, str(error)) from None
        try:
            result = channel.roundtrip(result)
        except channel.ChannelError as error:
            raise BadReturn(function, str(error)) from None
        if not return_args:
            return result, (), {}
        return (
            result,
            channel.roundtrip(channel.unresolve(args)),
            channel.roundtrip(channel.unresolve(kwargs)),
        )

    def _task(self, name, args, kwargs, timeout):
        from autograder import tasks

        func = tasks.resolve(name)
        args = channel.resolve_markers(channel.roundtrip(tuple(args)), self.namespace)
        kwargs = channel.resolve_markers(channel.roundtrip(dict(kwargs)), self.namespace)
        try:
            result = func(self.namespace, *args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(name) from None
        except Exception as error:
            raise StudentException(name, type(error).__name__, str(error)) from None
        try:
            return channel.roundtrip(result)
        except channel.ChannelError as error:
            raise BadReturn(name, str(error)) from None
