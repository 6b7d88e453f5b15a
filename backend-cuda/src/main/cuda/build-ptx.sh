#!/bin/sh
# Compiles every .cu file of SRC_DIR to PTX in OUT_DIR (one NAME.ptx each) for virtual architecture ARCH.
# Without nvcc (on PATH or in $CUDA_HOME/bin) it removes stale PTX, says why and succeeds: the backend's
# probe then reports "CUDA kernels were not built (nvcc absent at build time)".
# Either way it writes OUT_DIR/build.properties (nvcc=present|absent), so that tests can tell a build without
# nvcc (kernels legitimately missing) from a broken one (nvcc there, kernels missing).
# Usage: build-ptx.sh SRC_DIR OUT_DIR ARCH
set -eu
src=$1; out=$2; arch=$3
nvcc=$(command -v nvcc || true)
if [ -z "$nvcc" ] && [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then nvcc=$CUDA_HOME/bin/nvcc; fi
mkdir -p "$out"
if [ -z "$nvcc" ]; then
  rm -f "$out"/*.ptx
  printf 'nvcc=absent\n' > "$out/build.properties"
  echo "[attn4j] nvcc not found: CUDA kernels not built (the cuda backend will report them missing)"
  exit 0
fi
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  ptx="$out/$name.ptx"
  # Rebuild only when a file of the CUDA folder (sources, headers, this script) is newer than the PTX.
  if [ -f "$ptx" ] && [ -z "$(find "$src" -newer "$ptx" -type f)" ]; then
    continue
  fi
  echo "[attn4j] nvcc --ptx -arch=$arch $name.cu"
  "$nvcc" --ptx -arch="$arch" -O3 -std=c++17 -I"$src" -o "$ptx.tmp" "$cu"
  mv "$ptx.tmp" "$ptx"
done
printf 'nvcc=present\narch=%s\nnvcc.version=%s\n' "$arch" "$("$nvcc" --version | tail -n 1)" > "$out/build.properties"
