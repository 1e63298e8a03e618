"""The engines that run fused kernels: they compile, cache and launch code, and know no op.

* :mod:`.source`: generated kernel modules, written to a file so Numba can cache them;
* :mod:`.numba_cpu`: when a Numba CPU kernel may use every core, and how to call one;
* :mod:`.numba_cpu_exp`: ``exp`` as arithmetic a Numba CPU loop can run on vectors;
* :mod:`.cuda`: the CUDA engine (compiler, streams, launches, the lean call, cuBLAS);
* :mod:`.dask`: chunk plumbing for the ops' Dask implementations.
"""
