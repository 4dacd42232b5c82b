"""The data-only protocol between the grader and the sandboxed child.

A message is a JSON header followed by binary blobs. Arrays travel as ``.npy``
blobs whose header this module parses itself and checks before it touches the
data; everything else is JSON. Nothing that crosses the channel is unpickled or
evaluated, so a child can send wrong data but never code.

This module is also copied into the sandbox, so it imports only the standard
library and numpy.

Wire format of one message::

    <u4 header length> <header JSON, UTF-8>  then, per blob: <u8 length> <bytes>

The header is a JSON object; its key ``"__blobs__"`` says how many blobs follow.

Encoded values (inside the header):

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinities allowed), ``str``
  and ``list`` as plain JSON (numpy's ``float64`` is a ``float`` and arrives as
  one: send ``np.asarray(x)`` where the student must get a 0-d array);
* ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}`` (string keys);
* ``{"__ndarray__": i}`` and ``{"__scalar__": i}``: blob ``i`` in ``.npy`` format
  (version 1.0 or 2.0), each blob referenced exactly once;
* markers the grader uses in arguments: ``{"__func__": name}`` (a fixed
  child-side numpy function), ``{"__student__": name}`` (a function of the
  student's notebook) and ``{"__rng__": seed}`` (a fresh ``np.random.Generator``).

Limits. Both sides enforce the same ones: :func:`pack` refuses to send what
:func:`read_message` would refuse to read (so a child answers ``bad_return``
instead of sending it), and :func:`read_message` turns anything else, whatever
bytes arrive, into :class:`ChannelError` without allocating much more than the
bytes it received:

* the whole message: ``MAX_MESSAGE_BYTES``; the header: ``MAX_HEADER_BYTES``;
* the header's JSON nesting: ``MAX_HEADER_DEPTH``, checked on the raw bytes
  before parsing; its values and keys: ``MAX_HEADER_ITEMS``; an integer
  literal: ``MAX_INT_DIGITS`` digits; values nest at most ``MAX_DEPTH`` deep;
* blobs: ``MAX_BLOBS``; arrays: numbers or booleans only (dtype kinds
  ``b i u f c``: no object, string, void, structured or subarray dtype), at most
  ``MAX_NDIM`` axes and ``MAX_ARRAY_ELEMENTS`` elements, and a blob must be
  exactly its ``.npy`` header (at most ``MAX_NPY_HEADER_BYTES``) plus the
  declared elements' bytes.
"""

from __future__ import annotations

import errno
import io
import json
import math
import numbers
import os
import re
import select
import struct
import time
from typing import Any

import numpy as np

#: Largest message either side accepts (header and blobs together). The largest
#: honest messages are a cell's figures (at most 8 PNGs of 1 MiB each, see
#: ``child.py``) and the grader's training sets (about 1 MB of digits as float64):
#: 64 MiB leaves a wide margin while a child cannot make the grader hold much.
MAX_MESSAGE_BYTES = 64 * 1024**2
#: Largest JSON header. Honest headers are small: the notebook's code in the
#: ``run`` request (about 20 KB for the kit's own notebooks), a cell's kept
#: printed text (4,096 characters, at most 12 bytes each when escaped), error
#: messages of a few hundred characters, the model descriptions of the tasks;
#: arrays travel as blobs. 1 MiB is 20 times the largest of these.
MAX_HEADER_BYTES = 1024**2
#: Most JSON values and keys in one header, counted on the raw bytes as one more
#: than the commas, colons and opening brackets outside strings. The largest
#: honest use is a student returning a nested list instead of an array
#: (1,000 x 10 predictions: about 11,000); the limit bounds the Python objects a
#: header can make, whatever its size.
MAX_HEADER_ITEMS = 100_000
#: Most digits of an integer literal in a header. Integers are sent below 2**63
#: (19 digits; larger ones travel as floats); Python's int() of thousands of
#: digits is slow or refused.
MAX_INT_DIGITS = 20
#: Deepest nesting of lists, tuples and dicts accepted in one value.
MAX_DEPTH = 32
#: Deepest JSON nesting of a header: the header object, three JSON levels per
#: value level (``{"__dict__": [[key, value]]}``) and one for an array reference.
MAX_HEADER_DEPTH = 1 + 3 * (MAX_DEPTH + 1) + 1
#: Most blobs in one message (a student may return a long list of numpy scalars).
MAX_BLOBS = 100_000
#: Most axes of an array (numpy allows 64; nothing in the course needs more than 4).
MAX_NDIM = 32
#: Most elements of one array (an element is at least one byte, so no honest
#: array within ``MAX_MESSAGE_BYTES`` has more); also the bound of each axis.
MAX_ARRAY_ELEMENTS = MAX_MESSAGE_BYTES
#: Largest ``.npy`` header (numpy writes about 128 bytes; 32 long axes fit in 1 KB).
MAX_NPY_HEADER_BYTES = 4096
#: Dtype kinds an array may have: booleans, signed and unsigned integers, floats, complex.
ARRAY_KINDS = "biufc"

