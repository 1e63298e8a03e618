"""The generic paths under jax.jit: no in-place writes, no host reads of traced values."""

import numpy as np
import pytest

import xpkern

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

clip = xpkern.elementwise(lambda v: v * 2.0 + 1.0 if v > 0.5 else v)

CASES = {
    "logsumexp": lambda x: xpkern.logsumexp(x, axis=1),
    "softmax": lambda x: xpkern.softmax(x),
    "log_softmax": lambda x: xpkern.log_softmax(x, axis=0),
    "gram": lambda x: xpkern.matmul(x),
    "matmul": lambda x: xpkern.matmul(x, x.T),
    "cdist": lambda x: xpkern.cdist(x, x, metric="cityblock"),
    "rbf_kernel": lambda x: xpkern.rbf_kernel(x),
    "mean_var": lambda x: xpkern.mean_var(x, axis=0)[1],
    "elementwise": lambda x: clip(x),
    "polyval": lambda x: xpkern.polyval(x[0], x),
    "fit_linear": lambda x: xpkern.fit_linear(x, x[:, 0], steps=5, lr=0.1)[0],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_runs_under_jit_and_matches_eager(name):
    x = jnp.asarray(np.random.default_rng(0).random((6, 4)))
    eager = CASES[name](x)
    jitted = jax.jit(CASES[name])(x)
    assert isinstance(jitted, jax.Array)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-12, atol=1e-14)
