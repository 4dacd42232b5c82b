"""The grader's side of the judge: check an exported model, then have it judged.

:meth:`autograder.submission.Submission.judge` runs the child's export task
(:mod:`autograder.tasks.keras_models`), checks here what came back
(:func:`check_exports`: plain JSON within bounds, every class from Keras, no
stored Python code), and sends it to the
judge (:mod:`autograder.judge`): in process for the kit's own tests of mutants
(:func:`judge_in_process`), or in a sandbox of its own that never ran any of the
submission's code (:class:`JudgeProcess`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from autograder import channel, sandbox
from autograder.submission import SubmissionError

#: Characters of one exported configuration the grader reads (honest ones are a few KB).
MAX_CONFIG_CHARS = 512 * 1024
#: Objects (dicts) in one configuration, and models in one export.
MAX_CONFIG_OBJECTS = 20_000
MAX_MODELS = 3
#: Serialised kinds that are data, not classes: they carry no ``module``.
DATA_KINDS = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__typespec__",
              "__slice__", "__ellipsis__", "__complex__"}  # fmt: skip
#: Kinds that hold Python code as bytecode: never loaded. (A ``"function"`` is stored
#: by name only; the judge finds Keras's functions by name and no others.)
CODE_KINDS = {"__lambda__"}
#: Seconds a judge may take to start before its first answer counts against the call.
START_TIMEOUT = 120.0


class ModelRefused(SubmissionError):
    """The export cannot be judged; ``str(error)`` says why, for the student."""


def _keras_module(module) -> bool:
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def _check_tree(config: Any) -> None:
    """Refuse a parsed configuration with stored code, or a class outside Keras."""
    count = [0]

    def visit(node) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        count[0] += 1
        if count[0] > MAX_CONFIG_OBJECTS:
            raise ModelRefused(f"its configuration has more than {MAX_CONFIG_OBJECTS} objects")
        name, module = node.get("class_name"), node.get("module")
        if isinstance(name, str):
            if name in CODE_KINDS or (
                name == "function" and not isinstance(node.get("config"), str)
            ):
                raise ModelRefused(
                    "it stores Python code (a Lambda layer or a function of your own), which "
                    "the grader does not load; use keras layers and keras.ops instead"
                )
            keras_class = _keras_module(module) or name == "function"
            if name not in DATA_KINDS and not keras_class:
                raise ModelRefused(
                    f"it uses `{name[:60]}`, a class that is not part of Keras, which the "
                    "grader cannot rebuild outside your notebook; build the model from "
                    "keras layers (Sequential or the functional API)"
                )
        for value in node.values():
            visit(value)

    visit(config)


def check_config(text: Any) -> dict:
    """The parsed configuration of one exported model, or :class:`ModelRefused`.

    Args:
        text: the JSON text the child sent.

    Example:
        >>> check_config('{"module": "keras", "class_name": "Sequential", "config": {}}')["class_name"]
        'Sequential'
    """
    if not isinstance(text, str) or not text:
        raise ModelRefused("the grader received no configuration of your model")
    if len(text) > MAX_CONFIG_CHARS:
        raise ModelRefused(
            f"its configuration has {len(text):,} characters (at most {MAX_CONFIG_CHARS:,}); "
            "a model's configuration describes layers, not data"
        )
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ModelRefused(f"its configuration is not JSON ({str(error)[:100]})") from None
    _check_tree(config)
    if not isinstance(config, dict) or not _keras_module(config.get("module")):
        raise ModelRefused("its configuration does not describe a Keras model")
    return config


def check_exports(reply: Any) -> list[dict]:
    """The exports of a reply of the child's ``keras_models.export`` task, checked.

    Returns:
        One ``{"config": text, "compile": text or None}`` per model.

    Raises:
        ModelRefused: the reply is malformed, or a model cannot be judged (a
            subclassed model, Python code, a class outside Keras).
    """
    exports = reply.get("exports") if isinstance(reply, dict) else None
    if not isinstance(exports, list) or len(exports) > MAX_MODELS:
        raise ModelRefused("the grader could not read the exported model")
    checked = []
    for export in exports:
        if not isinstance(export, dict):
            raise ModelRefused("the grader could not read the exported model")
        error = export.get("error")
        if export.get("config") is None:
            raise ModelRefused(
                "Keras could not save its configuration"
                + (f" ({str(error)[:200]})" if error else "")
                + "; build it with keras.Sequential or the functional API "
                "(keras.Model(inputs, outputs)), not by subclassing keras.Model"
            )
        check_config(export["config"])
        compile_text = export.get("compile")
        if compile_text is not None:
            if not isinstance(compile_text, str) or len(compile_text) > MAX_CONFIG_CHARS:
                raise ModelRefused("the grader could not read its compile settings")
            try:
                _check_tree(json.loads(compile_text))
            except (ValueError, RecursionError):
                raise ModelRefused("the grader could not read its compile settings") from None
        elif error:
            raise ModelRefused(str(error)[:300])
        checked.append({"config": export["config"], "compile": compile_text})
    return checked


def input_shapes(action: str, data: dict) -> list | None:
    """Each judged model's input shape (no batch axis), from the data a judge action gets."""

    def shape(name: str) -> list | None:
        value = data.get(name)
        return [int(d) for d in value.shape[1:]] if hasattr(value, "shape") else None

    if action == "autoencoder":
        return [shape("x"), shape("x"), shape("codes")]
    found = shape("x") if "x" in data else shape("x_train")
    return None if found is None else [found]


