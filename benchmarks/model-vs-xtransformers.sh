#!/usr/bin/env bash
# attn4j's Orca preset on the cpu backend against x-transformers 1.20.0 on Debian's torch 1.13 (issue 15/16's
# baseline), in one script: forward tokens/s, a full training step's tokens/s (forward, backward, AdamW) and decoding.
#
#   XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops benchmarks/model-vs-xtransformers.sh [rounds]
#   SEQ=8192 XT=0 benchmarks/model-vs-xtransformers.sh 1      (attn4j alone: long context, peak heap)
#
# The machine may be shared, so the two are interleaved: each round runs both, in alternating order, and the summary
# gives per figure the median of each side and the median of the rounds' ratios (attn4j / x-transformers), with the
# load averages seen. Both use 2 threads (THREADS). x-transformers 1.20.0 has no KV cache (it arrived in 1.21.0), so
# its "generate" recomputes the whole prefix per token; attn4j's decode figure is cached decoding. The ratio of those
# two is what a user of each gets, not a like-for-like kernel comparison, and is labelled so.
# PyTorch 1.13's GEMMs are Debian's OpenBLAS 0.3.21, which does not recognise this CPU's AVX-512 by itself and may
# inherit OPENBLAS_CORETYPE=Haswell from the environment (half the rate): the script sets SkylakeX, the faster
# baseline (XT_OPENBLAS_CORETYPE chooses another; x-transformers' output names the one used).
# Needs benchmarks/target/benchmarks.jar: mvn -B -q -pl benchmarks -am package -DskipTests
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SEQ=${SEQ:-2048}
DECODE=${DECODE:-1024}
THREADS=${THREADS:-2}
XT=${XT:-1}
JAR=${ATTN4J_JAR:-benchmarks/target/benchmarks.jar}
[[ -f $JAR ]] || { echo "missing $JAR; build it with: mvn -B -q -pl benchmarks -am package -DskipTests" >&2; exit 1; }
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
if [[ $XT == 1 ]]; then
  [[ -n ${XT_PATH:-} && -n ${EINOPS_PATH:-} ]] || { echo "set XT_PATH and EINOPS_PATH (checkouts of x-transformers 1.20.0, einops 0.6.1)" >&2; exit 1; }
fi
OUT=$(mktemp -d /tmp/attn4j-model-bench.XXXX)
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cpus, seq $SEQ, decode context $DECODE, $THREADS threads, $ROUNDS rounds; raw output in $OUT"

attn4j() {
  LD_PRELOAD=$(dirname "$(dirname "$JAVA")")/lib/libjsig.so "$JAVA" -XX:ActiveProcessorCount="$THREADS" -Xmx${HEAP:-8g} --add-modules jdk.incubator.vector -cp "$JAR" \
    dev.attn4j.benchmarks.ModelThroughput --model orca --seq "$SEQ" --repeats 3 --decode "$DECODE" 2>/dev/null
}
xtransformers() {
  XT_PATH=$XT_PATH EINOPS_PATH=$EINOPS_PATH OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS PATH=$(getconf PATH) \
    OPENBLAS_CORETYPE=${XT_OPENBLAS_CORETYPE:-SkylakeX} \
    python3 -B benchmarks/src/main/python/xtransformers_baseline.py --seq "$SEQ" --threads "$THREADS" --runs 3 \
    --train-runs 2 --decode-context "$DECODE" --decode-tokens 4 --decode-runs 1 2>/dev/null
}
for ((r = 1; r <= ROUNDS; r++)); do
  if [[ $XT == 1 && $((r % 2)) == 1 ]]; then xtransformers > "$OUT/xt.$r"; fi
  attn4j > "$OUT/attn4j.$r"
  if [[ $XT == 1 && $((r % 2)) == 0 ]]; then xtransformers > "$OUT/xt.$r"; fi
  echo "# round $r done, load $(cut -d' ' -f1-3 /proc/loadavg)"
done

PATH=$(getconf PATH) python3 - "$OUT" "$ROUNDS" "$DECODE" <<'PY'
import glob, os, statistics, sys
out, rounds, ctx = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def figures(path):
    got = {}
    if not os.path.exists(path):
        return got
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            try:
                got[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return got
pairs = [("forward tokens/s", "forward_tokens_per_s", "xtransformers_orca_forward_tokens_per_s"),
         ("training step tokens/s", "train_step_tokens_per_s", "xtransformers_orca_train_step_tokens_per_s"),
         (f"decode tokens/s, context {ctx} (attn4j cached; x-transformers recomputes)",
          f"decode_tokens_per_s_ctx{ctx}", f"xtransformers_orca_generate_no_kv_cache_ctx{ctx}_tokens_per_s"),
         (f"time to first token, context {ctx} (ms)", f"time_to_first_token_ctx{ctx}", None),
         ("forward peak heap (MiB)", "forward_peak_heap", None),
         ("training step peak heap (MiB)", "train_step_peak_heap", None)]
a = [figures(f"{out}/attn4j.{r}") for r in range(1, rounds + 1)]
x = [figures(f"{out}/xt.{r}") for r in range(1, rounds + 1)]
print("| figure | x-transformers 1.20.0 | attn4j cpu | attn4j / x-transformers (median of rounds) |")
print("|---|---|---|---|")
for label, ak, xk in pairs:
    av = [f[ak] for f in a if ak in f]
    xv = [f[xk] for f in x if xk and xk in f]
    ratios = [fa[ak] / fx[xk] for fa, fx in zip(a, x) if xk and ak in fa and xk in fx]
    med = lambda v: f"{statistics.median(v):.4g}" if v else "—"
    print(f"| {label} | {med(xv)} | {med(av)} | {(f'{statistics.median(ratios):.2f}×' if ratios else '—')} |")
PY
