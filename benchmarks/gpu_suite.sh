#!/usr/bin/env bash
# The GPU checks and benchmarks in one go: bash benchmarks/gpu_suite.sh OUTDIR
# Runs the test suite on CuPy and CUDA torch tensors, then the GPU benchmarks; each writes
# its table and JSON to OUTDIR. Needs torch with CUDA, CuPy, numba-cuda, hypothesis, pytest.
set -uo pipefail
out=${1:?output directory}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"
python3 -m xpkern info | tee "$out/info.txt"
XPKERN_BACKENDS=numpy,cupy,torch-cuda python3 -m pytest -q -p no:cacheprovider tests \
    2>&1 | tee "$out/tests-cupy.txt" | tail -25
for bench in "$@"; do
    [ "$bench" = "$out" ] && continue
    python3 -m "benchmarks.$bench" --gpu --out "$out" 2>&1 | tail -40
done
