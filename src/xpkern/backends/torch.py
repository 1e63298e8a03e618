"""PyTorch tensors, on the CPU (zero-copy NumPy views) and on CUDA devices."""

from __future__ import annotations

import functools
from typing import Any

from .base import Backend, dtype_name, weak_float

__all__ = ["BACKEND"]


class Torch(Backend):
    signature_has_device = True

    def signature(self, x: Any) -> Any:
        return (x.dtype, x.shape, x.device, x.is_contiguous(), x.requires_grad)

    def device_of(self, x: Any) -> Any:
        return x.device

    def device_type(self, x: Any) -> str:
        return str(x.device.type)

    def host_view(self, a: Any) -> Any:
        # A NumPy view of a CPU tensor that needs no grad: the same memory, no copy. A lazy
        # conjugate or negation is resolved first; asked rather than always resolved, which
        # costs more than the view itself on the small arrays of a kept call.
        if a.is_conj() or a.is_neg():
            a = a.resolve_conj().resolve_neg()
        return a.numpy()

    def from_host(self, a: Any) -> Any:
        import torch

        return torch.from_numpy(a)

    def to_numpy(self, x: Any) -> Any:
        if x.requires_grad:
            raise ValueError("the tensor requires grad; call .detach() before converting it")
        return self.host_view(x.cpu())

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        torch = self.load()
        if source is self:
            return x if device is None else x.to(device)
        if source is not None and source.name != "numpy" and source.device_type(x) != "cpu":
            out = torch.from_dlpack(x)  # device to device, no host copy
        else:
            host = source.to_numpy(x) if source is not None else x
            out = torch.from_numpy(host if host.flags.writeable else host.copy())
        return out if device is None else out.to(device)

    def matmul(self, xp: Any, a: Any, b: Any) -> Any:
        if a.dtype != b.dtype:
            return xp.matmul(a, b)  # array-api-compat promotes; torch.matmul would refuse
        import torch

        # With one dtype there is nothing to promote, and the namespace's matmul adds two
        # dtype resolutions and two conversions to torch's own call.
        return torch.matmul(a, b)

    def fmod(self, xp: Any, x: Any, y: Any) -> Any:
        mod = xp.fmod(x, y)
        # torch's vectorised CPU fmod computes x - trunc(x / y) * y: NaN where x / y
        # overflows (3e38 % 0.5 in float32, 2.0 % 1e-45), where C's fmod is exact. Those
        # lanes come from NumPy's fmod on views of the same memory.
        if mod.device.type != "cpu" or mod.dtype not in _host_floats() or not mod.isnan().any():
            return mod
        import numpy as np
        import torch

        with np.errstate(invalid="ignore"):  # NaN where C's fmod gives NaN, as torch's
            exact = np.fmod(x.detach().numpy(), y.detach().numpy())
        return torch.where(mod.isnan(), torch.from_numpy(np.asarray(exact)), mod)

    def division_operands(self, a: Any, b: Any) -> tuple[Any, Any]:
        # torch's ``number / tensor`` is reciprocal(tensor) * number, and on CUDA ``tensor /
        # number`` and ``tensor // number`` multiply by the number's reciprocal: two roundings
        # (0 / 1e-45 is NaN, 0.3 / 7 is off in the last bit). A 0-d tensor on the other's
        # device takes the division kernel, which rounds once.
        if type(a) in _NUMBERS:
            return _as_tensor(a, b), b
        if type(b) in _NUMBERS and a.device.type != "cpu":
            return a, _as_tensor(b, a)
        return a, b

    def matrix_transpose(self, xp: Any, x: Any) -> Any:
        return x.mT  # the namespace's goes through two wrappers to the same view

    def pointer(self, a: Any) -> int:
        return int(a.data_ptr())

    def contiguous(self, a: Any) -> bool:
        return bool(a.is_contiguous())

    def empty(self, shape: Any, dtype: Any, like: Any) -> Any:
        import torch

        return torch.empty(shape, dtype=dtype, device=like.device)

    def allocator(self, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
        import torch

        return functools.partial(torch.empty, shape, dtype=dtype, device=like.device)

    def settle(self, x: Any) -> bool:
        if x.device.type != "cuda":
            return True
        import torch

        if torch.cuda.is_current_stream_capturing():
            return False
        torch.cuda.current_stream(x.device).synchronize()
        return True

    def device_index(self, x: Any) -> int:
        return int(x.device.index or 0)

    def stream_getter(self, device: int) -> Any:
        import torch

        # torch.cuda.current_stream builds a Stream object (about 10 us); the raw handle is the
        # same number for a fraction of that.
        raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
        if raw is not None:
            return functools.partial(raw, device)
        return lambda: int(torch.cuda.current_stream(device).cuda_stream)


_NUMBERS = (bool, int, float)


def _as_tensor(number: Any, like: Any) -> Any:
    """A Python number as a 0-d tensor of ``like``'s dtype and device, rounded to the dtype
    as NumPy rounds a weak scalar (beyond float32's range: infinite, where torch refuses)."""
    import torch

    name = dtype_name(like.dtype)
    if type(number) is float and name in ("float16", "float32"):
        number = weak_float(number, name)
    return torch.full((), number, dtype=like.dtype, device=like.device)


@functools.cache
def _host_floats() -> frozenset[Any]:
    import torch

    return frozenset({torch.float16, torch.float32, torch.float64})


BACKEND = Torch("torch", "torch", "torch")
