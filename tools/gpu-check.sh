#!/usr/bin/env bash
# GPU check of the cuda backend on a lent machine that has a GPU and PyTorch but no Java.
#
#   tools/gpu-check.sh pack   here (JDK 25, Maven, no GPU needed): builds backend-cuda and conformance-tests,
#                             collects their jars, test classes and the JUnit console launcher into .device/lib
#                             (the other backends left out, so the suite finds cuda alone), and a jlinked JRE into
#                             .device/jre.tar.xz (via shared/tools/device-jdk.sh).
#   tools/gpu-check.sh run    there, from the repository root, with .device carried along; about 8 minutes:
#                             1. backend-cuda's tests, the GPU ones included (CudaGpuTest, CudaFeatureGpuTest,
#                                CudaModelPortsGpuTest; the host-emulation tests are left to machines without a GPU);
#                             2. the conformance suite on cuda — every row, the model ports' included — and the model
#                                parity fixtures (ModelParityTest: x-transformers 1.20's logits, loss and gradients);
#                             3. GEMM: attn4j's linear port (cuBLAS through JCublas) next to PyTorch's torch.matmul and
#                                F.linear (cuBLAS/cuBLASLt's own rate) on the same shapes, bf16/f16/f32;
#                             4. attention, bf16 B=4 H=16 S=4096 D=128, causal and not, forward and backward, next to
#                                PyTorch's scaled_dot_product_attention;
#                             5. if time is left, the hostile-input fuzz and close-in-flight tests on cuda.
#                             Each stage has its own time limit, so a slow one cannot eat the benchmarks. Logs, JUnit
#                             XML and bench-summary.txt (attn4j / PyTorch per shape) go to $OUT (or .device/out).
#
# Device tool call (one command):  carry [".device"], command "tools/gpu-check.sh run", timeout_s 600.
# JCublas needs CUDA 12's libcublas.so.12: the run looks for it beside PyTorch (pip's nvidia-cublas-cu12, torch/lib)
# and in /usr/local/cuda*; without it linear and loss are not declared and their rows report unsupported.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_shape=(4 16 4096 128)

pack() {
  export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  local lib
  lib=$(mktemp -d)
  # One reactor run: jars for every module, then each module's runtime and test dependencies copied beside them.
  # Left out: JUnit (the console launcher brings its own), Mockito (no selected test mocks), and the domain's DJL
  # tokenizer with its dependencies (about 30 MB; no selected test reads a tokenizer), so .device stays within the
  # device tool's 64 MiB.
  mvn -B -q -pl backend-cuda,conformance-tests -am package -DskipTests \
      dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$lib" \
      -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.mockito,net.bytebuddy,org.objenesis,ai.djl,net.java.dev.jna,com.google.code.gson,commons-io,commons-codec,org.apache.commons,com.google.errorprone
  for m in ports backend-cuda conformance-tests; do
    cp "$m"/target/attn4j-*.jar "$lib"/ 2>/dev/null || true
  done
  # Test classes of the two modules whose tests run there (not ports': its test providers, registered for
  # ServiceLoader, would join the suite as backends "alpha" and "beta").
  for m in backend-cuda conformance-tests; do
    jar cf "$lib/$m-tests.jar" -C "$m/target/test-classes" .
  done
  # Only cuda on the class path: the suite and @EachBackend then run on it alone (the cpu backend would spend the
  # device's minutes on its own rows), and the tests that need another backend are not selected.
  rm -f "$lib"/attn4j-backend-cpu-*.jar "$lib"/attn4j-backend-opencl-*.jar "$lib"/attn4j-backend-tornado-*.jar \
        "$lib"/attn4j-backend-cuda-*-tests.jar "$lib"/jocl-*.jar
  # The driver API needs only libJCudaDriver: drop the runtime/NVRTC/PTX-compiler natives (about 25 MB), and
  # JCublas's legacy (v1) library beside the JCublas2 one it uses.
  for j in "$lib"/jcuda-natives-*.jar; do
    zip -q -d "$j" 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' 'lib/libJCudaRuntime*' || true
  done
  for j in "$lib"/jcublas-natives-*.jar; do
    zip -q -d "$j" 'lib/libJCublas-*' || true
  done
  local junit platform
  junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
  # JUnit 5.x ships its platform as 1.x (5.14.4 -> 1.14.4); from JUnit 6 on the two share a version
  case "$junit" in 5.*) platform="1.${junit#5.}" ;; *) platform=$junit ;; esac
  mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" \
      -DoutputDirectory="$lib"
  rm -rf .device/lib
  local shared=${ATTN4J_SHARED:-$root/../shared}
  [ -x "$shared/tools/device-jdk.sh" ] || shared=/work/shared
  # device-jdk.sh writes .git/info/exclude: run pack in a plain checkout (not a git worktree).
  "$shared/tools/device-jdk.sh" "$lib"
  rm -rf "$lib"
  du -sh .device
}

# Directories holding libcublas.so.12 (JCublas2's dependency): PyTorch's pip wheels, torch/lib, a CUDA toolkit.
cublas_dirs() {
  python3 - <<'PY' 2>/dev/null || true
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
found = []
for r in roots:
    for pattern in ("nvidia/cublas/lib", "torch/lib"):
        for d in glob.glob(os.path.join(r, pattern)):
            if glob.glob(os.path.join(d, "libcublas.so.12*")) and d not in found:
                found.append(d)
print(":".join(found))
PY
  for d in /usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib; do
    [ -e "$d/libcublas.so.12" ] && printf ':%s' "$d"
  done
  return 0
}

