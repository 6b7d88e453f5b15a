#!/usr/bin/env bash
# attn4j's cpu GEMM through the linear port (JMH LinearBenchmark: backend.linear().matmul, as a model calls it)
# against OpenBLAS sgemm (Debian numpy) on the same shapes, in one script.
#
#   benchmarks/gemm-vs-openblas.sh [rounds]          (default 5 rounds)
#   CASES="2048x2048x2048:NN 4096x2048x512:NT" benchmarks/gemm-vs-openblas.sh 3
#   BENCHMARK=GemmBenchmark benchmarks/gemm-vs-openblas.sh   (the engine-internal CpuGemm, without the port)
#   CPUTIME=1 benchmarks/gemm-vs-openblas.sh 3         (one core each, thread CPU time: see below)
#
# A case is MxNxK:FORM: C is M×N, K the reduction, FORM the transposes of A and B as BLAS names them
# (NT = a linear layer's forward x·Wᵀ, NN = its input gradient dy·W, TN = its weight gradient dyᵀ·x).
# The default cases are 2048³ and the three products of each of the Orca model's layers with 4096 tokens:
# FFN up (512 → 2048), FFN down (2048 → 512) and the LM head (512 → 20000), plus the plain NN form of each.
#
# The machine is shared, so the two are interleaved: every round measures each case with both, in
# alternating order, and the report gives per case the median GFLOP/s of each and the median of the rounds'
# ratios (attn4j / OpenBLAS), with the load average seen. Both use all cores. With CPUTIME=1 both run on one
# thread instead and are timed by that thread's CPU time (least of 5 calls; GemmCpuTimeReport through the
# port for attn4j, time.thread_time() around OpenBLAS with OPENBLAS_NUM_THREADS=1): a descheduled thread
# accrues none, so this per-core ratio holds up on a loaded machine where wall time does not. While another JMH run holds
# /tmp/jmh.lock the script waits for it (up to 15 minutes) instead of measuring alongside it.
# OPENBLAS_CORETYPE=SkylakeX: Debian's OpenBLAS 0.3.21 does not recognise this CPU's AVX-512 otherwise
# (as ../shared/anchors/sgemm.sh). It is set whatever the environment holds (an inherited Haswell halves the
# reference without a word); GEMM_OPENBLAS_CORETYPE chooses another, and the summary names the one used. Needs benchmarks/target/benchmarks.jar:
#   mvn -B -q -pl benchmarks -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=benchmarks/target/benchmarks.jar
if [[ ! -f $JAR ]]; then
  echo "missing $JAR; build it with: mvn -B -q -pl benchmarks -am package -DskipTests" >&2
  exit 1
fi
# JDK 25 as ./attn4j finds it: JAVA_HOME if it is one, else /usr/lib/jvm/temurin-25*. (A java 17 on PATH runs
# JMH, but its fork cannot load the benchmark's classes.)
JAVA=
for home in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25*; do
  if [[ -n $home && -x $home/bin/java ]] && grep -q '^JAVA_VERSION="25' "$home/release" 2>/dev/null; then
    JAVA=$home/bin/java
    break
  fi
done
[[ -n $JAVA ]] || { echo "needs JDK 25: set JAVA_HOME to one" >&2; exit 1; }
DEFAULT_CASES="2048x2048x2048:NN \
4096x2048x512:NT 4096x512x2048:NN 2048x512x4096:TN 4096x2048x512:NN \
4096x512x2048:NT 512x2048x4096:TN \
4096x20000x512:NT 4096x512x20000:NN 20000x512x4096:TN 4096x20000x512:NN"
export GEMM_ROUNDS=${1:-5} GEMM_CASES=${CASES:-$DEFAULT_CASES} GEMM_JAVA=$JAVA GEMM_JAR=$JAR
export GEMM_BENCHMARK=${BENCHMARK:-LinearBenchmark} GEMM_CPUTIME=${CPUTIME:-}
export OPENBLAS_CORETYPE=${GEMM_OPENBLAS_CORETYPE:-SkylakeX}
# Debian's interpreter and numpy (linked to libopenblas0-pthread), whatever python is first on PATH.
PATH=$(getconf PATH) exec python3 - <<'EOF'
import json, os, statistics, subprocess, sys, tempfile, time

ROUNDS = int(os.environ["GEMM_ROUNDS"])
CASES = os.environ["GEMM_CASES"].split()
JAVA, JAR, BENCHMARK = os.environ["GEMM_JAVA"], os.environ["GEMM_JAR"], os.environ["GEMM_BENCHMARK"]
CPUTIME = bool(os.environ["GEMM_CPUTIME"])

