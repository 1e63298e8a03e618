"""JAX: immutable arrays; the generic paths, also under ``jax.jit``."""

from __future__ import annotations

from typing import Any

from .base import Backend

__all__ = ["BACKEND"]


class Jax(Backend):
    def device_type(self, x: Any) -> str:
        try:
            platform = str(next(iter(x.devices())).platform)
        except Exception:  # a tracer inside jax.jit has no device: the default one will run it
            import jax

            platform = str(jax.default_backend())
        return "cuda" if platform == "gpu" else platform

    def matmul(self, xp: Any, a: Any, b: Any) -> Any:
        # On GPUs JAX's default float32 matmul runs in TF32 (about 1e-4 relative error);
        # every other library gives float32 accuracy, so xpkern asks JAX for it too.
        return xp.matmul(a, b, precision="highest")

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        jax = self.load()
        host = source.to_numpy(x) if source is not None else x
        out = jax.numpy.asarray(host)
        return out if device is None else jax.device_put(out, device)


BACKEND = Jax("jax", "jax", "jax", modules=("jaxlib",))