_NPY_MAGIC = b"\x93NUMPY"


# -- the protocol's words ---------------------------------------------------------
# Both sides import these: the grader (sandboxed.py, judging.py, submission.py), the
# child (child.py) and the judge (judge.py). A request is ``{"op": Op.X, ...}``; a
# cell's progress is ``{"event": Event.X, ...}``; a reply is ``{"ok": True, "result":
# ...}`` or ``{"ok": False, "error": Error.X, ...}`` (see :func:`ok` and :func:`error`).


class Op:
    """What a request asks: run the cells, call a function, run a task, judge, exit."""

    RUN = "run"
    CALL = "call"
    TASK = "task"
    JUDGE = "judge"
    EXIT = "exit"


class Event:
    """What the child reports while it runs the cells."""

    CELL_START = "cell_start"
    CELL_END = "cell_end"
    RUN_DONE = "run_done"


class Error:
    """Why a call or a judge request failed (a reply's ``"error"``)."""

    MISSING = "missing"  #: the notebook defines no such function
    NOT_IMPLEMENTED = "not_implemented"  #: it raised NotImplementedError
    TIMEOUT = "timeout"  #: it outlasted its time (``"seconds"``)
    BAD_RETURN = "bad_return"  #: what it returned cannot cross the channel
    EXCEPTION = "exception"  #: it raised (``"error_type"``, ``"message"``, ``"where"``)
    REFUSED = "refused"  #: the judge will not rebuild that model (``"message"``)


def ok(result: Any, **more: Any) -> dict:
    """A successful reply carrying ``result`` (and ``more`` keys)."""
    return {"ok": True, "result": result, **more}


def error(kind: str, **more: Any) -> dict:
    """A failed reply: ``kind`` is one of :class:`Error`'s words."""
    return {"ok": False, "error": kind, **more}


#: What the child keeps of one cell's outputs, and what the grader keeps of what it
#: sends, whatever it sends: printed characters, figures, bytes per figure (PNG).
KEEP_STDOUT_CHARS = 4096
KEEP_FIGURES = 8
KEEP_FIGURE_BYTES = 1024**2


#: The function name under which the grader calls the child's canary, which adds 1 to
#: its argument in place (see ``child.py``): what the child reports of it is checked.
CANARY = "__autograder_canary__"


class ChannelError(Exception):
    """The other side sent something that is not a valid message."""


class Marker:
    """A placeholder the grader puts in arguments; the child resolves it."""

    kind = ""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.value == self.value

    def __hash__(self) -> int:
        return hash((self.kind, self.value))


class NumpyFunc(Marker):
    """A fixed numpy function (see ``NUMPY_FUNCS``) passed as an argument."""

    kind = "__func__"


class StudentFunc(Marker):
    """A function defined in the student's notebook, passed as an argument."""

    kind = "__student__"


class Generator(Marker):
    """A ``np.random.default_rng(seed)`` built in the child."""

    kind = "__rng__"


MARKERS = {cls.kind: cls for cls in (NumpyFunc, StudentFunc, Generator)}


