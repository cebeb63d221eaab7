#!/usr/bin/env bash
# On a GPU box (through .gpu/run.sh, after scripts/build-native.sh): the quantized paths with libbarista_native.
# AWQ (a checkpoint made by our quantizer) and INT8 (quantized at load) run libbarista_native's quantized kernels,
# capture CUDA graphs, and give greedy tokens equal to --enforce-eager (32 prompts x 128 tokens, r1 geometry);
# the startup log names the kernels serving the linears.
# Usage: bash .gpu/run.sh scripts/gpu-quant-check.sh OUT_DIR [MODEL_DIR]
set -uo pipefail
out=$1; model=${2:-/tmp/check-r1}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
r1_model "$model" > /dev/null
fails=0
awq_model "$model" > "$out/quantize-awq.log" 2>&1
args=(); for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
for method in awq int8; do
  m=$model; q=(--quantization int8); [ $method = awq ] && { m=$model-awq; q=(); }
  for mode in graphs eager; do
    extra=(); [ $mode = eager ] && extra=(--enforce-eager)
    "$java" -cp "$cp" barista.server.Main generate --model "$m" --device cuda "${q[@]}" "${args[@]}" \
      --max-tokens 128 --temperature 0 --ignore-eos "${extra[@]}" > "$out/$method-$mode.jsonl" 2> "$out/$method-$mode.log"
    grep -E "tokens/s|Captured|CUDA graphs|Linears" "$out/$method-$mode.log" | sed "s/^/  $method $mode: /"
  done
  if cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/$method-graphs.jsonl") <(grep -o '"token_ids":\[[^]]*\]' "$out/$method-eager.jsonl") \
      && [ "$(grep -c token_ids "$out/$method-graphs.jsonl")" = 32 ] && grep -q "Captured" "$out/$method-graphs.log" \
      && grep -q "libbarista_native" "$out/$method-graphs.log"; then echo "PASS $method kernels, greedy graphs == eager"
  else echo "FAIL $method kernels, greedy graphs == eager"; tail -5 "$out/$method-graphs.log"; fails=$((fails + 1)); fi
done
echo "$((2 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
