"""The data-only protocol between the grader and the sandboxed child.

A message is a JSON header followed by binary blobs. Arrays travel as ``.npy``
blobs read back with ``allow_pickle=False``; everything else is JSON. Nothing
that crosses the channel is unpickled or evaluated, so a child can send wrong
data but never code.

This module is also copied into the sandbox, so it imports only the standard
library and numpy.

Wire format of one message::

    <u4 header length> <header JSON, UTF-8>  then, per blob: <u8 length> <bytes>

Encoded values (inside the header):

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinities allowed), ``str``
  and ``list`` as plain JSON (numpy's ``float64`` is a ``float`` and arrives as
  one: send ``np.asarray(x)`` where the student must get a 0-d array);
* ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}`` (string keys);
* ``{"__ndarray__": i}`` and ``{"__scalar__": i}``: blob ``i`` in ``.npy`` format;
* markers the grader uses in arguments: ``{"__func__": name}`` (a fixed
  child-side numpy function), ``{"__student__": name}`` (a function of the
  student's notebook) and ``{"__rng__": seed}`` (a fresh ``np.random.Generator``).
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from typing import Any

import numpy as np

#: Largest message either side accepts (header and blobs together).
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
#: Deepest nesting of lists, tuples and dicts accepted in one value.
MAX_DEPTH = 32


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


def _array_to_blob(array: np.ndarray) -> bytes:
    if array.dtype.hasobject:
        raise ChannelError("arrays of Python objects cannot be sent")
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def _blob_to_array(blob: bytes) -> np.ndarray:
    try:
        return np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)
    except Exception as error:  # ValueError for pickles, others for garbage
        raise ChannelError(f"invalid array data: {error}") from None


def encode_value(value: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Turn ``value`` into JSON-compatible data, appending arrays to ``blobs``."""
    if depth > MAX_DEPTH:
        raise ChannelError("value is nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**63:
            return float(value)
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.ndarray):
        blobs.append(_array_to_blob(value))
        return {"__ndarray__": len(blobs) - 1}
    if isinstance(value, np.generic):
        blobs.append(_array_to_blob(np.asarray(value)))
        return {"__scalar__": len(blobs) - 1}
    if isinstance(value, Marker):
        return {value.kind: value.value}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v, blobs, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, blobs, depth + 1) for v in value]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ChannelError(f"dictionary keys must be strings, got {type(key).__name__}")
            items.append([key, encode_value(item, blobs, depth + 1)])
        return {"__dict__": items}
    raise ChannelError(f"a value of type {type(value).__name__} cannot be sent")


def decode_value(data: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Inverse of :func:`encode_value`; markers come back as ``Marker`` objects."""
    if depth > MAX_DEPTH:
        raise ChannelError("value is nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode_value(v, blobs, depth + 1) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        ((tag, inner),) = data.items()
        if tag in ("__ndarray__", "__scalar__"):
            if not isinstance(inner, int) or isinstance(inner, bool) or not 0 <= inner < len(blobs):
                raise ChannelError("array reference out of range")
            array = _blob_to_array(blobs[inner])
            return array[()] if tag == "__scalar__" else array
        if tag == "__tuple__" and isinstance(inner, list):
            return tuple(decode_value(v, blobs, depth + 1) for v in inner)
        if tag == "__dict__" and isinstance(inner, list):
            result = {}
            for pair in inner:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ChannelError("malformed dictionary")
                result[pair[0]] = decode_value(pair[1], blobs, depth + 1)
            return result
        if tag in MARKERS:
            return MARKERS[tag](inner)
    raise ChannelError("malformed value")


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


def pack(message: dict) -> bytes:
    """Serialise one message (a dict whose values may hold arrays) to bytes."""
    blobs: list[bytes] = []
    header = {key: encode_value(value, blobs) for key, value in message.items()}
    header["__blobs__"] = len(blobs)
    head = json.dumps(header, allow_nan=True).encode()
    parts = [struct.pack("<I", len(head)), head]
    for blob in blobs:
        parts.append(struct.pack("<Q", len(blob)))
        parts.append(blob)
    return b"".join(parts)


def _wait(fd: int, deadline: float | None, for_write: bool = False) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no answer in time")
    ready = (
        select.select([], [fd], [], remaining)
        if for_write
        else select.select([fd], [], [], remaining)
    )
    if not any(ready):
        raise TimeoutError("no answer in time")


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        _wait(fd, deadline)
        try:
            chunk = os.read(fd, min(remaining, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, deadline: float | None = None) -> dict:
    """Read one message from file descriptor ``fd`` and decode it.

    Args:
        fd: a pipe's read end.
        deadline: a ``time.monotonic()`` value after which to give up (the
            grader's side sets one, so a child that sends half a message cannot
            block it); ``None`` waits for ever.

    Raises:
        EOFError: the other side closed the channel.
        TimeoutError: the deadline passed.
        ChannelError: the data is not a valid message.
    """
    (head_len,) = struct.unpack("<I", _read_exact(fd, 4, deadline))
    if head_len > MAX_MESSAGE_BYTES:
        raise ChannelError("message header too large")
    try:
        header = json.loads(_read_exact(fd, head_len, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChannelError(f"invalid message header: {error}") from None
    if not isinstance(header, dict):
        raise ChannelError("message header is not an object")
    n_blobs = header.pop("__blobs__", 0)
    if not isinstance(n_blobs, int) or not 0 <= n_blobs <= 100_000:
        raise ChannelError("invalid blob count")
    blobs, total = [], head_len
    for _ in range(n_blobs):
        (size,) = struct.unpack("<Q", _read_exact(fd, 8, deadline))
        total += size
        if total > MAX_MESSAGE_BYTES:
            raise ChannelError("message too large")
        blobs.append(_read_exact(fd, size, deadline))
    return {key: decode_value(value, blobs) for key, value in header.items()}


def write_message(fd: int, message: dict, deadline: float | None = None) -> None:
    """Encode ``message`` and write it whole to file descriptor ``fd``.

    Raises:
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
    """Encode and decode ``value``: a deep copy limited to what the channel carries."""
    blobs: list[bytes] = []
    encoded = json.loads(json.dumps(encode_value(value, blobs), allow_nan=True))
    return decode_value(encoded, blobs)