def _sin(z):
    return np.sin(z)


def _cos(z):
    return np.cos(z)


def _identity(z):
    return np.array(z, dtype=float, copy=True)


def _ones_like(z):
    return np.ones_like(z, dtype=float)


#: The only functions a ``NumpyFunc`` marker can name (child side).
NUMPY_FUNCS = {
    "sin": _sin,
    "cos": _cos,
    "identity": _identity,
    "ones_like": _ones_like,
    "square": np.square,
}


def _short(text: Any, limit: int = 120) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


# -- arrays ---------------------------------------------------------------
def _check_array(dtype: np.dtype, shape: tuple) -> int:
    """Raise ChannelError unless ``dtype`` and ``shape`` may cross; return the element count."""
    if (
        dtype.kind not in ARRAY_KINDS
        or dtype.names is not None
        or dtype.subdtype is not None
        or dtype.hasobject
        or dtype.itemsize == 0
    ):
        if dtype.hasobject:
            raise ChannelError("arrays of Python objects cannot be sent")
        raise ChannelError(
            f"arrays of dtype {_short(dtype)} cannot be sent: only numbers and booleans"
        )
    if not isinstance(shape, tuple) or len(shape) > MAX_NDIM:
        raise ChannelError(f"arrays have at most {MAX_NDIM} axes")
    for size in shape:
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 0 <= size <= MAX_ARRAY_ELEMENTS
        ):
            raise ChannelError(f"invalid array shape {_short(shape)}")
    count = math.prod(shape)
    if count > MAX_ARRAY_ELEMENTS:
        raise ChannelError(
            f"an array of {count:,} elements is too large (the limit is {MAX_ARRAY_ELEMENTS:,})"
        )
    return count


def _array_to_blob(array: np.ndarray) -> bytes:
    _check_array(array.dtype, array.shape)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def _npy_header(blob) -> tuple[tuple, bool, np.dtype, int]:
    """Parse a ``.npy`` blob's header: ``(shape, fortran_order, dtype, data offset)``."""
    view = memoryview(blob)
    if len(view) < 10 or bytes(view[:6]) != _NPY_MAGIC:
        raise ChannelError("invalid array data: not in .npy format")
    version = (view[6], view[7])
    if version == (1, 0):
        (length,), start = struct.unpack_from("<H", view, 8), 10
    elif version == (2, 0) and len(view) >= 12:
        (length,), start = struct.unpack_from("<I", view, 8), 12
    else:
        raise ChannelError(f"invalid array data: unsupported .npy version {version}")
    if length > MAX_NPY_HEADER_BYTES:
        raise ChannelError(f"invalid array data: a .npy header of {length:,} bytes")
    offset = start + length
    if offset > len(view):
        raise ChannelError("invalid array data: truncated .npy header")
    fp = io.BytesIO(bytes(view[:offset]))
    try:
        np.lib.format.read_magic(fp)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read(fp, max_header_size=MAX_NPY_HEADER_BYTES)
    except Exception as error:  # ValueError for most garbage; anything from np.dtype
        raise ChannelError(f"invalid array header: {_short(error)}") from None
    return shape, fortran_order, dtype, offset


def _blob_to_array(blob) -> np.ndarray:
    """The array in a ``.npy`` blob, checked before any of its data is read."""
    shape, fortran_order, dtype, offset = _npy_header(blob)
    count = _check_array(dtype, shape)
    if len(blob) != offset + count * dtype.itemsize:
        raise ChannelError(
            f"invalid array data: {len(blob) - offset:,} bytes for {count:,} elements "
            f"of {dtype.itemsize} bytes"
        )
    array = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    if fortran_order:
        array = array.reshape(shape[::-1]).transpose()
    else:
        array = array.reshape(shape)
    if dtype.kind == "b":  # any byte other than 0 is True, as numpy itself reads it
        return array.view(np.uint8).astype(bool)
    if not (array.flags.writeable and array.flags.aligned):
        array = array.copy(order="K")
    return array