def judge_in_process(action: str, payload: dict) -> dict:
    """Answer a judge request in this process (the kit's own tests only: no isolation)."""
    from autograder import judge

    request = channel.roundtrip({"op": channel.Op.JUDGE, "action": action, "payload": payload})
    return channel.roundtrip(judge.handle(request))


class JudgeProcess:
    """A judge sandbox (see :mod:`autograder.judge`), started on the first request.

    It is a :class:`~autograder.sandbox.Jail` of its own, with the submission's
    limits, that runs only the kit's ``judge.py``: no cell of the submission ever
    runs there. A judge that dies or hangs is replaced by a fresh one.

    Example:
        >>> with JudgeProcess(sandbox.Limits()) as judge:  # doctest: +SKIP
        ...     judge.request("describe", {"export": export, "seed": 0}, timeout=60)
    """

    def __init__(self, limits: sandbox.Limits) -> None:
        self.limits = limits
        self.jail: sandbox.Jail | None = None
        self._process = None
        self._to = self._from = -1
        self._log = None
        #: Requests answered and processes started (for the kit's tests and reports).
        self.requests = 0
        self.starts = 0

    def __enter__(self) -> JudgeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        if self.jail is None:
            self.jail = sandbox.Jail(self.limits, program="judge")
        self._log = open(self.jail.dir / f"judge{self.starts}.log", "wb")  # noqa: SIM115
        self._process, self._to, self._from = self.jail.start(self._log)
        self.starts += 1

    def _stop(self) -> None:
        if self.jail is not None and self._process is not None:
            self.jail.stop()
        self._process = None
        sandbox.release_channel((self._to, self._from), self._log)
        self._to = self._from = -1
        self._log = None

    def close(self) -> None:
        """Stop the judge and remove its sandbox."""
        self._stop()
        if self.jail is not None:
            self.jail.close()
            self.jail = None

    def request(self, action: str, payload: dict, timeout: float) -> dict:
        """Send one request and return the judge's reply (a dict with ``ok``).

        Raises:
            TimeoutError: no answer within ``timeout`` seconds (the judge is stopped).
            SubmissionError: the judge died (its limits name why) or garbled its reply.
        """
        extra = 0.0
        if self._process is None:
            self._start()
            extra = START_TIMEOUT
        message = {"op": channel.Op.JUDGE, "action": action, "payload": payload}
        try:
            channel.write_message(self._to, message, deadline=time.monotonic() + 30)
            reply = channel.read_message(self._from, deadline=time.monotonic() + timeout + extra)
        except TimeoutError:
            self._stop()
            raise
        except (EOFError, OSError, channel.ChannelError) as error:
            hit = self.jail.limit_reason() if self.jail is not None else None
            self._stop()
            raise SubmissionError(
                "the grader's judge stopped while it worked on your model"
                + (f": it {hit}" if hit else f" ({type(error).__name__})")
            ) from None
        self.requests += 1
        return reply if isinstance(reply, dict) else {"ok": False, "message": "no reply"}
