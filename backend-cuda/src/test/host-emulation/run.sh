#!/bin/sh
# Host emulation of the CUDA kernels (no GPU needed): builds emulate.cpp with g++ against a stand-in for the
# CUDA headers and runs it. Usage: backend-cuda/src/test/host-emulation/run.sh [features|rotary|nonfinite]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/attn4j-cuda-emulate
g++ -std=c++20 -O2 -pthread -x c++ -include "$here/shim/cuda_fp16.h" -I"$here/shim" -I"$here/../../main/cuda" \
    -o "$out" "$here/emulate.cpp"
"$out" "$@"