# One case in a fresh interpreter, so OpenBLAS's spinning threads never overlap the JVM's run.
OPENBLAS = r"""
import json, sys, time
import numpy as np
m, n, k, form = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(1)
a = rng.standard_normal((k, m) if form[0] == "T" else (m, k), dtype=np.float32)
b = rng.standard_normal((n, k) if form[1] == "T" else (k, n), dtype=np.float32)
opa = a.T if form[0] == "T" else a      # transposed views: numpy hands sgemm the transpose flag, no copy
opb = b.T if form[1] == "T" else b
c = np.empty((m, n), dtype=np.float32)
for _ in range(2):
    np.matmul(opa, opb, out=c)
if len(sys.argv) > 5:   # one thread, least thread CPU time of 5 calls
    times = []
    for _ in range(5):
        t0 = time.thread_time()
        np.matmul(opa, opb, out=c)
        times.append(time.thread_time() - t0)
    print(json.dumps(min(times)))
    sys.exit(0)
times, end = [], time.perf_counter() + 5
while len(times) < 5 or (time.perf_counter() < end and len(times) < 200):
    t0 = time.perf_counter()
    np.matmul(opa, opb, out=c)
    times.append(time.perf_counter() - t0)
print(json.dumps(sorted(times)[len(times) // 2]))
"""


def openblas(m, n, k, form):
    args = [sys.executable, "-c", OPENBLAS, str(m), str(n), str(k), form] + (["cputime"] if CPUTIME else [])
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1") if CPUTIME else None
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return 2.0 * m * n * k / json.loads(out) / 1e9


def attn4j(m, n, k, form, attempts=3, lock_wait_s=900):
    if CPUTIME:
        out = subprocess.run([JAVA, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g", "-cp", JAR,
                              "dev.attn4j.benchmarks.GemmCpuTimeReport", str(m), str(n), str(k), form],
                             check=True, capture_output=True, text=True).stdout
        return float(out.strip().splitlines()[-1])
    failures, waited = 0, 0
    while True:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            run = subprocess.run([JAVA, "-jar", JAR, BENCHMARK, "-p", f"shape={m}x{n}x{k}", "-p", f"form={form}",
                                  "-wi", "3", "-i", "5", "-w", "1", "-r", "1", "-f", "1", "-rf", "json", "-rff", f.name],
                                 capture_output=True, text=True)
            # JMH exits with 0 even when its fork failed; then the result file holds no result.
            results = json.load(open(f.name)) if run.returncode == 0 and os.path.getsize(f.name) else []
            if results:
                ms = results[0]["primaryMetric"]["score"]
                return 2.0 * m * n * k / (ms / 1e3) / 1e9
        out = run.stdout + run.stderr
        if "Unable to acquire the JMH lock" in out and waited < lock_wait_s:
            # Another JMH run holds the machine-wide lock: wait for it rather than measure alongside it.
            time.sleep(15)
            waited += 15
            continue
        failures += 1
        lines = [x for x in out.splitlines() if x.strip() and not x.startswith(("#", "WARNING"))]
        tail = "\n".join(x for x in lines if "rror" in x or "xception" in x or "<" in x)[-2000:] or "\n".join(lines[-8:])
        print(f"JMH run for {m}x{n}x{k}:{form} failed (exit {run.returncode}, {failures}/{attempts}):\n{tail}",
              file=sys.stderr, flush=True)
        if failures == attempts:
            raise SystemExit(f"{BENCHMARK} failed {attempts} times for {m}x{n}x{k}:{form}")


results = {case: {"openblas": [], "attn4j": [], "ratio": []} for case in CASES}
loads = []
for r in range(ROUNDS):
    for case in CASES:
        dims, form = case.split(":")
        m, n, k = (int(x) for x in dims.split("x"))
        loads.append(os.getloadavg()[0])
        order = [("openblas", openblas), ("attn4j", attn4j)]
        if r % 2:
            order.reverse()
        got = {name: fn(m, n, k, form) for name, fn in order}
        rec = results[case]
        rec["openblas"].append(got["openblas"])
        rec["attn4j"].append(got["attn4j"])
        rec["ratio"].append(got["attn4j"] / got["openblas"])
        print(f"round {r + 1}/{ROUNDS} {case:>18}: OpenBLAS {got['openblas']:6.1f}  attn4j {got['attn4j']:6.1f}"
              f"  GFLOP/s  ratio {got['attn4j'] / got['openblas']:.2f}  (load {loads[-1]:.2f})", flush=True)

med = statistics.median
what = "one thread each, least thread CPU time (GemmCpuTimeReport)" if CPUTIME else f"{BENCHMARK}, {os.cpu_count()} cores"
print(f"\nGEMM fp32 ({what}; OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}), {ROUNDS} interleaved rounds; medians; "
      f"1-min load average seen {min(loads):.2f}..{max(loads):.2f} (median {med(loads):.2f})")
print(f"| shape MxNxK | form | OpenBLAS GFLOP/s | attn4j GFLOP/s | attn4j / OpenBLAS (min..max) |")
print(f"|---|---|---|---|---|")
for case in CASES:
    dims, form = case.split(":")
    rec = results[case]
    print(f"| {dims} | {form} | {med(rec['openblas']):.1f} | {med(rec['attn4j']):.1f} | "
          f"**{med(rec['ratio']):.2f}** ({min(rec['ratio']):.2f}..{max(rec['ratio']):.2f}) |")
EOF
