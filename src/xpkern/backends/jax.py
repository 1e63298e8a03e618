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

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        jax = self.load()
        host = source.to_numpy(x) if source is not None else x
        out = jax.numpy.asarray(host)
        return out if device is None else jax.device_put(out, device)


BACKEND = Jax("jax", "jax", "jax", modules=("jaxlib",))