# -- values ---------------------------------------------------------------
def _marker_payload(kind: str, value: Any) -> Any:
    """A marker's value if it has the right type (a name, or a seed below 2**63)."""
    if kind == Generator.kind:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if abs(int(value)) < 2**63:
                return int(value)
        raise ChannelError("a random generator's seed must be an integer below 2**63")
    if isinstance(value, str):
        return value
    raise ChannelError(f"the marker {kind} needs a name")


def _encode(value: Any, blobs: list, depth: int, budget: list[int]) -> Any:
    if depth > MAX_DEPTH:
        raise ChannelError("value is nested too deeply")
    budget[0] -= 1
    if budget[0] < 0:
        raise ChannelError(f"value holds more than {MAX_HEADER_ITEMS:,} items")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**63:
            try:
                return float(value)
            except OverflowError:
                raise ChannelError("integer too large to send") from None
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.ndarray | np.generic):
        if len(blobs) >= MAX_BLOBS:
            raise ChannelError(f"a message holds at most {MAX_BLOBS:,} arrays")
        blobs.append(_array_to_blob(np.asarray(value)))
        return {"__ndarray__" if isinstance(value, np.ndarray) else "__scalar__": len(blobs) - 1}
    if isinstance(value, Marker):
        return {value.kind: _marker_payload(value.kind, value.value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, blobs, depth + 1, budget) for v in value]}
    if isinstance(value, list):
        return [_encode(v, blobs, depth + 1, budget) for v in value]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ChannelError(f"dictionary keys must be strings, got {type(key).__name__}")
            items.append([key, _encode(item, blobs, depth + 1, budget)])
        return {"__dict__": items}
    raise ChannelError(f"a value of type {type(value).__name__} cannot be sent")


