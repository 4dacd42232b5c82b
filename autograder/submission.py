"""What the hidden checks see of a submission: functions they can call.

The checks never touch the student's objects. They call a function by name with
arguments they chose and get plain data back (see :mod:`autograder.channel`).
:class:`LocalSubmission` does this in-process, for the kit's own tests of
mutants; :class:`autograder.sandboxed.SandboxedSubmission` does it across the
sandbox boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from autograder import channel
from autograder.channel import Error
from autograder.tasks import EXPORT_TASK


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


#: Errors that mean the function could not run at all, whatever its inputs: a name that
#: is not defined (a helper deleted or renamed, a cell not run or failed), an import that
#: failed, code that does not compile. Not a wrong value: no hint about values applies.
COULD_NOT_RUN = (
    "NameError",
    "ImportError",
    "ModuleNotFoundError",
    "SyntaxError",
    "IndentationError",
    "TabError",
)
#: The name in a NameError's message: ``name 'sigmoid' is not defined``.
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")


class CouldNotRun(StudentException):
    """The student's function could not run: see :data:`COULD_NOT_RUN`.

    The message says so, and why (the undefined name and the cell that defines it, the
    failed import), and gives no hint about the function's values.

    Attributes:
        name: for a NameError, the name that is not defined (else ``""``).
    """

    def __init__(
        self, function: str, error_type: str, message: str, where: str = "", defined: str = ""
    ) -> None:
        message = _readable(message)[:500]
        match = _UNDEFINED.search(message) if error_type == "NameError" else None
        self.name = match.group(1) if match else ""
        at = f", at {where}" if where else ""
        if self.name:
            text = (
                f"`{function}` could not run: it uses `{self.name}`, which is not defined when "
                f"the grader calls it (NameError: {message}{at})."
            )
            text += " " + (
                defined
                or "Run every cell from the top (Restart Kernel and Run All Cells) and check "
                f"that `{self.name}` is not deleted or renamed."
            )
        elif error_type in ("ImportError", "ModuleNotFoundError"):
            text = (
                f"`{function}` could not run: an import failed ({error_type}: {message}{at}). "
                "The grader has the packages the course uses; import them as the released "
                "notebook does."
            )
        else:
            text = f"`{function}` could not run ({error_type}: {message}{at})."
        text += " It returned nothing, so this is not about its values: fix this first."
        SubmissionError.__init__(self, text)
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


class UntrustedReport(SubmissionError):
    """The submission's process reported arguments after a call that it had not."""

    def __init__(self) -> None:
        super().__init__(
            "The process running your notebook misreported what became of a call's "
            "arguments (the grader checked one it knows), so the grader cannot tell whether "
            "your function leaves its inputs unchanged. Do not patch the grader's code in "
            "your notebook."
        )


class Unavailable(SubmissionError):
    """The submission as a whole could not be run (broken file, crash, time-out)."""


def student_error(
    function: str,
    reply: dict,
    *,
    place: Callable[[str], str] | None = None,
    defined: Callable[[str], str] | None = None,
) -> SubmissionError:
    """Turn a child's error reply into the matching exception.

    Args:
        function: the function called.
        reply: the child's error reply.
        place: rewrites the child's words for a place ("line 2 of cell 3") as the student
            finds it (the cell's label, see :func:`autograder.notebook.name_cells`).
        defined: for a name that is not defined, what the notebook says of it (the cell
            that defines it and what became of that cell), or ``""``.
    """
    kind = reply.get("error")
    if kind == Error.MISSING:
        return FunctionMissing(function, str(reply.get("note", ""))[:300])
    if kind == Error.NOT_IMPLEMENTED:
        return NotImplementedYet(function)
    if kind == Error.TIMEOUT:
        return CallTimeout(function, float(reply.get("seconds", 0)))
    if kind == Error.BAD_RETURN:
        return BadReturn(function, str(reply.get("message", ""))[:300])
    error_type = str(reply.get("error_type", "Exception"))[:80]
    message = str(reply.get("message", ""))
    where = str(reply.get("where", ""))[:200]
    if place is not None:
        message, where = place(message), place(where)
    if error_type in COULD_NOT_RUN:
        error = CouldNotRun(function, error_type, message, where)
        if error.name and defined is not None:
            error = CouldNotRun(function, error_type, message, where, defined(error.name))
        return error
    return StudentException(function, error_type, message, where)


