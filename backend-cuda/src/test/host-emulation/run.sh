#!/bin/sh
# Host emulation of the CUDA kernels (no GPU needed): builds emulate.cpp with g++ against a stand-in for the
# CUDA headers and runs it.
#   run.sh [features|rotary|nonfinite|models]   the C++ checks against float64 references (all without an argument)
#   run.sh build                                 only build; prints the binary's path (the Java tests' EmulatedGpu
#                                                runs it as `emulate serve`)
# The binary goes to $ATTN4J_EMULATE_OUT (default ${TMPDIR:-/tmp}/attn4j-cuda-emulation) and is rebuilt only when a
# source is newer. ATTN4J_EMULATE_ASAN=1 builds with AddressSanitizer (out-of-bounds kernel accesses abort).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cuda=$(cd "$here/../../main/cuda" && pwd)
out=${ATTN4J_EMULATE_OUT:-${TMPDIR:-/tmp}/attn4j-cuda-emulation}
mkdir -p "$out"
bin="$out/emulate"
flags="-std=c++20 -O2 -pthread -x c++ -include $here/shim/cuda_fp16.h -I$here/shim -I$cuda -I$out"
sanitize=""
if [ "${ATTN4J_EMULATE_ASAN:-0}" = 1 ]; then sanitize="-fsanitize=address -fno-omit-frame-pointer"; fi
stamp="$out/flags"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$flags $sanitize" ] \
    || [ -n "$(find "$here" "$cuda" -type f -newer "$bin" 2>/dev/null)" ]; then
  # Every extern "C" kernel, as the preprocessor expands the sources' macros: the server's table of kernels.
  # shellcheck disable=SC2086
  g++ $flags -E "$here/emulation.hpp" 2>/dev/null | grep -oE 'extern "C" +void +[A-Za-z_][A-Za-z0-9_]*' | awk '{print $NF}' \
      | grep -v '^__' | sort -u | sed 's/.*/ATTN4J_KERNEL(&)/' > "$out/kernels.inc.tmp"
  mv "$out/kernels.inc.tmp" "$out/kernels.inc"
  # shellcheck disable=SC2086
  g++ $flags $sanitize -o "$bin.tmp" "$here/emulate.cpp"
  mv "$bin.tmp" "$bin"
  printf '%s' "$flags $sanitize" > "$stamp"
fi
if [ "${1:-}" = build ]; then
  echo "$bin"
  exit 0
fi
"$bin" "$@"
