"""The data-only channel: what crosses it, and what it refuses."""

import contextlib
import io
import json
import os
import pickle
import random
import resource
import struct
import threading
import time
import tracemalloc

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


# -- failing closed: what a hostile child can send ------------------------------
def _message(header: bytes, blobs: tuple[bytes, ...] = ()) -> bytes:
    data = struct.pack("<I", len(header)) + header
    for blob in blobs:
        data += struct.pack("<Q", len(blob)) + blob
    return data


def _array_message(blob: bytes, tag: str = "__ndarray__") -> bytes:
    return _message(json.dumps({"result": {tag: 0}, "__blobs__": 1}).encode(), (blob,))


def _npy(descr, shape, fortran_order=False, version=(1, 0), data: bytes = b"") -> bytes:
    """A ``.npy`` blob with any header, as a hostile child could write it."""
    text = repr({"descr": descr, "fortran_order": fortran_order, "shape": shape}).encode()
    length_format = "<H" if version == (1, 0) else "<I"
    preamble = 8 + struct.calcsize(length_format)
    text += b" " * (-(preamble + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(length_format, len(text)) + text + data


def _npy_text(text: bytes) -> bytes:
    """A version 1.0 ``.npy`` preamble around any header text."""
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def _pipe_read(data: bytes, timeout: float = 5.0):
    """Read one message from a real pipe whose read end is non-blocking, as sandboxed.py reads."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)

    def feed():
        try:
            os.write(write_fd, data)
        except OSError:  # the reader gave up early and closed its end
            pass
        finally:
            os.close(write_fd)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        return channel.read_message(read_fd, deadline=time.monotonic() + timeout)
    finally:
        os.close(read_fd)
        writer.join()


ATTACKS = {
    "deep-nesting": (
        _message(b'{"result": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        "items|nested",
    ),
    "deep-nesting-few-items": (
        _message(b'{"result": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"),
        "nested more than",
    ),
    "nesting-behind-escaped-quotes": (
        _message(b'{"a": "' + b'\\"' * 500 + b'", "b": ' + b"[" * 3_000 + b"]" * 3_000 + b"}"),
        "nested more than",
    ),
    "deep-values": (
        _message(b'{"result": ' + b'{"__tuple__": [' * 40 + b"1" + b"]}" * 40 + b"}"),
        "nested too deeply",
    ),
    "long-integer": (_message(b'{"result": ' + b"9" * 5_000 + b"}"), "integer of more than"),
    "long-negative-integer": (_message(b'{"result": -' + b"1" * 30 + b"}"), "integer"),
    "many-items": (
        _message(b'{"result": [' + b",".join([b"0"] * 150_000) + b"]}"),
        "more than 100,000 items",
    ),
    "huge-declared-header": (struct.pack("<I", 50 * 1024**2) + b"{", "header of 52,428,800"),
    "zero-itemsize-void": (_array_message(_npy("|V0", (10**12,))), "dtype"),
    "zero-itemsize-structured": (_array_message(_npy([], (10**12,))), "dtype"),
    "structured": (_array_message(_npy([("a", "<f8"), ("b", "<i4")], (4,))), "dtype"),
    "subarray": (_array_message(_npy(("<f8", (1000, 1000)), (10**6,))), "dtype"),
    "strings": (_array_message(_npy("<U10", (2,), data=b"\0" * 80)), "dtype"),
    "bytes": (_array_message(_npy("|S4", (2,), data=b"\0" * 8)), "dtype"),
    "datetimes": (_array_message(_npy("<M8[s]", (1,), data=b"\0" * 8)), "dtype"),
    "object": (_array_message(_npy("|O", (1,), data=b"\0" * 8)), "Python objects"),
    "too-many-elements": (_array_message(_npy("|u1", (10**12,))), "too large|shape"),
    "empty-but-huge-axis": (_array_message(_npy("<f8", (0, 10**12))), "shape"),
    "too-many-axes": (_array_message(_npy("<f8", (1,) * 40, data=b"\0" * 8)), "axes"),
    "negative-axis": (_array_message(_npy("<f8", (-1,))), "shape"),
    "bool-axis": (_array_message(_npy("<f8", (True,), data=b"\0" * 8)), "shape"),
    "short-data": (_array_message(_npy("<f8", (1000,), data=b"\0" * 8)), "8 bytes for 1,000"),
    "extra-data": (_array_message(_npy("<f8", (1,), data=b"\0" * 16)), "16 bytes for 1"),
    "npy-version-3": (_array_message(_npy("<f8", (1,), version=(3, 0), data=b"\0" * 8)), "version"),
    "npy-huge-header": (
        _array_message(b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{"),
        "header of",
    ),
    "npy-truncated-header": (_array_message(b"\x93NUMPY\x01\x00\xff\x00{"), "truncated"),
    "npy-deep-header": (
        _array_message(_npy_text(b"{'descr': " + b"[" * 1900 + b"]" * 1900 + b", 'shape': (1,)}")),
        "invalid array header",
    ),
    "npy-not-a-dict": (_array_message(_npy_text(b"[1, 2]")), "invalid array header"),
    "not-npy": (_array_message(b"PK\x03\x04" + b"\0" * 40), "not in .npy format"),
    "scalar-not-0d": (
        _array_message(_npy("<f8", (2,), data=b"\0" * 16), tag="__scalar__"),
        "0-d",
    ),
    "blob-referenced-twice": (
        _message(
            json.dumps({"a": {"__ndarray__": 0}, "b": {"__ndarray__": 0}, "__blobs__": 1}).encode(),
            (_npy("<f8", (1,), data=b"\0" * 8),),
        ),
        "referenced twice",
    ),
    "blob-never-referenced": (
        _message(b'{"__blobs__": 1}', (_npy("<f8", (1,), data=b"\0" * 8),)),
        "never referenced",
    ),
    "too-many-blobs": (_message(b'{"__blobs__": 100001}'), "blob count"),
    "bool-blob-count": (_message(b'{"__blobs__": true}'), "blob count"),
    "message-too-large": (
        _message(b'{"__blobs__": 1}') + struct.pack("<Q", 2**40),
        "more than 67,108,864",
    ),
    "not-utf8": (_message(b'{"a": "\xff\xfe"}'), "invalid message header"),
    "utf16": (_message('{"a": 1}'.encode("utf-16")), "invalid message header"),
    "seed-not-int": (_message(b'{"a": {"__rng__": [1, 2]}}'), "seed"),
    "func-not-name": (_message(b'{"a": {"__func__": {"x": 1}}}'), "needs a name"),
}


@pytest.mark.parametrize("data, match", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_hostile_message_is_a_channel_error_with_a_reason(data, match):
    with pytest.raises(channel.ChannelError, match=match):
        _pipe_read(data)


def _peak_while_rejecting(data: bytes) -> int:
    """The most memory the grader's side allocates while it refuses ``data``."""
    tracemalloc.start()
    try:
        with pytest.raises(channel.ChannelError):
            _pipe_read(data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "name", ["zero-itemsize-void", "zero-itemsize-structured", "long-integer", "deep-values",
             "too-many-elements", "subarray", "npy-deep-header", "not-npy"],
)  # fmt: skip
def test_rejecting_a_small_hostile_message_allocates_little(name):
    data, _ = ATTACKS[name]
    assert len(data) < 10_000
    peak = _peak_while_rejecting(data)
    assert peak < 2 * 1024**2, f"{peak:,} bytes allocated to reject {len(data)} bytes"


def test_a_large_hostile_header_allocates_a_bounded_multiple_of_its_size():
    data, _ = ATTACKS["deep-nesting"]
    peak = _peak_while_rejecting(data)
    assert peak < 10 * len(data) + 2 * 1024**2


def _honest_messages() -> list[bytes]:
    return [
        channel.pack({"ok": True, "result": np.arange(12.0).reshape(3, 4)}),
        channel.pack({"ok": True, "result": {"w": np.ones(3), "losses": [1.5, 0.5], "n": 3}}),
        channel.pack({"event": "cell_end", "index": 2, "ok": False, "error": "ValueError: x",
                      "stdout": "héllo\n", "figures": [np.frombuffer(b"\x89PNG" * 8, np.uint8)]}),
        channel.pack({"op": "call", "function": "f", "args": [channel.Generator(5), (1, None)],
                      "kwargs": {"g": channel.NumpyFunc("sin"), "z": np.int64(-3)}}),
    ]  # fmt: skip


def _mutations(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    honest = _honest_messages()
    cases = []
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:  # pure noise, behind a plausible header length or not
            noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
            cases.append(struct.pack("<I", rng.randrange(len(noise) + 8)) + noise)
            continue
        data = bytearray(rng.choice(honest))
        if kind == 1:  # flip bytes
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 2:  # cut or splice
            cut = rng.randrange(len(data))
            data = data[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
        else:  # overwrite a byte with JSON or .npy structure
            for _ in range(rng.randrange(1, 5)):
                data[rng.randrange(len(data))] = rng.choice(b'[]{}",:\\0-9eE\x93')
        cases.append(bytes(data))
    return cases


@pytest.mark.parametrize("seed", range(8))
def test_random_and_mutated_bytes_raise_nothing_but_the_documented_errors(seed):
    for data in _mutations(60, seed):
        try:
            message = _pipe_read(data, timeout=0.5)
        except (channel.ChannelError, EOFError, TimeoutError, OSError):
            continue
        assert isinstance(message, dict)


# -- honest traffic still crosses -------------------------------------------------
HONEST = {
    "float64": np.linspace(-1, 1, 7),
    "float32": np.arange(6, dtype=np.float32).reshape(2, 3),
    "float16": np.array([0.5, -2.0], dtype=np.float16),
    "int64": np.array([-(2**62), 0, 2**62], dtype=np.int64),
    "int8": np.array([-128, 127], dtype=np.int8),
    "uint8-figure": np.frombuffer(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), dtype=np.uint8),
    "bool": np.array([[True, False], [False, True]]),
    "complex": np.array([1 + 2j, -3.5j], dtype=np.complex128),
    "complex64": np.array([1 + 2j], dtype=np.complex64),
    "0-d": np.asarray(2.5),
    "0-d-bool": np.asarray(True),
    "empty": np.zeros((0, 3)),
    "empty-int": np.array([], dtype=np.int64),
    "big-endian": np.arange(3, dtype=">f8"),
    "fortran-order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "non-contiguous": np.arange(20.0).reshape(4, 5)[::2, ::-1],
    "scalars": [np.float32(1.5), np.int64(7), np.bool_(False), np.uint8(255), np.complex128(1j)],
    "python": (None, True, 3, -(2**63) + 1, 2.5, float("inf"), "text", "\u00e9\U0001f600"),
    "big-int-becomes-float": 2**70,
    "nested": {"a": [1, (2, {"b": np.ones(2)})], "c": {}},
    "predictions": np.random.default_rng(0).random((1000, 10), dtype=np.float32),
    "list-of-lists": np.random.default_rng(1).random((1000, 10)).tolist(),
}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray | np.generic):
        return (
            type(b) is type(a)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    if isinstance(a, tuple | list):
        return type(b) is type(a) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, int) and not isinstance(a, bool) and abs(a) >= 2**63:
        return b == float(a) and isinstance(b, float)
    return type(b) is type(a) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("value", list(HONEST.values()), ids=list(HONEST))
def test_honest_values_cross_a_pipe_and_round_trip_unchanged(value):
    through_pipe = _pipe_read(channel.pack({"ok": True, "result": value}))
    assert through_pipe["ok"] is True
    assert _same(value, through_pipe["result"])
    assert _same(value, channel.roundtrip(value))


def test_arrays_read_back_are_writable_and_aligned():
    value = {"a": np.arange(5.0), "b": np.array([True, False])}
    for back in (_pipe_read(channel.pack(value)), channel.roundtrip(value)):
        for array in back.values():
            assert array.flags.writeable and array.flags.aligned
            array[0] = array[1]


def test_a_bool_byte_other_than_zero_or_one_reads_as_true():
    back = _pipe_read(_array_message(_npy("|b1", (3,), data=b"\x00\x02\xff")))["result"]
    assert back.dtype == bool and back.tolist() == [False, True, True]
    assert back.view(np.uint8).tolist() == [0, 1, 1]


def test_a_version_2_npy_blob_is_read():
    data = np.arange(3, dtype="<i4").tobytes()
    back = _pipe_read(_array_message(_npy("<i4", (3,), version=(2, 0), data=data)))["result"]
    assert back.tolist() == [0, 1, 2]


def test_the_largest_honest_cell_event_crosses():
    figures = [np.frombuffer(os.urandom(1024**2), dtype=np.uint8) for _ in range(8)]
    event = {"event": "cell_end", "index": 1, "ok": True, "error": "", "output_chars": 10**9,
             "stdout": "\U0001f600" * 4096, "figures": figures}  # fmt: skip
    back = _pipe_read(channel.pack(event), timeout=30)
    assert back["stdout"] == event["stdout"]
    assert all(np.array_equal(a, b) for a, b in zip(back["figures"], figures, strict=True))


def test_a_large_honest_run_request_crosses():
    cells = [[i, "x = [" + ", ".join(str(j) for j in range(2_000)) + "]\n"] for i in range(30)]
    request = {"op": "run", "cells": cells, "cell_timeout": 60.0, "keep_outputs": True}
    assert _pipe_read(channel.pack(request))["cells"] == cells


def test_a_closed_channel_is_an_os_error():
    with pytest.raises(OSError):
        channel.read_message(-1, deadline=time.monotonic() + 1)


def test_a_high_file_descriptor_is_read():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 1500
    if soft <= high:
        if hard != resource.RLIM_INFINITY and hard <= high:
            pytest.skip("the open-file limit is too low for a descriptor above 1024")
        resource.setrlimit(resource.RLIMIT_NOFILE, (high + 1, hard))
    read_fd, write_fd = os.pipe()
    try:
        os.dup2(read_fd, high)
        os.set_blocking(high, False)
        os.write(write_fd, channel.pack({"x": np.ones(2)}))
        assert channel.read_message(high, deadline=time.monotonic() + 5)["x"].tolist() == [1, 1]
    finally:
        for fd in (read_fd, write_fd, high):
            with contextlib.suppress(OSError):
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- the sending side refuses the same things ---------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        np.array(["a", "b"]),
        np.array([b"a"]),
        np.zeros(2, dtype=[("a", "<f8")]),
        np.zeros(2, dtype="V0"),
        np.zeros(2, dtype="V8"),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([1], dtype="timedelta64[s]"),
        np.bytes_(b"x"),
        np.void(b"\0"),
        np.datetime64("2024-01-01"),
        np.zeros((1,) * 33),
        10**400,
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
        list(range(100_001)),
        "x" * (channel.MAX_HEADER_BYTES + 1),
        channel.Generator(2**70),
        channel.Generator("seed"),
        channel.NumpyFunc(len),
    ],
    ids=["str-array", "bytes-array", "structured", "void0", "void", "datetime", "timedelta",
         "bytes-scalar", "void-scalar", "datetime-scalar", "33-axes", "huge-int", "too-deep",
         "too-many-items", "header-too-large", "big-seed", "str-seed",
         "func-not-name"],
)  # fmt: skip
def test_what_a_reader_would_refuse_is_not_sent(value):
    with pytest.raises(channel.ChannelError):
        channel.pack({"result": value})
    with pytest.raises(channel.ChannelError):
        channel.roundtrip(value)


