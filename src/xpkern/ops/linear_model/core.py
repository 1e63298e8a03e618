"""Linear regression by full-batch gradient descent: ``fit_linear`` and ``predict_linear``.

``fit_linear`` performs exactly the update of ``torch.nn.Linear`` + ``MSELoss()`` (mean) +
``SGD(lr)``: from the same starting weights it follows torch's trajectory. Small problems run
the whole training loop as one compiled kernel (Numba on the CPU, one CUDA block on the GPU),
where torch pays a dozen kernel launches and Python steps per iteration.
"""

from __future__ import annotations

import math
from typing import Any

from ... import _checks
from ..._dispatch import Op, public
from ...backends import Context, resolve

__all__ = ["fit_linear", "fit_op", "predict_linear", "prepare"]


def _float_dtype(ctx: Context, *arrays: Any) -> Any:
    xp = ctx.xp
    dtype = xp.result_type(*arrays)
    if not xp.isdtype(dtype, "real floating"):
        dtype = xp.asarray(0.0, device=ctx.device).dtype  # the library's default float
    return dtype


def prepare(ctx: Context, X: Any, y: Any, w0: Any, b0: Any) -> tuple[Any, ...]:
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


fit_op = Op("fit_linear", _fit_generic)


@public(fit_op)
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
    if not _checks.is_integer(steps) or not 0 <= steps < 2**31:
        raise ValueError(f"fit_linear: steps must be an integer in [0, 2**31), got {steps!r}")
    if not _checks.is_real(lr) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"fit_linear: lr must be a finite number > 0, got {lr!r}")
    ctx = resolve(X, y, w0, b0)
    X, y = ctx.asarray(X), ctx.asarray(y)
    one_output = y.ndim == 1
    Xf, Y, W, B = prepare(ctx, X, y, w0, b0)
    W, B, losses = fit_op(ctx, Xf, Y, W, B, float(lr), int(steps))
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
