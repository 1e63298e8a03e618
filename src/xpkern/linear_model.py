"""Linear regression by full-batch gradient descent: ``fit_linear`` and ``predict_linear``.

``fit_linear`` performs exactly the update of ``torch.nn.Linear`` + ``MSELoss()`` (mean) +
``SGD(lr)``: from the same starting weights it follows torch's trajectory. Small problems run
the whole training loop as one compiled kernel (Numba on the CPU, one CUDA block on the GPU),
where torch pays a dozen kernel launches and Python steps per iteration.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import _checks
from ._backends import Context, from_host, host_view, resolve
from ._dispatch import Op, public

__all__ = ["fit_linear", "predict_linear"]


def _float_dtype(ctx: Context, *arrays: Any) -> Any:
    xp = ctx.xp
    dtype = xp.result_type(*arrays)
    if not xp.isdtype(dtype, "real floating"):
        dtype = xp.asarray(0.0, device=ctx.device).dtype  # the library's default float
    return dtype


def _prepare(ctx: Context, X: Any, y: Any, w0: Any, b0: Any) -> tuple[Any, ...]:
    """Validated float copies: X (n, d), Y (n, m), W (m, d), B (m,)."""
    xp = ctx.xp
    for name, a in (("X", X), ("y", y)):
        if not xp.isdtype(a.dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"fit_linear: {name} has unsupported dtype {a.dtype}")
    if X.ndim != 2:
        raise ValueError(f"fit_linear: X must be 2-D (n_samples, n_features), got {X.shape}")
    if y.ndim not in (1, 2):
        raise ValueError(f"fit_linear: y must be 1-D or 2-D, got shape {tuple(y.shape)}")
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"fit_linear: X has {n} samples but y has {y.shape[0]}")
    if n == 0:
        raise ValueError("fit_linear: X has no samples")
    m = 1 if y.ndim == 1 else y.shape[1]
    dtype = _float_dtype(ctx, X, y)
    Xf = xp.astype(X, dtype, copy=True)
    Y = xp.reshape(xp.astype(y, dtype, copy=True), (n, m))
    W = _start(ctx, w0, (m, d), (d,) if y.ndim == 1 else (m, d), "w0", dtype)
    B = _start(ctx, b0, (m,), () if y.ndim == 1 else (m,), "b0", dtype)
    return Xf, Y, W, B


def _start(ctx: Context, v: Any, shape: tuple[int, ...], public_shape: tuple[int, ...],
           name: str, dtype: Any) -> Any:  # fmt: skip
    xp = ctx.xp
    if v is None:
        return xp.zeros(shape, dtype=dtype, device=ctx.device)
    v = ctx.asarray(v)
    if tuple(v.shape) != public_shape:
        raise ValueError(f"fit_linear: {name} must have shape {public_shape}, got {v.shape}")
    if getattr(v, "requires_grad", False):
        v = v.detach()
    return xp.reshape(xp.astype(v, dtype, copy=True), shape)


def _finish(ctx: Context, W: Any, B: Any, losses: Any, one_output: bool) -> tuple[Any, ...]:
    xp = ctx.xp
    if one_output:
        return xp.reshape(W, (W.shape[1],)), xp.reshape(B, ()), losses
    return W, B, losses


def _fit_generic(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    xp = ctx.xp
    n, m = Y.shape
    scale = 2.0 / (n * m)
    losses = []
    for _ in range(steps):
        r = xp.matmul(X, xp.matrix_transpose(W)) + B - Y
        losses.append(xp.sum(r * r) / (n * m))
        g = r * scale
        W = W - lr * xp.matmul(xp.matrix_transpose(g), X)
        B = B - lr * xp.sum(g, axis=0)
    stacked = xp.stack(losses) if losses else xp.zeros((0,), dtype=X.dtype, device=ctx.device)
    return W, B, stacked


_fit = Op("fit_linear", _fit_generic)


@public(_fit)
def fit_linear(
    X: Any,
    y: Any,
    /,
    *,
    lr: float = 1e-4,
    steps: int = 1000,
    w0: Any = None,
    b0: Any = None,
    loss: str = "mse",
) -> tuple[Any, Any, Any]:
    """Fit ``y ~ X @ w.T + b`` by full-batch gradient descent on the mean squared error.

    Each step is exactly the update of ``torch.nn.Linear`` with ``MSELoss()`` (mean over all
    elements) and ``torch.optim.SGD(lr=lr)``: with the same starting weights the result
    follows torch's trajectory.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
        Inputs; integer inputs are promoted to the library's default float.
    y : array, shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    lr : float
        Learning rate, > 0.
    steps : int
        Number of gradient steps, >= 0.
    w0 : array, optional
        Starting weights, shape (n_features,) for 1-D ``y``, else (n_outputs, n_features)
        (torch's ``Linear.weight`` layout). Default zeros. Never modified.
    b0 : array, optional
        Starting bias, shape () for 1-D ``y``, else (n_outputs,). Default zeros. Never
        modified.
    loss : {"mse"}
        The loss; only the mean squared error is implemented.

    Returns
    -------
    w : array
        Final weights, shaped like ``w0``.
    b : array
        Final bias, shaped like ``b0``.
    losses : array, shape (steps,)
        The loss before each step (what ``loss.item()`` gives in a torch loop).

    Notes
    -----
    Non-finite values in ``X`` or ``y`` are not checked (that would stop the device to read
    a flag): they propagate, and the weights and losses come out NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> w, b, losses = xpkern.fit_linear(X, 2 * X[:, 0] + 1, lr=0.1, steps=2000)
    >>> np.round(w, 3), np.round(b, 3)
    (array([2.]), np.float64(1.0))
    """
    if loss != "mse":
        raise ValueError(f"fit_linear: unknown loss {loss!r}; only 'mse' is implemented")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps < 2**31:
        raise ValueError(f"fit_linear: steps must be an integer in [0, 2**31), got {steps!r}")
    if not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"fit_linear: lr must be a finite number > 0, got {lr!r}")
    ctx = resolve(X, y, w0, b0)
    X, y = ctx.asarray(X), ctx.asarray(y)
    one_output = y.ndim == 1
    Xf, Y, W, B = _prepare(ctx, X, y, w0, b0)
    W, B, losses = _fit(ctx, Xf, Y, W, B, float(lr), steps)
    return _finish(ctx, W, B, losses, one_output)


def _predict_generic(ctx: Context, X: Any, w: Any, b: Any) -> Any:
    xp = ctx.xp
    if w.ndim == 1:
        return xp.matmul(X, w) + b
    return xp.matmul(X, xp.matrix_transpose(w)) + b


_predict = Op("predict_linear", _predict_generic)


@public(_predict)
def predict_linear(X: Any, w: Any, b: Any, /) -> Any:
    """``X @ w.T + b``: predictions of a model fitted by :func:`fit_linear`.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.predict_linear(np.array([[1.0, 2.0]]), np.array([3.0, 4.0]), 0.5)
    array([11.5])
    """
    ctx = resolve(X, w, b)
    xp = ctx.xp
    X = _checks.floating(ctx, ctx.asarray(X), "X", "predict_linear")
    w = _checks.floating(ctx, ctx.asarray(w), "w", "predict_linear")
    b = _checks.floating(ctx, ctx.asarray(b), "b", "predict_linear")
    if X.ndim != 2 or w.ndim not in (1, 2) or X.shape[1] != w.shape[-1]:
        raise ValueError(
            f"predict_linear: X of shape {tuple(X.shape)} does not fit w of shape "
            f"{tuple(w.shape)} (X: (n, d); w: (d,) or (m, d))"
        )
    if b.shape not in ((), (1,), tuple(w.shape[:-1])):
        raise ValueError(f"predict_linear: b must have shape {tuple(w.shape[:-1])}, got {b.shape}")
    dtype = xp.result_type(X, w, b)
    X, w, b = (xp.astype(a, dtype, copy=False) for a in (X, w, b))
    return _predict(ctx, X, w, b)


# --- the whole loop as one kernel ----------------------------------------------------------
#
# benchmarks/results/fit_linear-*.md, 1000 steps. CPU (2 cores): 64x10 takes 0.71 ms in the
# Numba loop against 149 ms for torch's loop and 41 ms for the composed generic path; at
# 256x32 (n*d*m = 8192) the loop still wins 4x (9.8 vs 43 ms), at 65536 it loses (81-90 vs
# 57-64 ms): the loop is serial. H100: the one-block kernel takes 5.8 ms for 64x10 (torch's
# loop: 711 ms) and 15 ms for 256x32 (generic: 218 ms); past 2^14 the data outgrows shared
# memory and the matmul-based generic path takes over.
CPU_MAX_WORK = 2**15
CUDA_MAX_WORK = 2**14


def _small(limit: int) -> Any:
    def wins(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> str | None:
        work = X.shape[0] * X.shape[1] * Y.shape[1]
        if work > limit:
            return f"n*d*m = {work} > {limit}: the matmul-based generic path is faster"
        return None

    return wins


def _dtype_ok(X: Any) -> bool:
    return _checks.dtype_name(X.dtype) in ("float32", "float64")


def _cpu_supports(ctx: Context, X: Any, Y: Any, W: Any, B: Any, *rest: Any) -> str | None:
    return _checks.host_float_kernel(ctx, X, Y, W, B)


@_fit.register(
    "numba-cpu",
    reason="the whole training loop in one compiled Numba function",
    supports=_cpu_supports,
    wins=_small(CPU_MAX_WORK),
)
def _fit_cpu(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    Xh, Yh, Wh, Bh = (np.ascontiguousarray(host_view(ctx, a)) for a in (X, Y, W, B))
    losses = np.empty(steps, dtype=Xh.dtype)
    _cpu_loop()(Xh, Yh, Wh, Bh, Xh.dtype.type(lr), steps, losses)
    return from_host(ctx, Wh), from_host(ctx, Bh), from_host(ctx, losses)


@functools.cache
def _cpu_loop() -> Any:
    import numba

    @numba.njit(cache=True)
    def loop(X: Any, Y: Any, W: Any, B: Any, lr: Any, steps: int, losses: Any) -> None:
        n, d = X.shape
        m = Y.shape[1]
        R = np.empty((n, m), dtype=X.dtype)
        scale = X.dtype.type(2.0) / X.dtype.type(n * m)
        for t in range(steps):
            total = X.dtype.type(0.0)
            for i in range(n):
                for k in range(m):
                    acc = B[k]
                    for j in range(d):
                        acc += X[i, j] * W[k, j]
                    r = acc - Y[i, k]
                    R[i, k] = r * scale
                    total += r * r
            losses[t] = total / X.dtype.type(n * m)
            for k in range(m):
                gb = X.dtype.type(0.0)
                for i in range(n):
                    gb += R[i, k]
                for j in range(d):
                    gw = X.dtype.type(0.0)
                    for i in range(n):
                        gw += R[i, k] * X[i, j]
                    W[k, j] -= lr * gw
                B[k] -= lr * gb

    return loop


def _cuda_supports(ctx: Context, X: Any, *rest: Any) -> str | None:
    from . import _cuda

    if ctx.backend.name not in ("cupy", "torch") or ctx.device_type != "cuda":
        return f"needs CuPy arrays or CUDA tensors, got {ctx.backend.name} on {ctx.device_type}"
    if not _dtype_ok(X):
        return "the kernel takes float32/float64 data"
    n, d = X.shape
    need = _cuda.fit_shared_bytes(n, d, rest[0].shape[1], 4 if "32" in str(X.dtype) else 8)
    if need > _cuda.SHARED_BYTES:
        return f"the problem needs {need} bytes of shared memory, over {_cuda.SHARED_BYTES}"
    return _cuda._engine_problem()


@_fit.register(
    "numba-cuda",
    reason="the whole training loop in one CUDA block, no launch or sync per step",
    supports=_cuda_supports,
    wins=_small(CUDA_MAX_WORK),
)
def _fit_cuda(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    from . import _cuda

    return _cuda.fit_linear_run(ctx, X, Y, W, B, lr, steps)
