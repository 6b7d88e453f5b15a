#!/usr/bin/env bash
# GPU check of the cuda backend on a lent machine that has a GPU and PyTorch but no Java.
#
#   tools/gpu-check.sh pack   here (JDK 25, Maven, no GPU needed): builds backend-cuda and conformance-tests,
#                             collects their jars, test classes and the JUnit console launcher into .device/lib,
#                             and a jlinked JRE into .device/jre.tar.xz (via shared/tools/device-jdk.sh).
#   tools/gpu-check.sh run    there, from the repository root, with .device carried along:
#                             1. backend-cuda's tests (the GPU ones run now) and the conformance suite, with
#                                attn4j.backend=cuda;
#                             2. the attention benchmark, bf16 B=4 H=16 S=4096 D=128, causal and not, forward and
#                                backward, on attn4j's cuda backend and on PyTorch's scaled_dot_product_attention
#                                in the same run, with the ratio attn4j / PyTorch.
#                             Logs and JUnit XML go to $OUT (or .device/out).
#
# Device tool call (one command):  carry [".device"], command "tools/gpu-check.sh run", timeout_s 600.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_shape=(4 16 4096 128)

pack() {
  export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  local lib
  lib=$(mktemp -d)
  # One reactor run: jars for every module, then each module's runtime and test dependencies copied beside them
  # (JUnit itself comes from the console launcher, so its jars are left out).
  mvn -B -q -pl backend-cuda,conformance-tests -am package -DskipTests \
      dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$lib" \
      -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian
  for m in ports backend-cuda conformance-tests; do
    cp "$m"/target/attn4j-*.jar "$lib"/ 2>/dev/null || true
    [ -d "$m/target/test-classes" ] && jar cf "$lib/$m-tests.jar" -C "$m/target/test-classes" .
  done
  # The driver API needs only libJCudaDriver: drop the runtime/NVRTC/PTX-compiler natives (about 25 MB).
  for j in "$lib"/jcuda-natives-*.jar; do
    zip -q -d "$j" 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' 'lib/libJCudaRuntime*' || true
  done
  local junit
  junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
  mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit" -DoutputDirectory="$lib"
  rm -rf .device/lib
  local shared=${ATTN4J_SHARED:-$root/../shared}
  [ -x "$shared/tools/device-jdk.sh" ] || shared=/work/shared
  # device-jdk.sh writes .git/info/exclude: run pack in a plain checkout (not a git worktree).
  "$shared/tools/device-jdk.sh" "$lib"
  rm -rf "$lib"
  du -sh .device
}

run() {
  local out=${OUT:-$root/.device/out}
  mkdir -p "$out"
  if ! command -v java >/dev/null 2>&1; then
    tar -xJf .device/jre.tar.xz -C /tmp
    export PATH=/tmp/jre/bin:$PATH
  fi
  local flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dattn4j.backend=cuda)
  local launcher cp tests
  launcher=$(ls .device/lib/junit-platform-console-standalone-*.jar)
  cp=$(ls .device/lib/*.jar | grep -v console-standalone | tr '\n' ':')
  tests=$(ls .device/lib/*-tests.jar | tr '\n' ':')
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt" || true

  echo "== 1. tests: backend-cuda (GPU tests included) and the conformance suite, attn4j.backend=cuda"
  set +e
  java "${flags[@]}" -jar "$launcher" execute --class-path "$cp" --scan-class-path "${tests%:}" \
      --details=tree --disable-banner --reports-dir "$out/junit" 2>&1 | tee "$out/tests.log" | tail -n 60
  local tests_rc=${PIPESTATUS[0]}
  set -e

  echo "== 2. attention benchmark, bf16 B=${bench_shape[0]} H=${bench_shape[1]} S=${bench_shape[2]} D=${bench_shape[3]}"
  java "${flags[@]}" -cp "$cp" dev.attn4j.backend.cuda.CudaAttentionBench "${bench_shape[@]}" bf16 10 2>&1 \
      | tee "$out/bench-attn4j.log" || echo "attn4j benchmark failed (see above)"
  PYTHONUNBUFFERED=1 python3 backend-cuda/src/test/python/sdpa_bench.py "${bench_shape[@]}" 10 2>&1 \
      | tee "$out/bench-torch.log" || echo "PyTorch benchmark failed (see above)"
  # every attn4j implementation against PyTorch, per (pass, causal)
  cat "$out/bench-attn4j.log" "$out/bench-torch.log" | awk '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
                key = f["pass"] " causal=" f["causal"]; t[f["impl"], key] = f["tflops"]; keys[key] = 1
                if (f["impl"] != "torch-sdpa") impls[f["impl"]] = 1 }
    END { printf "%-16s %-16s %12s %14s %8s\n", "impl", "pass", "TFLOP/s", "torch TFLOP/s", "ratio"
          for (m in impls) for (k in keys) if ((m, k) in t)
            printf "%-16s %-16s %12s %14s %8.3f\n", m, k, t[m, k], t["torch-sdpa", k],
                   (t["torch-sdpa", k] > 0 ? t[m, k] / t["torch-sdpa", k] : 0) }' \
      | tee "$out/bench-summary.txt"
  return "$tests_rc"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 64 ;;
esac