def encode_value(value: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Turn ``value`` into JSON-compatible data, appending arrays to ``blobs``.

    Raises:
        ChannelError: the value cannot cross the channel (a type it does not
            carry, an array that is not numeric or boolean, nesting deeper than
            ``MAX_DEPTH``, more than ``MAX_HEADER_ITEMS`` items).
    """
    return _encode(value, blobs, depth, [MAX_HEADER_ITEMS])


def _decode(data: Any, blobs: list, depth: int, used: set) -> Any:
    if depth > MAX_DEPTH:
        raise ChannelError("value is nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [_decode(v, blobs, depth + 1, used) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        ((tag, inner),) = data.items()
        if tag in ("__ndarray__", "__scalar__"):
            if not isinstance(inner, int) or isinstance(inner, bool) or not 0 <= inner < len(blobs):
                raise ChannelError("array reference out of range")
            if inner in used:
                raise ChannelError("an array is referenced twice")
            used.add(inner)
            array = _blob_to_array(blobs[inner])
            if tag == "__scalar__":
                if array.ndim != 0:
                    raise ChannelError("a scalar must be a 0-d array")
                return array[()]
            return array
        if tag == "__tuple__" and isinstance(inner, list):
            return tuple(_decode(v, blobs, depth + 1, used) for v in inner)
        if tag == "__dict__" and isinstance(inner, list):
            result = {}
            for pair in inner:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ChannelError("malformed dictionary")
                result[pair[0]] = _decode(pair[1], blobs, depth + 1, used)
            return result
        if tag in MARKERS:
            return MARKERS[tag](_marker_payload(tag, inner))
    raise ChannelError("malformed value")


def decode_value(data: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Inverse of :func:`encode_value`; markers come back as ``Marker`` objects.

    Arrays are checked (see the module's limits) before they are built, and each
    blob may be referenced once.
    """
    return _decode(data, blobs, depth, set())


def resolve_markers(value: Any, namespace: dict) -> Any:
    """Replace channel markers in ``value`` by what they stand for (child side)."""
    if isinstance(value, NumpyFunc):
        return NUMPY_FUNCS[value.value]
    if isinstance(value, StudentFunc):
        if not callable(namespace.get(value.value)):
            raise NameError(f"{value.value} is not defined")
        return namespace[value.value]
    if isinstance(value, Generator):
        return np.random.default_rng(int(value.value))
    if isinstance(value, list):
        return [resolve_markers(v, namespace) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_markers(v, namespace) for v in value)
    if isinstance(value, dict):
        return {k: resolve_markers(v, namespace) for k, v in value.items()}
    return value


def unresolve(value: Any) -> Any:
    """Replace live objects from markers by ``None`` so arguments can be sent back."""
    if callable(value) or isinstance(value, np.random.Generator):
        return None
    if isinstance(value, list):
        return [unresolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unresolve(v) for v in value)
    if isinstance(value, dict):
        return {k: unresolve(v) for k, v in value.items()}
    return value


# -- headers --------------------------------------------------------------
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
#: A JSON string once its escapes are gone; one left open runs to the end (json
#: stops there with an error, so nothing after it is ever parsed).
_STRING = re.compile(rb'"[^"]*(?:"|\Z)')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{},:")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def _check_header_shape(head) -> None:
    """Enforce the depth and item limits on the raw header bytes, before json parses them.

    Linear in the header's size and without recursion: escapes are dropped,
    then strings, and the brackets, commas and colons left are counted.
    """
    outside = _ESCAPE.sub(b"", head) if b"\\" in head else head
    outside = _STRING.sub(b"", outside) if b'"' in outside else outside
    structure = outside.translate(None, _NOT_STRUCTURE)
    items = 1 + len(structure) - structure.count(b"]") - structure.count(b"}")
    if items > MAX_HEADER_ITEMS:
        raise ChannelError(f"message header holds more than {MAX_HEADER_ITEMS:,} items")
    brackets = structure.translate(None, b",:")
    opened = brackets.count(b"[") + brackets.count(b"{")
    if opened > MAX_HEADER_DEPTH:
        steps = np.frombuffer(brackets.translate(_STEPS), dtype=np.int8)
        if int(np.cumsum(steps, dtype=np.int32).max()) > MAX_HEADER_DEPTH:
            raise ChannelError(f"message header is nested more than {MAX_HEADER_DEPTH} deep")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ChannelError(f"an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_header(head) -> tuple[dict, int]:
    """The header object (without ``__blobs__``) and the number of blobs it announces."""
    if len(head) > MAX_HEADER_BYTES:
        raise ChannelError(
            f"message header of {len(head):,} bytes; the limit is {MAX_HEADER_BYTES:,}"
        )
    _check_header_shape(head)
    try:
        header = json.loads(head.decode("utf-8"), parse_int=_parse_int)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ChannelError(f"invalid message header: {_short(error)}") from None
    if not isinstance(header, dict):
        raise ChannelError("message header is not an object")
    n_blobs = header.pop("__blobs__", 0)
    if not isinstance(n_blobs, int) or isinstance(n_blobs, bool) or not 0 <= n_blobs <= MAX_BLOBS:
        raise ChannelError("invalid blob count")
    return header, n_blobs


def _decode_values(header: dict, blobs: list) -> dict:
    used: set = set()
    message = {key: _decode(value, blobs, 0, used) for key, value in header.items()}
    if len(used) != len(blobs):
        raise ChannelError("a blob is never referenced")
    return message


def _encode_message(message: dict, blobs: list) -> bytes:
    """The header bytes of ``message``, with its arrays appended to ``blobs``; checked."""
    budget = [MAX_HEADER_ITEMS]
    header = {key: _encode(value, blobs, 0, budget) for key, value in message.items()}
    header["__blobs__"] = len(blobs)
    head = json.dumps(header, allow_nan=True).encode()
    if len(head) > MAX_HEADER_BYTES:
        raise ChannelError(
            f"message header of {len(head):,} bytes; the limit is {MAX_HEADER_BYTES:,}"
        )
    _check_header_shape(head)
    size = len(head) + sum(len(blob) for blob in blobs)
    if size > MAX_MESSAGE_BYTES:
        raise ChannelError(f"message of {size:,} bytes; the limit is {MAX_MESSAGE_BYTES:,}")
    return head


def pack(message: dict) -> bytes:
    """Serialise one message (a dict whose values may hold arrays) to bytes.

    Raises:
        ChannelError: the message breaks a limit of the channel (see the module).
    """
    blobs: list[bytes] = []
    head = _encode_message(message, blobs)
    parts = [struct.pack("<I", len(head)), head]
    for blob in blobs:
        parts.append(struct.pack("<Q", len(blob)))
        parts.append(blob)
    return b"".join(parts)


# -- pipes ----------------------------------------------------------------
def _wait(fd: int, deadline: float | None, for_write: bool = False) -> None:
    """Wait until ``fd`` is ready (poll: no limit on descriptor numbers)."""
    if fd < 0:
        raise OSError(errno.EBADF, "the channel is closed")
    timeout = None
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer in time")
        timeout = max(1, math.ceil(remaining * 1000))
    poller = select.poll()
    poller.register(fd, select.POLLOUT if for_write else select.POLLIN)
    if not poller.poll(timeout):
        raise TimeoutError("no answer in time")


def _read_exact(fd: int, n: int, deadline: float | None) -> bytearray:
    """Read ``n`` bytes; the buffer grows only with what has arrived."""
    data = bytearray()
    while len(data) < n:
        _wait(fd, deadline)
        try:
            chunk = os.read(fd, min(n - len(data), 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError("the other side closed the channel")
        data += chunk
    return data


def read_message(fd: int, deadline: float | None = None) -> dict:
    """Read one message from file descriptor ``fd`` and decode it.

    Whatever bytes arrive, this raises nothing but the errors below, and it
    holds little more than the bytes received: sizes are checked before data
    is read, the header's shape before it is parsed, and each array's dtype,
    shape and length before it is built.

    Args:
        fd: a pipe's read end.
        deadline: a ``time.monotonic()`` value after which to give up (the
            grader's side sets one, so a child that sends half a message cannot
            block it); ``None`` waits for ever.

    Raises:
        EOFError: the other side closed the channel.
        TimeoutError: the deadline passed.
        OSError: reading from ``fd`` failed.
        ChannelError: the data is not a valid message.
    """
    (head_len,) = struct.unpack("<I", _read_exact(fd, 4, deadline))
    if head_len > MAX_HEADER_BYTES:
        raise ChannelError(
            f"message header of {head_len:,} bytes; the limit is {MAX_HEADER_BYTES:,}"
        )
    try:
        header, n_blobs = _parse_header(_read_exact(fd, head_len, deadline))
        blobs, total = [], head_len
        for _ in range(n_blobs):
            (size,) = struct.unpack("<Q", _read_exact(fd, 8, deadline))
            total += size
            if total > MAX_MESSAGE_BYTES:
                raise ChannelError(f"message of more than {MAX_MESSAGE_BYTES:,} bytes (the limit)")
            blobs.append(_read_exact(fd, size, deadline))
        return _decode_values(header, blobs)
    except (ChannelError, EOFError, OSError):  # TimeoutError is an OSError
        raise
    except Exception as error:  # a case the checks above missed still fails closed
        raise ChannelError(f"invalid message ({type(error).__name__})") from None


def write_message(fd: int, message: dict, deadline: float | None = None) -> None:
    """Encode ``message`` and write it whole to file descriptor ``fd``.

    Raises:
        ChannelError: the message breaks a limit of the channel; nothing was written.
        TimeoutError: the reader did not take the data before ``deadline``.
        BrokenPipeError: the reader is gone.
    """
    data = memoryview(pack(message))
    while data:
        _wait(fd, deadline, for_write=True)
        try:
            written = os.write(fd, data[: 1 << 16])
        except BlockingIOError:
            continue
        data = data[written:]


def roundtrip(value: Any) -> Any:
    """Encode and decode ``value``: a deep copy limited to what the channel carries.

    The same limits hold as through a pipe, so a value graded in-process is
    refused exactly where a sandboxed child's would be.
    """
    blobs: list[bytes] = []
    header, _ = _parse_header(_encode_message({"value": value}, blobs))
    return _decode_values(header, blobs)["value"]
