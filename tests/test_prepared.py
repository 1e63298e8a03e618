"""Launches prepared once per signature (engines/cuda/prepared.py): the argument block a call
hands the CUDA driver, checked on the CPU with a stand-in driver. On a GPU the kept calls of
the row kernels and mean_var run through tests/test_gpu.py."""

from __future__ import annotations

import ctypes
import struct
from types import SimpleNamespace

import numpy as np
import pytest

from xpkern.engines.cuda import prepared


class DeviceArray:
    """A C-contiguous array as the engine sees a CuPy array: shape, dtype, strides and a
    data pointer."""

    def __init__(self, shape, dtype, ptr):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.itemsize = self.dtype.itemsize
        self.strides = np.empty(self.shape, self.dtype).strides
        self.data = SimpleNamespace(ptr=ptr)


def _context(stream):
    backend = SimpleNamespace(
        name="cupy",
        stream_getter=lambda device: lambda: stream,
        device_index=lambda a: 0,
        pointer=lambda a: int(a.data.ptr),
    )
    return SimpleNamespace(backend=backend)


def _words(address, count):
    """The launch arguments the driver would read: the 8 bytes behind each pointer."""
    pointers = (ctypes.c_void_p * count).from_address(address)
    return [ctypes.string_at(p, 8) for p in pointers]


