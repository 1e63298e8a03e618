"""The op families, one folder each: ``core.py`` holds the public function, its op and the
generic Array-API implementation; ``cpu.py``, ``cuda.py`` and ``dask.py`` register the fused
implementations of one engine each on core's op."""
