#!/usr/bin/env bash
# attn4j's cpu attention against PyTorch 2.7.1's fused CPU attention (the DJL anchor of ../shared/anchors/pytorch-cpu),
# shape by shape, in one script.
#
#   benchmarks/attention-vs-pytorch.sh [rounds]            (default 3 rounds, every case)
#   CASES="main decode" benchmarks/attention-vs-pytorch.sh 2
#   THREADS=1 benchmarks/attention-vs-pytorch.sh 1       (both on one thread: per-core speed, robust to neighbours)
#
# The anchor measures what a Java developer gets from DJL 0.36 + PyTorch 2.7.1: torch.scaled_dot_product_attention
# (its flash-attention CPU kernel), forward and autograd backward, fp32, [B, H, S, D]. The script copies it to
# ANCHOR_DIR (default /tmp/attn4j-pytorch-anchor), applies benchmarks/pytorch-anchor.patch (batch, KV heads, head
# dim and query length options; for grouped-query shapes PyTorch runs both ways a user can call it: enable_gqa=True,
# which 2.7.1 runs on its math path on CPU, and K/V repeated to every head first, which runs the fused kernel; the
# faster of the two is the anchor), regenerates its TorchScript modules with Debian's torch and builds it (Maven
# Central, once). attn4j runs dev.attn4j.benchmarks.AttentionAnchorRun: same shapes, [B, H, S, D] layout, timing
# and output. Decode cases (Sq = 1 against Sk keys) compare attn4j's bottom-right causal with PyTorch's
# is_causal=False, the same attention for one query row (PyTorch's is_causal is top-left aligned).
#
# The machine is shared, so the two are interleaved: every round runs each case with both, in alternating order,
# and the report gives per item the median time of each and the median of the rounds' ratios (PyTorch time /
# attn4j time: above 1, attn4j is faster), with the load average seen. While another JMH run holds /tmp/jmh.lock
# (the lock JMH takes, as benchmarks/gemm-vs-openblas.sh waits for it) the script waits for it.
# With the main case each round also times OpenBLAS sgemm 2048³ (../shared/anchors/sgemm.sh's ceiling, Debian's numpy)
# and the report gives attn4j's full forward as a fraction of it and of the anchor's MKL sgemm.
# Needs benchmarks/target/benchmarks.jar (or ATTN4J_JAR): mvn -B -q -pl benchmarks -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${ATTN4J_JAR:-benchmarks/target/benchmarks.jar}
[[ -f $JAR ]] || { echo "missing $JAR; build it with: mvn -B -q -pl benchmarks -am package -DskipTests" >&2; exit 1; }
JAVA=
for home in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25*; do
  if [[ -n $home && -x $home/bin/java ]] && grep -q '^JAVA_VERSION="25' "$home/release" 2>/dev/null; then
    JAVA=$home/bin/java
    break
  fi
done
[[ -n $JAVA ]] || { echo "needs JDK 25: set JAVA_HOME to one" >&2; exit 1; }
SRC=${ANCHOR_SRC:-../shared/anchors/pytorch-cpu}
DIR=${ANCHOR_DIR:-/tmp/attn4j-pytorch-anchor}
if [[ ! -f $DIR/.patched ]]; then
  [[ -d $SRC ]] || { echo "no anchor at $SRC (set ANCHOR_SRC)" >&2; exit 1; }
  rm -rf "$DIR" && cp -r "$SRC" "$DIR" && chmod -R u+w "$DIR"
  patch -s -d "$DIR" -p1 < benchmarks/pytorch-anchor.patch
  (cd "$DIR" && PATH=$(getconf PATH) python3 tools/gen_torchscript.py models >/dev/null)
  # The DJL and libtorch jars come from Maven Central the first time (run.sh itself builds offline).
  (cd "$DIR" && JAVA_HOME=$(dirname "$(dirname "$JAVA")") mvn -q -B package -DskipTests >/dev/null)
  touch "$DIR/.patched"
fi
export AVP_ROUNDS=${1:-3} AVP_CASES=${CASES:-} AVP_THREADS=${THREADS:-} AVP_JAVA=$JAVA AVP_JAR=$JAR AVP_DIR=$DIR
PATH=$(getconf PATH) exec python3 - <<'PY'
import fcntl, os, statistics, subprocess, sys, time