@pytest.fixture
def driver(monkeypatch):
    launches = []
    device = {"current": 0}

    def launch(fn, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        launches.append(((fn, gx, gy, gz, bx, by, bz, shared, stream, extra), params))

    monkeypatch.setattr(prepared, "driver_launch", lambda: launch)
    monkeypatch.setattr(prepared, "current_device", lambda: lambda: device["current"])
    return SimpleNamespace(launches=launches, device=device)


def _launcher(raw=False):
    return SimpleNamespace(cupy_fn=SimpleNamespace(ptr=0xF00), raw=raw)


def test_a_call_writes_only_the_data_pointers_and_launches_on_the_callers_stream(driver):
    x = DeviceArray((3, 5), "float32", 0x1000)
    out = DeviceArray((2, 3), "float32", 0x2000)
    args = [x, 1.5, 7, out]
    launch = prepared.PreparedLaunch.build(_context(stream=77), _launcher(), (4,), (256,), args,
                                           shared=96)  # fmt: skip
    assert launch is not None
    assert launch(DeviceArray((3, 5), "float32", 0x3000), DeviceArray((2, 3), "float32", 0x4000))
    ((dims, params),) = driver.launches
    assert dims == (0xF00, 4, 1, 1, 256, 1, 1, 96, 77, 0)
    words = _words(params, 9 + 2 + 9)

    def q(v):
        return struct.pack("=q", v)

    # numba's array model: meminfo, parent, nitems, itemsize, data, shape..., strides (bytes)
    assert words[:9] == [q(0), q(0), q(15), q(4), q(0x3000), q(3), q(5), q(20), q(4)]
    assert words[9:11] == [struct.pack("=d", 1.5), q(7)]
    assert words[11:] == [q(0), q(0), q(6), q(4), q(0x4000), q(2), q(3), q(12), q(4)]
    launch(DeviceArray((3, 5), "float32", 0x5000), out)
    assert _words(driver.launches[1][1], 20)[4] == q(0x5000)


def test_raw_arrays_are_one_pointer_each(driver):
    x, out = DeviceArray((8,), "float64", 0x10), DeviceArray((8,), "float64", 0x20)
    launch = prepared.PreparedLaunch.build(_context(0), _launcher(raw=True), (1,), (32,),
                                           [out, x, np.int64(8)])  # fmt: skip
    assert launch is not None
    launch(DeviceArray((8,), "float64", 0x30), DeviceArray((8,), "float64", 0x40))
    words = _words(driver.launches[0][1], 3)
    assert words == [struct.pack("=Q", 0x30), struct.pack("=Q", 0x40), struct.pack("=q", 8)]


def test_another_current_device_launches_nothing(driver):
    x, out = DeviceArray((4,), "float32", 0x10), DeviceArray((4,), "float32", 0x20)
    launch = prepared.PreparedLaunch.build(_context(0), _launcher(), (1,), (32,), [x, out])
    assert launch is not None
    driver.device["current"] = 1
    assert not launch(x, out)
    assert driver.launches == []


def test_nothing_to_prepare_without_a_driver_launch_or_a_loaded_kernel(monkeypatch, driver):
    x = DeviceArray((4,), "float32", 0x10)
    compiler_launches = SimpleNamespace(cupy_fn=None, raw=False)  # the simulator's, say
    assert prepared.PreparedLaunch.build(_context(0), compiler_launches, (1,), (32,), [x]) is None
    complex_scalar = [x, np.complex128(1)]  # no 8-byte slot holds it
    assert prepared.PreparedLaunch.build(_context(0), _launcher(), (1,), (32,),
                                         complex_scalar) is None  # fmt: skip
    monkeypatch.setattr(prepared, "driver_launch", lambda: None)
    assert prepared.PreparedLaunch.build(_context(0), _launcher(), (1,), (32,), [x]) is None


def test_a_split_mean_var_call_hands_each_call_its_own_partial_sums(monkeypatch, driver):
    # Two prepared launches a call: the scan writes a fresh partial-sums array, the merge
    # reads that one and writes a fresh output.
    from xpkern.ops.stats import cuda

    x = DeviceArray((2, 40000), "float32", 0x1000)
    partial = DeviceArray((5, 8), "float64", 0x2000)
    out = DeviceArray((2, 2), "float32", 0x3000)
    kernel = SimpleNamespace(launcher=lambda ctx, args: _launcher())
    steps = [(kernel, [x, 4, 10240, partial], (8,), (256,), 0),
             (kernel, [partial, 4, 0.0, 1e38, out], (1,), (128,), 0)]  # fmt: skip
    monkeypatch.setattr(cuda, "_steps", lambda ctx, x, correction, parts: steps)
    monkeypatch.setattr(cuda, "_parts", lambda x: 4)
    monkeypatch.setattr(cuda, "_split", lambda out, shape, keepdims: out)
    made = iter(range(0x10000, 0x20000, 0x100))

    def allocator(shape, dtype, like):
        return lambda: DeviceArray(shape, dtype, next(made))

    ctx = _context(stream=5)
    ctx.backend.allocator = allocator
    call = cuda._bind(ctx, x, (1,), 0.0, False)
    seen = []
    for data in (0x4000, 0x5000):
        got = call(DeviceArray((2, 40000), "float32", data))
        scan, merge = driver.launches[-2:]
        scan_words, merge_words = _words(scan[1], 9 + 2 + 9), _words(merge[1], 9 + 3 + 9)
        partial_pointer = scan_words[11 + 4]
        seen.append(partial_pointer)
        assert scan_words[4] == struct.pack("=q", data)
        assert merge_words[4] == partial_pointer  # the merge reads what this call's scan wrote
        assert merge_words[12 + 4] == struct.pack("=q", got.data.ptr)
        assert got.shape == (2, 2) and got.dtype == np.float32
    assert len(driver.launches) == 4 and seen[0] != seen[1]


def test_kept_launches_hand_each_output_to_the_next_launch_and_fall_back(driver):
    x = DeviceArray((2, 8), "float32", 0x1000)
    middle = DeviceArray((4,), "float64", 0x2000)
    out = DeviceArray((2, 1), "float32", 0x3000)
    kernel = SimpleNamespace(launcher=lambda ctx, args: _launcher(raw=True))
    steps = [(kernel, [x, middle], (1,), (32,), 0), (kernel, [middle, out], (2,), (64,), 16)]
    made = iter(range(0x10000, 0x20000, 0x100))
    ctx = _context(stream=3)

    def allocator(shape, dtype, like):
        return lambda: DeviceArray(shape, dtype, next(made))

    ctx.backend.allocator = allocator
    fallen = []

    def fallback(a):
        fallen.append(a)
        return "fallback"

    call = prepared.kept_launches(ctx, x, steps, fallback, out_shape=(2,))
    given = DeviceArray((2, 8), "float32", 0x4000)
    got = call(given)
    assert got.shape == (2,) and got.dtype == np.float32  # the last output in out_shape
    (first, first_words), (second, second_words) = driver.launches
    assert first[1:8] == (1, 1, 1, 32, 1, 1, 0) and second[1:8] == (2, 1, 1, 64, 1, 1, 16)
    new_middle = _words(first_words, 2)[1]
    assert _words(first_words, 2)[0] == struct.pack("=Q", 0x4000)
    assert _words(second_words, 2) == [new_middle, struct.pack("=Q", got.data.ptr)]
    assert struct.unpack("=Q", new_middle)[0] not in (0x2000, 0x3000)  # a fresh buffer
    assert fallen == []
    driver.device["current"] = 1  # another device: no launch, the full path
    assert call(given) == "fallback" and fallen == [given] and len(driver.launches) == 2
    compiler_launches = SimpleNamespace(cupy_fn=None, raw=False)  # nothing to prepare
    unprepared = SimpleNamespace(launcher=lambda ctx, args: compiler_launches)
    only = [(unprepared, [x, out], (1,), (32,), 0)]
    assert prepared.kept_launches(ctx, x, only, fallback) is fallback
