"""Test sessions, one per backend: ``nox -l`` lists them, ``nox`` runs the CPU ones."""

from __future__ import annotations

import nox

nox.options.sessions = [
    "lint",
    "typecheck",
    "tests-numpy",
    "tests-torch",
    "tests-strict",
    "tests-cudasim",
    "tests-jax",
    "tests-dask",
    "ptx",
    "peers",
    "docs",
]
nox.options.reuse_existing_virtualenvs = True

CPU_TORCH = ("-c", "ci/constraints-cpu.txt")


def _pytest(session: nox.Session, backends: str, *extra: str, **env: str) -> None:
    session.run("pytest", *extra, *session.posargs, env={"XPKERN_BACKENDS": backends, **env})


@nox.session(name="tests-numpy")
def tests_numpy(session: nox.Session) -> None:
    """The suite on NumPy arrays, and the docstring examples."""
    session.install("-e", ".[test]")
    _pytest(session, "numpy", "tests", "--doctest-modules", "src/xpkern")


@nox.session(name="tests-torch")
def tests_torch(session: nox.Session) -> None:
    """The suite on NumPy and CPU torch tensors (agreement needs both); the operator matrix
    of tests/test_semantics.py on torch tensors (the NumPy session runs it on NumPy)."""
    session.install("-e", ".[test,torch]", *CPU_TORCH)
    _pytest(session, "numpy,torch", "tests", XPKERN_SEMANTICS="torch")


@nox.session(name="tests-strict")
def tests_strict(session: nox.Session) -> None:
    """The suite on array-api-strict: the generic code uses the standard and nothing else."""
    session.install("-e", ".[test]")
    _pytest(session, "array_api_strict", "tests")


@nox.session(name="tests-cudasim")
def tests_cudasim(session: nox.Session) -> None:
    """The CUDA kernels' logic on the CPU, in numba-cuda's simulator (no GPU needed)."""
    session.install("-e", ".[test]", "numba-cuda")
    _pytest(session, "numpy", "tests/test_cudasim.py", NUMBA_ENABLE_CUDASIM="1")


@nox.session(name="tests-jax")
def tests_jax(session: nox.Session) -> None:
    """The suite on JAX arrays (generic paths, also under jax.jit)."""
    session.install("-e", ".[test,jax]")
    _pytest(session, "jax", "tests", JAX_ENABLE_X64="1")


@nox.session(name="tests-dask")
def tests_dask(session: nox.Session) -> None:
    """The suite on Dask arrays, and a real dask.distributed LocalCluster (tests/test_dask.py)."""
    session.install("-e", ".[test,dask]")
    _pytest(session, "dask", "tests")


@nox.session(python="3.12")
def ptx(session: nox.Session) -> None:
    """Every CUDA kernel xpkern generates, compiled to PTX on the CPU (no GPU needed) by
    numba-cuda with the newest NumPy, so that a compiler that stops working with NumPy fails
    here rather than turning the fused CUDA kernels off on users' GPU machines."""
    session.install("-e", ".[test]", "numba-cuda[cu13]")
    session.install("--upgrade", "numpy")
    session.run("python", "-c", "import numpy, numba_cuda; print('numpy', numpy.__version__, "
                "'numba-cuda', numba_cuda.__version__)")  # fmt: skip
    _pytest(session, "numpy", "tests/test_ptx.py", XPKERN_REQUIRE_PTX="1")


@nox.session(name="tests-cupy")
def tests_cupy(session: nox.Session) -> None:
    """The suite on CuPy and CUDA torch tensors: needs an NVIDIA GPU (not run by default)."""
    session.install("-e", ".[test,torch,cuda13]")
    _pytest(session, "numpy,cupy,torch-cuda", "tests")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the package."""
    session.install("mypy==2.4.1", "-e", ".[test]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (warnings are errors), and its code examples as doctests."""
    session.install("-e", ".[docs,test]")
    session.run("pytest", "-q", "--doctest-modules", "src/xpkern", "-p", "no:cacheprovider",
                env={"XPKERN_BACKENDS": "numpy"})  # fmt: skip
    build = session.create_tmp()
    session.run("sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", f"{build}/doctest")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark harness: ``nox -s bench -- --quick`` (results to benchmarks/results/)."""
    session.install("-e", ".[bench,test,torch,dask]", *CPU_TORCH)
    session.run("python", "-m", "benchmarks", *session.posargs)


# SciPy's array-API backends for its tests (its conftest reads the list from this variable)
SCIPY_BACKENDS = '["numpy", "torch", "array_api_strict"]'


@nox.session
def peers(session: nox.Session) -> None:
    """SciPy's and scikit-learn's own test modules, from the installed wheels, with xpkern's
    functions swapped in (peers/xpkern_peers.py; what each swap serves: peers/README.md).

    SciPy's test_logsumexp.py (logsumexp, softmax, log_softmax) and test_distance.py (cdist)
    on NumPy, torch CPU and array-api-strict; scikit-learn's test_pairwise.py (dense
    euclidean_distances and rbf_kernel, also through pairwise_distances and pairwise_kernels)
    on every array namespace it finds, float32 tests included. Nothing is deselected.
    """
    session.install("-e", ".[test,torch]", "scikit-learn", *CPU_TORCH)
    session.chdir("peers")
    pytest = ("pytest", "-c", "pytest.ini", *session.posargs, "--pyargs")
    session.run(
        *pytest,
        "scipy.special.tests.test_logsumexp",
        "scipy.spatial.tests.test_distance",
        env={"XPKERN_PEERS": "special,distance", "SCIPY_ARRAY_API": SCIPY_BACKENDS},
    )
    # scikit-learn's tests take SciPy's cdist as their reference: that one stays SciPy's
    sklearn_env = {"SCIPY_ARRAY_API": "1", "SKLEARN_RUN_FLOAT32_TESTS": "1"}
    session.run(*pytest, "sklearn.metrics.tests.test_pairwise",
                env={"XPKERN_PEERS": "pairwise", **sklearn_env})  # fmt: skip
    # The same modules under xpkern.accel, as users turn it on (its import hook included)
    session.run(*pytest, "scipy.special.tests.test_logsumexp", "scipy.spatial.tests.test_distance",
                env={"XPKERN_PEERS": "accel", "SCIPY_ARRAY_API": SCIPY_BACKENDS})  # fmt: skip
    session.run(*pytest, "sklearn.metrics.tests.test_pairwise",
                env={"XPKERN_PEERS": "accel", **sklearn_env})  # fmt: skip


@nox.session(name="peers-gpu")
def peers_gpu(session: nox.Session) -> None:
    """The peers' suites on a GPU machine: SciPy's test_logsumexp.py on CUDA tensors and CuPy
    arrays (SCIPY_DEVICE=cuda), scikit-learn's test_pairwise.py with every namespace it finds
    (CUDA ones included). Not in the default sessions: it needs a CUDA device."""
    session.install("-e", ".[test,torch,cuda13]")
    session.chdir("peers")
    pytest = ("pytest", "-c", "pytest.ini", *session.posargs, "--pyargs")
    gpu = {"SCIPY_ARRAY_API": '["torch", "cupy"]', "SCIPY_DEVICE": "cuda"}
    session.run(*pytest, "scipy.special.tests.test_logsumexp",
                env={"XPKERN_PEERS": "special", **gpu})  # fmt: skip
    session.run(*pytest, "sklearn.metrics.tests.test_pairwise",
                env={"XPKERN_PEERS": "pairwise", "SCIPY_ARRAY_API": "1",
                     "SKLEARN_RUN_FLOAT32_TESTS": "1"})  # fmt: skip