ROUNDS = int(os.environ["AVP_ROUNDS"])
THREADS = os.environ.get("AVP_THREADS", "")
JAVA, JAR, DIR = os.environ["AVP_JAVA"], os.environ["AVP_JAR"], os.environ["AVP_DIR"]
ALL4 = ["fwd_full", "fwd_causal", "bwd_full", "bwd_causal"]
# name: (shape arguments, attn4j items, runs, warm-ups). Decode: attn4j fwd_causal (bottom-right) = PyTorch fwd_full.
CASES = {
    "main":   ("--heads 8 --seq 2048 --dim 64", ALL4, 10, 3),
    "d128":   ("--heads 8 --seq 2048 --dim 128", ALL4, 10, 3),
    "s512":   ("--heads 8 --seq 512 --dim 64", ALL4, 20, 5),
    "s8192":  ("--heads 8 --seq 8192 --dim 64", ALL4, 3, 1),
    "gqa":    ("--heads 16 --kvheads 2 --seq 2048 --dim 64", ALL4, 10, 3),
    "mqa":    ("--heads 8 --kvheads 1 --seq 2048 --dim 64", ALL4, 10, 3),
    "s77":    ("--batch 4 --heads 8 --seq 77 --dim 64", ALL4, 50, 10),
    "d40":    ("--batch 4 --heads 8 --seq 100 --dim 40", ALL4, 50, 10),
    "d72":    ("--heads 8 --seq 1000 --dim 72", ALL4, 20, 5),
}
for batch in (1, 8):
    for kv, kind in ((4, "gqa"), (1, "mqa")):
        for sk in (128, 1024, 8192):
            CASES[f"decode_b{batch}_{kind}_{sk}"] = (
                f"--batch {batch} --heads 32 --kvheads {kv} --dim 128 --seq {sk} --seqq 1", ["fwd_causal"], 50, 10)
wanted = os.environ.get("AVP_CASES", "").split()
if wanted:
    CASES = {k: v for k, v in CASES.items() if any(k == w or k.startswith(w + "_") for w in wanted)}


def lines(out):
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and not line.startswith("#"):
            got[f[0]] = float(f[1])
    return got


def locked(cmd, env=None, attempts=3):
    for attempt in range(1, attempts + 1):
        # Wait while a JMH run holds its machine-wide lock (an fcntl lock, as Java's FileChannel takes it).
        with open("/tmp/jmh.lock", "a") as lock:
            fcntl.lockf(lock, fcntl.LOCK_EX)
            try:
                run = subprocess.run(cmd, capture_output=True, text=True, env=env)
            finally:
                fcntl.lockf(lock, fcntl.LOCK_UN)
        if run.returncode == 0:
            return lines(run.stdout)
        # Reported, then run again: once in about 200 runs a JVM died with signal 11 and left no error file (the
        # opencl GEMM's oversized POCL work-groups, fixed since: docs/robustness.md).
        print(f"{cmd[0]} failed ({run.returncode}, attempt {attempt}/{attempts}):\n{run.stdout[-1500:]}\n"
              f"{run.stderr[-1500:]}", file=sys.stderr, flush=True)
    raise SystemExit(f"{cmd[0]} failed {attempts} times")


def pytorch(shape, items, runs, warmup):
    decode = "--seqq 1" in shape
    names = []
    for it in items:
        it = "fwd_full" if decode else it
        names += ["sdpa_" + it] + (["sdparep_" + it] if "--kvheads" in shape else [])
    if shape.startswith("--heads 8 --seq 2048 --dim 64"):
        names.append("sgemm_2048")
    env = dict(os.environ, THREADS=THREADS) if THREADS else None
    got = locked([DIR + "/run.sh", *shape.split(), "--only", ",".join(names), "--runs", str(runs),
                  "--warmup", str(warmup), "--no-profile"], env)
    best = {}
    for it in items:
        key = "fwd_full" if decode else it
        best[it] = min(v for k, v in got.items() if k.endswith("_" + key) and k.startswith("sdpa"))
    if "sgemm_2048" in got:
        best["sgemm_2048"] = got["sgemm_2048"]
    return best


OPENBLAS = r"""
import numpy as np, time
a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)
a @ b
t = []
for _ in range(7):
    t0 = time.perf_counter(); a @ b; t.append(time.perf_counter() - t0)
print(sorted(t)[3] * 1e3)
"""


