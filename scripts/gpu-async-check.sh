#!/usr/bin/env bash
# On a GPU box (after scripts/gpu-stage.sh, through .gpu/run.sh): greedy tokens with --async-scheduling against
# --no-async-scheduling, 32 prompts x 128 tokens on the r1-distill-1.5b geometry (made here with make-model), with
# CUDA graphs and libbarista_native (built here if native/build has none). Three comparisons: plain decode; 48-token
# steps (prompt chunks beside decodes, so rows run ahead of their prompt's last chunk); a repetition penalty (the
# token fed on the device must be in the history the sampler penalizes). Then the tiny model, plain.
# Usage: bash .gpu/run.sh scripts/gpu-async-check.sh OUT_DIR        Prints PASS/FAIL lines and a summary.
set -uo pipefail
out=${1:-/tmp/gpu-async-check}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
gpu_header "$out"

lib=${BARISTA_NATIVE_LIBRARY:-$PWD/native/build/libbarista_native.so}
if [ ! -f "$lib" ]; then
  scripts/build-native.sh native/build > "$out/build.log" 2>&1 & build=$!
fi
r1_model /tmp/check-r1 > "$out/make-r1.log" 2>&1
[ -f /tmp/check-tiny/config.json ] || "$java" -cp "$cp" barista.server.Main make-model --preset tiny \
  --out /tmp/check-tiny > /dev/null 2>&1
if [ -n "${build:-}" ]; then wait $build || { echo "FAIL build"; tail -20 "$out/build.log"; exit 1; }; fi

compare() { # model label extra-generate-args...
  local model=$1 label=$2; shift 2
  local args=()
  for i in $(seq 32); do args+=(--prompt "Prompt $i: $(printf 'word%.0s ' $(seq $((i % 7 + 1))))tell me a story"); done
  for mode in async sync; do
    local flag=--async-scheduling; [ $mode = sync ] && flag=--no-async-scheduling
    BARISTA_NATIVE_LIBRARY=$lib "$java" -cp "$cp" barista.server.Main generate --model "$model" --device cuda \
      "${args[@]}" --max-tokens ${TOKENS:-128} --temperature 0 --ignore-eos $flag "$@" \
      > "$out/greedy-$label-$mode.jsonl" 2> "$out/greedy-$label-$mode.log"
    grep -E "tokens/s|Asynchronous scheduling|Captured" "$out/greedy-$label-$mode.log" | sed "s/^/  $label $mode: /"
  done
  python3 "$gpu_root/scripts/compare-greedy.py" "$out/greedy-$label-async.jsonl" "$out/greedy-$label-sync.jsonl" "${TOKENS:-128}"
  result $? "greedy --async-scheduling == --no-async-scheduling, $label"
}

compare /tmp/check-r1 r1
compare /tmp/check-r1 r1-chunked --max-num-batched-tokens 48
compare /tmp/check-r1 r1-penalty --repetition-penalty 1.3
compare /tmp/check-tiny tiny
tar -C "$out" -czf "$out/../gpu-async-check-logs.tgz" . 2>/dev/null
gpu_summary
[ "$failed" = 0 ]
