"""The data-only channel: what crosses it, and what it refuses."""

import io
import json
import os
import pickle
import struct

import numpy as np
import pytest

from autograder import channel


def test_roundtrip_keeps_types_shapes_and_dtypes():
    value = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": (1, 2.5, None, True, "text", [np.int64(3)]),
        "c": np.float64(np.nan),
        "f": channel.NumpyFunc("sin"),
    }
    back = channel.roundtrip(value)
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert np.array_equal(back["a"], value["a"])
    assert back["b"][:5] == (1, 2.5, None, True, "text")
    assert isinstance(back["b"][5][0], np.int64)
    assert np.isnan(back["c"])
    assert back["f"] == channel.NumpyFunc("sin")


def test_roundtrip_copies_arrays():
    array = np.zeros(3)
    back = channel.roundtrip(array)
    back[0] = 1
    assert array[0] == 0


@pytest.mark.parametrize(
    "value",
    [np.array([object()], dtype=object), {1: 2}, lambda x: x, object(), {"x": {1, 2}}],
    ids=["object-array", "int-keys", "function", "object", "set"],
)
def test_values_that_cannot_be_sent_are_refused(value):
    with pytest.raises(channel.ChannelError):
        channel.pack({"result": value})


def _message_with_blob(blob: bytes) -> bytes:
    head = json.dumps({"result": {"__ndarray__": 0}, "__blobs__": 1}).encode()
    return struct.pack("<I", len(head)) + head + struct.pack("<Q", len(blob)) + blob


def _read(data: bytes):
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    try:
        return channel.read_message(read_fd)
    finally:
        os.close(read_fd)


def test_a_pickled_array_is_never_unpickled():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(channel.ChannelError):
        _read(_message_with_blob(buffer.getvalue()))


def test_a_raw_pickle_is_refused():
    with pytest.raises(channel.ChannelError):
        _read(_message_with_blob(pickle.dumps({"score": 100})))


@pytest.mark.parametrize(
    "data",
    [
        struct.pack("<I", 5) + b"nojso",
        struct.pack("<I", 2) + b"[]",
        struct.pack("<I", 0xFFFFFFFF),
        _message_with_blob(b"")[: -0 or None].replace(b'"__ndarray__": 0', b'"__ndarray__": 7'),
    ],
    ids=["not-json", "not-object", "huge-header", "bad-reference"],
)
def test_garbage_is_a_channel_error(data):
    with pytest.raises((channel.ChannelError, EOFError)):
        _read(data)


def test_half_a_message_times_out_instead_of_blocking():
    import time

    read_fd, write_fd = os.pipe()
    os.write(write_fd, struct.pack("<I", 100) + b"{")
    try:
        with pytest.raises(TimeoutError):
            channel.read_message(read_fd, deadline=time.monotonic() + 0.2)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_markers_resolve_only_to_the_fixed_functions():
    namespace = {"relu": lambda z: np.maximum(z, 0)}
    args = channel.resolve_markers(
        [channel.NumpyFunc("cos"), channel.StudentFunc("relu"), channel.Generator(3)], namespace
    )
    assert args[0] is channel.NUMPY_FUNCS["cos"]
    assert args[1] is namespace["relu"]
    assert isinstance(args[2], np.random.Generator)
    with pytest.raises(KeyError):
        channel.resolve_markers(channel.NumpyFunc("__import__"), namespace)