def openblas():
    # ../shared/anchors/sgemm.sh's measurement (the CPU's GEMM ceiling), timed as a median of 7 like the others.
    env = dict(os.environ, OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", "SkylakeX"))
    if THREADS:
        env["OPENBLAS_NUM_THREADS"] = THREADS
    with open("/tmp/jmh.lock", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        try:
            out = subprocess.run([sys.executable, "-c", OPENBLAS], capture_output=True, text=True, env=env, check=True)
        finally:
            fcntl.lockf(lock, fcntl.LOCK_UN)
    return 2.0 * 2048 ** 3 / (float(out.stdout) / 1e3) / 1e9


def attn4j(shape, items, runs, warmup):
    # The cpu backend runs one worker per available processor.
    threads = [f"-XX:ActiveProcessorCount={THREADS}"] if THREADS else []
    # The JDK's signal chaining: POCL (probed by Backends.open) replaces the JVM's SIGSEGV handler otherwise, and a
    # fault the JVM must handle itself (a safepoint poll) would end the process (docs/robustness.md).
    env = dict(os.environ, LD_PRELOAD=os.path.join(os.path.dirname(os.path.dirname(JAVA)), "lib", "libjsig.so"))
    return locked([JAVA, *threads, "-XX:ErrorFile=/tmp/attn4j-hs_err_%p.log", "--add-modules", "jdk.incubator.vector",
                   "-cp", JAR, "dev.attn4j.benchmarks.AttentionAnchorRun",
                   *shape.split(), "--only", ",".join(items), "--runs", str(runs), "--warmup", str(warmup)], env=env)


def flops(shape, item):
    a = dict(zip(shape.split()[::2], map(int, shape.split()[1::2])))
    b, h, s, d = a.get("--batch", 1), a["--heads"], a["--seq"], a["--dim"]
    sq = a.get("--seqq", s)
    f = 4.0 * b * h * sq * s * d
    if item.endswith("causal") and sq == s:
        f /= 2
    return f * (2.5 if item.startswith("bwd") else 1)


res = {}
loads = []
for r in range(ROUNDS):
    for name, (shape, items, runs, warmup) in CASES.items():
        loads.append(os.getloadavg()[0])
        order = [("pytorch", pytorch), ("attn4j", attn4j)]
        if r % 2:
            order.reverse()
        got = {who: fn(shape, items, runs, warmup) for who, fn in order}
        blas = openblas() if name == "main" else None
        for it in items:
            rec = res.setdefault((name, it), {"pytorch": [], "attn4j": [], "ratio": [], "sgemm": [], "blas": [],
                                              "shape": shape})
            rec["pytorch"].append(got["pytorch"][it])
            rec["attn4j"].append(got["attn4j"][it])
            rec["ratio"].append(got["pytorch"][it] / got["attn4j"][it])
            if "sgemm_2048" in got["pytorch"]:
                rec["sgemm"].append(2.0 * 2048 ** 3 / (got["pytorch"]["sgemm_2048"] / 1e3) / 1e9)
            if blas:
                rec["blas"].append(blas)
            print(f"round {r + 1}/{ROUNDS} {name:>22} {it:>10}: PyTorch {got['pytorch'][it]:9.3f} ms  attn4j "
                  f"{got['attn4j'][it]:9.3f} ms  speed-up {rec['ratio'][-1]:.2f}  (load {loads[-1]:.1f})", flush=True)

med = statistics.median
print(f"\nattention fp32, {THREADS or os.cpu_count()} threads each, {ROUNDS} interleaved rounds, medians; 1-min load average seen "
      f"{min(loads):.1f}..{max(loads):.1f} (median {med(loads):.1f})")
print("| case | shape | item | PyTorch 2.7.1 ms | attn4j ms | attn4j GFLOP/s | speed-up, median (min..max) |")
print("|---|---|---|---|---|---|---|")
for (name, it), rec in res.items():
    g = flops(rec["shape"], it) / (med(rec["attn4j"]) / 1e3) / 1e9
    extra = ""
    if rec["sgemm"] and it == "fwd_full":
        extra = (f" ({g / med(rec['blas']):.2f}x OpenBLAS sgemm's {med(rec['blas']):.0f}, "
                 f"{g / med(rec['sgemm']):.2f}x PyTorch's MKL sgemm's {med(rec['sgemm']):.0f})")
    print(f"| {name} | `{rec['shape']}` | {it} | {med(rec['pytorch']):.3f} | {med(rec['attn4j']):.3f} | {g:.1f}{extra} | "
          f"**{med(rec['ratio']):.2f}** ({min(rec['ratio']):.2f}..{max(rec['ratio']):.2f}) |")
PY
