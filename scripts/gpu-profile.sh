#!/usr/bin/env bash
# On a GPU box (through .gpu/run.sh): serves the r1-distill-1.5b geometry with a Java Flight Recording and drives a
# longer fixed-concurrency run than gpu-bench.sh (steadier GPU utilization), then prints the hottest methods of
# the engine thread and of the step thread (the one the GPU waits for between steps).
# Usage: bash .gpu/run.sh scripts/gpu-profile.sh OUT_DIR [CONCURRENCY] [NUM_PROMPTS]
set -uo pipefail
out=$1; c=${2:-256}; n=${3:-1024}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
model=${MODEL_DIR:-/tmp/check-r1}
r1_model "$model" > /dev/null
"$java" -XX:StartFlightRecording=filename="$out/serve.jfr",settings=profile -cp "$cp" barista.server.Main serve \
  --model "$model" --device cuda --port 8765 --max-model-len 4096 --max-num-seqs 256 --max-num-batched-tokens 8192 \
  --disable-log-requests > "$out/serve.log" 2>&1 &
pid=$!
until curl -sf localhost:8765/health > /dev/null; do kill -0 $pid 2>/dev/null || { tail "$out/serve.log"; exit 1; }; sleep 0.3; done
"$java" -cp "$cp" barista.server.Main bench --base-url http://127.0.0.1:8765 --num-prompts "$n" --concurrency "$c" \
  --input-len 128 --output-len 128 --ignore-eos > "$out/bench.txt" 2>&1
grep -iE "throughput|median (ttft|tpot)|gpu util|duration" "$out/bench.txt"
kill -TERM $pid; wait $pid
"${JAVA_HOME:-/tmp/gpu-jre}/bin/jfr" print --events jdk.ExecutionSample,jdk.NativeMethodSample "$out/serve.jfr" > "$out/samples.txt" 2>/dev/null
python3 - "$out/samples.txt" <<'PY'
import collections, re, sys
text = open(sys.argv[1]).read()
# the engine thread (scheduling, output processing) and the step thread (inputs, launches, sampling, read-back):
# with asynchronous scheduling the GPU waits for the second between steps
for thread in ("barista-engine", "barista-step"):
    top, frames = collections.Counter(), collections.Counter()
    for ev in re.split(r"jdk\.(?=ExecutionSample|NativeMethodSample)", text)[1:]:
        if f'sampledThread = "{thread}"' not in ev:
            continue
        kind = "native" if ev.startswith("NativeMethodSample") else "java"
        stack = re.findall(r"^\s+([\w.$<>]+)\(", ev, re.M)
        if stack:
            top[kind + " " + stack[0]] += 1
            for f in set(stack[:25]):
                frames[f] += 1
    total = sum(top.values())
    print(f"{thread} samples: {total}")
    for name, k in top.most_common(15): print(f"  self {k:5d} {name}")
    for name, k in frames.most_common(30): print(f"  incl {k:5d} {name}")
PY
