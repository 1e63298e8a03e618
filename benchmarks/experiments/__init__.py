"""One-off variant scripts: each measured the alternatives behind one constant of xpkern, and
its docstring says which constant it chose and from which figures (in benchmarks/results/).
They need a CUDA machine; the harness (``python -m benchmarks``) does not run them."""
