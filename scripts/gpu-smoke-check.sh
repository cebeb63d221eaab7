#!/usr/bin/env bash
# The least device time that still checks a change to the forward path (about three minutes, through .gpu/run.sh):
# builds libbarista_native while the r1 checkpoint and its AWQ quantization are made; greedy tokens of 32 prompts x
# 128 with CUDA graphs == --enforce-eager and async == sync (fp16), AWQ graphs == eager with every step of 16 rows or
# more taking the dequantize + cuBLAS path (BARISTA_QUANT_DEQUANT_ROWS=16); then the 32-user preset twice.
# Usage: bash .gpu/run.sh scripts/gpu-smoke-check.sh      (results under $OUT, or OUT_DIR as $1)
#   SHORT=1: graphs == eager only (fp16 and AWQ), no async run, no preset: about two minutes
set -uo pipefail
o=${1:-${OUT:-/tmp/gpu-smoke-check}}
mkdir -p "$o"
source scripts/gpu-lib.sh; m=/tmp/check-r1; t0=$(date +%s)
scripts/build-native.sh native/build > $o/build.log 2>&1 & b=$!
{ "$java" -cp "$cp" barista.server.Main make-model --preset r1-distill-1.5b --out $m && "$java" -cp "$cp" barista.server.Main quantize --model $m --out $m-awq --method awq; } > $o/models.log 2>&1
wait $b; echo "build rc=$? $(( $(date +%s) - t0 )) s"
args=(); for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
gen() { name=$1; dir=$2; shift 2; "$java" -cp "$cp" barista.server.Main generate --model $dir --device cuda "${args[@]}" --max-tokens 128 --temperature 0 --ignore-eos "$@" > $o/$name.jsonl 2> $o/$name.log; grep -E "tokens/s|Linears" $o/$name.log | cut -c1-220 | sed "s/^/$name: /"; }
gen fp16-graphs $m --no-async-scheduling; gen fp16-eager $m --no-async-scheduling --enforce-eager
[ -z "${SHORT:-}" ] && gen fp16-async $m
ids() { grep -o '"token_ids":\[[^]]*\]' $o/$1.jsonl; }
cmp -s <(ids fp16-graphs) <(ids fp16-eager) && [ "$(ids fp16-graphs | wc -l)" = 32 ] && echo "PASS fp16 graphs == eager" || echo "FAIL fp16 graphs == eager"
[ -z "${SHORT:-}" ] && { cmp -s <(ids fp16-graphs) <(ids fp16-async) && echo "PASS fp16 async == sync" || echo "FAIL fp16 async == sync"; }
export BARISTA_QUANT_DEQUANT_ROWS=16
gen awq-dq-graphs $m-awq; gen awq-dq-eager $m-awq --enforce-eager
cmp -s <(ids awq-dq-graphs) <(ids awq-dq-eager) && [ "$(ids awq-dq-graphs | wc -l)" = 32 ] && echo "PASS awq dequant(16 rows) graphs == eager" || echo "FAIL awq dequant graphs == eager"
unset BARISTA_QUANT_DEQUANT_ROWS
echo "checks done $(( $(date +%s) - t0 )) s"; rm -f $o/*.jsonl
[ -n "${SHORT:-}" ] && exit 0
MODEL_DIR=$m PRESET_ROUNDS=2 timeout 60 bash scripts/gpu-bench.sh $o/b preset > $o/preset.txt 2>&1; grep round $o/preset.txt; grep -hE "Median TPOT|Mean GPU util" $o/b/preset-*.txt; echo "all done $(( $(date +%s) - t0 )) s"