def _naming(error: SubmissionError, task: str, student: str) -> SubmissionError:
    """``error`` of a task, told as an error of the student's ``student``."""
    if isinstance(error, NotImplementedYet):
        return NotImplementedYet(student)
    if isinstance(error, StudentException) and error.error_type == "NameError":
        if getattr(error, "name", "") == student or f"'{student}'" in str(error):
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

        What the arguments became is reported by the submission's process, so it is
        taken on its word; a process whose report of a call the grader can verify
        (:meth:`_reports_are_true`) is false gets :class:`UntrustedReport` instead.

        Returns:
            ``(result, args_after, kwargs_after)``, for checking that inputs were not modified.

        Raises:
            UntrustedReport: the submission's process lied about arguments before.
        """
        if not self._reports_are_true():
            raise UntrustedReport()
        return self._call(function, args, kwargs, return_args=True)

    def _reports_are_true(self) -> bool:
        """Whether the process's reports of arguments after a call can be believed."""
        return True

    def task(
        self,
        name: str,
        *args: Any,
        timeout: float | None = None,
        student: str | None = None,
        doing: str | None = None,
        reports_args: bool = False,
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
            reports_args: the task reports what became of the arguments it passed (a
                DataFrame's columns and values after the call): as for
                :meth:`call_keep_args`, a process that misreported the canary gets
                :class:`UntrustedReport` instead.

        Raises:
            SubmissionError: as :meth:`call`.

        Example:
            >>> submission.task("keras_models.model_info", "build_cnn",
            ...                 args=[(28, 28, 1), 10], student="build_cnn")  # doctest: +SKIP
        """
        if reports_args and not self._reports_are_true():
            raise UntrustedReport()
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

    def judge(
        self,
        action: str,
        builder: str,
        *,
        args: Any = (),
        kwargs: dict | None = None,
        pick: int | None = None,
        seed: int = 0,
        timeout: float | None = None,
        student: str | None = None,
        doing: str | None = None,
        input_shapes: list | None = None,
        task: str = EXPORT_TASK,
        task_kwargs: dict | None = None,
        **data: Any,
    ) -> Any:
        """Judge the model of ``builder(*args, **kwargs)`` where no student code runs.

        The child builds the model with the grader's ``seed`` and exports it as data
        (:mod:`autograder.tasks.keras_models`); the grader checks the export
        (:mod:`autograder.judging`); the judge (:mod:`autograder.judge`) rebuilds it
        and answers ``action`` on ``data``.

        Args:
            action: ``"describe"``, ``"predict"`` (``x=``), ``"fit_predict"``
                (``x_train=, y_train=, x_test=, epochs=, batch_size=``) or
                ``"autoencoder"`` (``x=, codes=``): see :mod:`autograder.judge`.
            builder: the student's builder; ``args``, ``kwargs`` its arguments.
            pick: for a builder that returns several models, the one to judge.
            input_shapes: per model, its input shape without the batch axis, for a
                model of the student's own class (a ``keras.Model`` subclass, which
                the child rebuilds as a functional model); by default the shape of
                ``x`` or ``x_train`` (the autoencoder's: ``x``, ``x``, ``codes``).
            timeout, student, doing: as for :meth:`task`.
            task, task_kwargs: another export task than the builder's call, with its
                keywords (the capstone's ``transfer.export`` builds on a base of the
                grader's); its exports are all judged together (``payload["exports"]``).

        Raises:
            SubmissionError: the build failed, or the model cannot be judged (the
                message says why, e.g. a Lambda layer or a subclassed model).

        Example:
            >>> submission.judge("describe", "build_cnn", args=[(28, 28, 1), 10],
            ...                  seed=7, student="build_cnn")  # doctest: +SKIP
        """
        from autograder import judging

        if task != EXPORT_TASK:
            exported = self.task(
                task, timeout=timeout, student=student, doing=doing, seed=int(seed),
                **(task_kwargs or {}),
            )  # fmt: skip
        else:
            if input_shapes is None:
                input_shapes = judging.input_shapes(action, data)
            exported = self.task(
                EXPORT_TASK, builder, args=list(args), kwargs=kwargs, pick=pick,
                seed=int(seed), every=action == "autoencoder", input_shapes=input_shapes, timeout=timeout, student=student, doing=doing,
            )  # fmt: skip
        try:
            exports = judging.check_exports(exported)
        except judging.ModelRefused as error:
            raise self._judged_error(str(error), student or builder, doing) from None
        payload: dict[str, Any] = {"seed": int(seed), **data}
        if task != EXPORT_TASK:
            if not exports:
                raise self._judged_error("no model came back", student or builder, doing)
            payload["exports"] = exports
        elif action == "autoencoder":
            returned = exported.get("returned") if isinstance(exported, dict) else None
            if len(exports) != 3:
                return {"returned": returned, "models": {}, "outputs": {}, "errors": {}}
            payload["exports"] = exports
        elif len(exports) != 1:
            raise self._judged_error("no model came back", student or builder, doing)
        else:
            payload["export"] = exports[0]
        reply = self._judge(action, payload, timeout)
        if reply.get("ok") is not True:
            message = str(reply.get("message", ""))[:500] or "the judge gave no reason"
            if reply.get("error") != Error.REFUSED:
                message = f"Keras could not rebuild or run it ({message})"
            raise self._judged_error(message, student or builder, doing)
        result = reply.get("result")
        if action == "autoencoder" and isinstance(result, dict):
            result["returned"] = exported.get("returned")
        return result

    @staticmethod
    def _judged_error(why: str, student: str, doing: str | None) -> SubmissionError:
        text = f"The grader could not judge the model of `{student}`: {why}."
        if doing:
            text = f"While the grader {doing}: {text[0].lower()}{text[1:]}"
        return SubmissionError(text)

    def _judge(self, action: str, payload: dict, timeout: float | None) -> dict:
        """Send one request to the judge; the reply as a dict with ``ok``."""
        raise NotImplementedError

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

    #: How arguments and results cross between the checks and the functions: through
    #: the channel's encoding, as to and from a sandbox.
    copy_value = staticmethod(channel.roundtrip)

    def _call(self, function, args, kwargs, return_args):
        func = self.namespace.get(function)
        if not callable(func):
            raise FunctionMissing(function)
        args = channel.resolve_markers(self.copy_value(tuple(args)), self.namespace)
        kwargs = channel.resolve_markers(self.copy_value(dict(kwargs)), self.namespace)
        try:
            result = func(*args, **kwargs)
        except NotImplementedError:
            raise NotImplementedYet(function) from None
        except Exception as error:
            raise student_error(
                function,
                {"error_type": type(error).__name__, "message": str(error)},
            ) from None
        try:
            result = self.copy_value(result)
        except channel.ChannelError as error:
            raise BadReturn(function, str(error)) from None
        if not return_args:
            return result, (), {}
        return (
            result,
            self.copy_value(channel.unresolve(args)),
            self.copy_value(channel.unresolve(kwargs)),
        )

    def _judge(self, action, payload, timeout):
        from autograder import judging

        return judging.judge_in_process(action, payload)

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
            raise student_error(
                name, {"error_type": type(error).__name__, "message": str(error)}
            ) from None
        try:
            return channel.roundtrip(result)
        except channel.ChannelError as error:
            raise BadReturn(name, str(error)) from None