def test_the_blob_limit_holds_on_both_sides(monkeypatch):
    monkeypatch.setattr(channel, "MAX_BLOBS", 5)
    assert len(channel.roundtrip([np.float32(0)] * 5)) == 5
    with pytest.raises(channel.ChannelError, match="at most 5 arrays"):
        channel.pack({"result": [np.float32(0)] * 6})
    blob = _npy("<f8", (1,), data=b"\0" * 8)
    header = json.dumps({"r": [{"__ndarray__": i} for i in range(6)], "__blobs__": 6})
    with pytest.raises(channel.ChannelError, match="blob count"):
        _pipe_read(_message(header.encode(), (blob,) * 6))


def test_a_message_over_the_size_limit_is_not_sent():
    big = np.zeros(channel.MAX_MESSAGE_BYTES // 8 + 1)
    with pytest.raises(channel.ChannelError, match="limit"):
        channel.pack({"result": big})


def test_the_limits_hold_together():
    assert channel.MAX_HEADER_BYTES < channel.MAX_MESSAGE_BYTES
    assert channel.MAX_ARRAY_ELEMENTS <= channel.MAX_MESSAGE_BYTES
    # a value nested MAX_DEPTH deep in dictionaries still fits the header's JSON depth
    value: object = 1.0
    for _ in range(channel.MAX_DEPTH):
        value = {"k": value}
    assert channel.roundtrip(value) == value
    back = _pipe_read(channel.pack({"result": value}))["result"]
    assert back == value
