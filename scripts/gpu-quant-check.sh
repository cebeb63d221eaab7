#!/usr/bin/env bash
# On a GPU box (through .gpu/run.sh, after scripts/build-native.sh): the quantized paths with libbarista_native.
# INT8 (quantized at load) must capture and replay CUDA graphs with greedy tokens equal to --enforce-eager; AWQ
# must run the fused kernels eagerly (its dequantize is not capture-safe) and say so.
# Usage: bash .gpu/run.sh scripts/gpu-quant-check.sh OUT_DIR [MODEL_DIR]
set -uo pipefail
out=$1; model=${2:-/tmp/check-r1}
mkdir -p "$out"
java=${JAVA:-java}
cp=${BARISTA_GPU_CLASSPATH:?run through .gpu/run.sh}
g=$(cd "$(dirname "$0")/.." && pwd)/.gpu
if [ -z "${BARISTA_QWEN_TOKENIZER_JSON:-}" ] && [ -f "$g/qwen-tokenizer.json.gz" ]; then
  gunzip -c "$g/qwen-tokenizer.json.gz" > /tmp/qwen-tokenizer.json && export BARISTA_QWEN_TOKENIZER_JSON=/tmp/qwen-tokenizer.json
fi
[ -f "$model/config.json" ] || "$java" -cp "$cp" barista.server.Main make-model --preset r1-distill-1.5b --out "$model" > /dev/null
fails=0
args=(); for i in $(seq 16); do args+=(--prompt "Prompt $i: tell me a story"); done
for mode in graphs eager; do
  extra=(); [ $mode = eager ] && extra=(--enforce-eager)
  "$java" -cp "$cp" barista.server.Main generate --model "$model" --device cuda --quantization int8 "${args[@]}" \
    --max-tokens 64 --temperature 0 --ignore-eos "${extra[@]}" > "$out/int8-$mode.jsonl" 2> "$out/int8-$mode.log"
  grep -E "tokens/s|Captured|CUDA graphs" "$out/int8-$mode.log" | sed "s/^/  int8 $mode: /"
done
if cmp -s <(grep -o '"token_ids":\[[^]]*\]' "$out/int8-graphs.jsonl") <(grep -o '"token_ids":\[[^]]*\]' "$out/int8-eager.jsonl") \
    && [ "$(grep -c token_ids "$out/int8-graphs.jsonl")" = 16 ]; then echo "PASS int8 greedy graphs == eager"
else echo "FAIL int8 greedy graphs == eager"; fails=$((fails + 1)); fi
"$java" -cp "$cp" barista.server.Main make-model --preset tiny --out /tmp/quant-tiny > /dev/null 2>&1
"$java" -cp "$cp" barista.server.Main quantize --model /tmp/quant-tiny --out /tmp/quant-tiny-awq --method awq > /dev/null 2>&1
"$java" -cp "$cp" barista.server.Main generate --model /tmp/quant-tiny-awq --device cuda --prompt hi --max-tokens 16 \
  --temperature 0 --ignore-eos > "$out/awq.jsonl" 2> "$out/awq.log"
if grep -q token_ids "$out/awq.jsonl" && grep -q "CUDA graphs are off" "$out/awq.log"; then echo "PASS awq runs eagerly with the kernels"
else echo "FAIL awq"; tail -5 "$out/awq.log"; fails=$((fails + 1)); fi
echo "$((2 - fails)) passed, $fails failed"