run() {
  local out=${OUT:-$root/.device/out}
  mkdir -p "$out"
  local started=$SECONDS
  # the packed JRE unless a Java 25+ is already first on PATH (an older java would fail on class-file version 69)
  if ! java -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
    tar -xJf .device/jre.tar.xz -C /tmp
    export PATH=/tmp/jre/bin:$PATH
  fi
  local dirs
  dirs=$(cublas_dirs | sed 's/^://')
  export LD_LIBRARY_PATH=${dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  local flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dattn4j.backend=cuda)
  local launcher cp
  launcher=$(ls .device/lib/junit-platform-console-standalone-*.jar)
  cp=$(ls .device/lib/*.jar | grep -v console-standalone | tr '\n' ':')
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    echo "libcublas.so.12 from: ${dirs:-not found}"
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 || true
  } | tee "$out/device.txt"
  local rc=0
  junit() {  # junit NAME LIMIT_SECONDS SELECTORS...: one console-launcher run, its own log and reports
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s)"
    set +e
    timeout "$limit" java "${flags[@]}" -jar "$launcher" execute --class-path "$cp" "$@" --details=summary \
        --disable-banner --reports-dir "$out/junit-$name" > "$out/$name.log" 2>&1
    local status=$?
    set -e
    tail -n 40 "$out/$name.log"
    [ "$status" = 124 ] && echo "$name: stopped at its ${limit}s limit"
    [ "$status" = 0 ] || rc=1
  }

  junit 1-backend-cuda 120 --scan-class-path .device/lib/backend-cuda-tests.jar --exclude-classname '.*Emulat.*' \
      --exclude-classname '.*Bench'
  junit 2-conformance 150 --select-class dev.attn4j.conformance.BackendConformanceTest \
      --select-class dev.attn4j.conformance.models.ModelParityTest
  # one line per backend: counts per outcome
  grep -h '^conformance ' "$out/2-conformance.log" | tee "$out/conformance-summary.txt" || true

  echo "== 3. GEMM: attn4j linear port (cuBLAS) vs PyTorch matmul/linear"
  set +e
  timeout 60 java "${flags[@]}" -cp "$cp" dev.attn4j.backend.cuda.CudaGemmBench 20 > "$out/gemm-attn4j.log" 2>&1
  timeout 60 env PYTHONUNBUFFERED=1 python3 backend-cuda/src/test/python/gemm_bench.py 20 > "$out/gemm-torch.log" 2>&1
  set -e
  cat "$out/gemm-attn4j.log" "$out/gemm-torch.log" | grep -v '^RESULT' || true
  cat "$out/gemm-attn4j.log" "$out/gemm-torch.log" | awk '
    /^RESULT/ { delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
                key = f["op"] " " f["dtype"] " " f["m"] "x" f["n"] "x" f["k"]; t[f["impl"], key] = f["tflops"]
                if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
    END { printf "%-32s %14s %14s %8s\n", "gemm", "attn4j TFLOP/s", "torch TFLOP/s", "ratio"
          for (i = 1; i <= n; i++) { k = order[i]; a = t["attn4j-cuda", k]; p = t["torch", k]
            printf "%-32s %14s %14s %8s\n", k, a, p, (a > 0 && p > 0 ? sprintf("%.3f", a / p) : "-") } }' \
      | tee "$out/bench-summary.txt"

  echo "== 4. attention, bf16 B=${bench_shape[0]} H=${bench_shape[1]} S=${bench_shape[2]} D=${bench_shape[3]}"
  set +e
  timeout 90 java "${flags[@]}" -cp "$cp" dev.attn4j.backend.cuda.CudaAttentionBench "${bench_shape[@]}" bf16 10 \
      > "$out/bench-attn4j.log" 2>&1
  timeout 60 env PYTHONUNBUFFERED=1 python3 backend-cuda/src/test/python/sdpa_bench.py "${bench_shape[@]}" 10 \
      > "$out/bench-torch.log" 2>&1
  set -e
  cat "$out/bench-attn4j.log" "$out/bench-torch.log" | grep -v '^RESULT' || true
  # every attn4j implementation against PyTorch, per (pass, causal)
  cat "$out/bench-attn4j.log" "$out/bench-torch.log" | awk '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
                key = f["pass"] " causal=" f["causal"]; t[f["impl"], key] = f["tflops"]; keys[key] = 1
                if (f["impl"] != "torch-sdpa") impls[f["impl"]] = 1 }
    END { printf "%-16s %-16s %12s %14s %8s\n", "impl", "pass", "TFLOP/s", "torch TFLOP/s", "ratio"
          for (m in impls) for (k in keys) if ((m, k) in t)
            printf "%-16s %-16s %12s %14s %8.3f\n", m, k, t[m, k], t["torch-sdpa", k],
                   (t["torch-sdpa", k] > 0 ? t[m, k] / t["torch-sdpa", k] : 0) }' \
      | tee -a "$out/bench-summary.txt"

  local left=$(( 470 - (SECONDS - started) ))
  if [ "$left" -ge 30 ]; then
    junit 5-hostile "$left" --select-class dev.attn4j.conformance.hostile.HostileRequestFuzzTest \
        --select-class dev.attn4j.conformance.hostile.CloseInFlightTest
  else
    echo "== 5. hostile-input tests skipped: ${left}s left of the run's 470s"
  fi
  echo "gpu-check finished in $(( SECONDS - started ))s"
  return "$rc"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 64 ;;
esac
