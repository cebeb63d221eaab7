#!/usr/bin/env bash
# Side-by-side on one GPU box: barista (our server on CUDA, driven by `barista bench`) against Hugging Face
# transformers (eager generate, and static cache + torch.compile) on the same synthetic r1-distill-1.5b checkpoint:
# 128 random prompt tokens, 128 output tokens (EOS ignored), greedy, at each concurrency / batch size.
# Usage: scripts/gpu-bench.sh OUT_DIR [ours] [eager] [compiled] [quant] [preset] [structured] [reasoning]
#        [compiled-reasoning] [long] [long32] [async] [quant-dequant] [dense-gemv] [sampling] [fused-kv]
#        (default: ours eager compiled)
#   fused-kv: fp16 with the opt-in fused k/v write (BARISTA_FUSED_KV_WRITE=1), then without, twice
#   sampling: the 32-user preset with the sampling kernel, then with BARISTA_SAMPLING_KERNEL=0 (DJL ops), twice
#   dense-gemv: fp16 at GEMV_LEVELS (default 1 8) with BARISTA_DENSE_GEMV_ROWS=GEMV_ROWS (default 8), then without,
#     twice: the opt-in GEMV for decode steps' linears against cuBLAS
#   reasoning: R1's lengths, 128 in / 2,048 out at concurrency 1, 32 and 256 (REASONING_LEVELS)
#   compiled-reasoning: transformers compiled at the same lengths, batch 1 and 32
#   long: single prompts of 4,096 and 16,384 tokens (--max-model-len 32768): TTFT, and TPOT of 64 output tokens
#   long32: 32 concurrent prompts of 128 tokens, then of 4,096 (one server each, twice), 256 output tokens: the
#     decode TPOT over long contexts beside short ones at concurrency 32
#   async: 128 in / 128 out at concurrency 32 and 256 (ASYNC_LEVELS), 1,024 prompts each (NUM_PROMPTS), on a
#     server with --no-async-scheduling, then one with --async-scheduling, then both again (ROUNDS, default 2);
#     each server first runs the 32-user preset
#   quant-dequant: AWQ and INT8 at DEQUANT_LEVELS (default 64 256) with BARISTA_QUANT_DEQUANT_ROWS=DEQUANT_ROWS
#     (default 128): from that many rows a linear dequantizes its weight for cuBLAS instead of the quantized GEMM
#   preset: the deployment guide's 32-user test (barista bench --preset seed-32-users) against our server, PRESET_ROUNDS
#     times (default 3): the first right after the server became healthy (as after a restart), then again
#   structured: json_schema output (scripts/bench/article-schema.json) at concurrency 32 beside unconstrained
#     output on the same server, alternating runs; then 8 schema outputs checked and the stats log's mask cost
# SERVER_JAVA_OPTS: JVM options for the servers (e.g. -Xlog:gc:file=OUT/gc.log to see pauses).
# Needs: nvidia-smi, python3 with torch + transformers, $JAVA (or java) and the runtime classpath in
# $BARISTA_GPU_CLASSPATH (or server/target/barista.jar), the Qwen2 BPE in $BARISTA_QWEN_TOKENIZER_JSON.
set -euo pipefail
out=$1; shift
parts=${*:-ours eager compiled}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
barista() { "$java" -cp "$cp" barista.server.Main "$@"; }
model=${MODEL_DIR:-/tmp/barista-r1-distill}
device=${DEVICE:-cuda}
levels=${LEVELS:-1 8 32 64 128 256}
[ -f "$model/config.json" ] || barista make-model --preset ${PRESET:-r1-distill-1.5b} --out "$model" 2>&1 | tail -1
gpu_header "$out"

serve_and_bench() { # name model-dir extra-serve-args...
  local name=$1 dir=$2; shift 2
  local port=8765
  # java itself in the background (not a shell function's subshell), so the TERM below reaches the server
  "$java" ${SERVER_JAVA_OPTS:-} -cp "$cp" barista.server.Main serve --model "$dir" --device "$device" --port $port \
    --max-model-len ${MAX_MODEL_LEN:-4096} --max-num-seqs 256 --max-num-batched-tokens ${MAX_BATCHED:-8192} \
    --disable-log-requests "$@" > "$out/serve-$name.log" 2>&1 &
  local pid=$! t0=$(date +%s%N)
  trap "kill -TERM $pid 2>/dev/null || true" EXIT # a failing part must not leave the server holding the GPU
  until curl -sf localhost:$port/health >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "server $name died"; tail -5 "$out/serve-$name.log"; return 1; }
    sleep 0.2
  done
  echo "$name: process start to healthy: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  grep -E "startup complete|weights take|KV cache" "$out/serve-$name.log" || true
  if [ -n "${PRESET_RUN:-}" ]; then # the first round right after start (as after a restart), the later ones after it
    local round
    for round in $(seq ${PRESET_ROUNDS:-3}); do
      curl -s localhost:$port/metrics > "$out/metrics-before.txt"
      barista bench --base-url http://127.0.0.1:$port --preset seed-32-users > "$out/preset-$name-$round.txt" 2>&1 || true
      curl -s localhost:$port/metrics > "$out/metrics-after.txt"
      grep -iE "answers|median ttft" "$out/preset-$name-$round.txt" | sed "s/^/$name preset round $round: /"
      ttft_split "$out/metrics-before.txt" "$out/metrics-after.txt" | sed "s/^/$name preset round $round: /"
    done
  fi
  if [ -n "${STRUCTURED_RUN:-}" ]; then structured_runs $port "$name"; fi
  local in_len=${INPUT_LEN:-128} out_len=${OUTPUT_LEN:-128}
  for c in $levels; do
    local n=$(( c < 8 ? 8 : c * 2 ))
    [ "$c" -ge 128 ] && n=$c
    [ -n "${NUM_PROMPTS:-}" ] && n=$(( NUM_PROMPTS > c ? NUM_PROMPTS : c ))
    barista bench --base-url http://127.0.0.1:$port --num-prompts $n --concurrency $c --input-len $in_len \
      --output-len $out_len --ignore-eos --json "$out/bench-$name-c$c.json" > "$out/bench-$name-c$c.txt" 2>&1 \
      || echo "bench $name c=$c failed"
    grep -iE "output token throughput|successful|median ttft|median tpot|gpu util" "$out/bench-$name-c$c.txt" \
      | sed "s/^/$name c=$c: /"
  done
  for len in ${LONG_PROMPTS:-}; do # one prompt at a time: the prompt's TTFT, then the decode over its context
    barista bench --base-url http://127.0.0.1:$port --num-prompts 4 --concurrency 1 --input-len "$len" \
      --output-len 64 --ignore-eos --json "$out/bench-$name-prompt$len.json" > "$out/bench-$name-prompt$len.txt" 2>&1 \
      || echo "bench $name prompt $len failed"
    grep -iE "successful|median ttft|median tpot" "$out/bench-$name-prompt$len.txt" | sed "s/^/$name prompt $len: /"
  done
  kill -TERM $pid; wait $pid || true # the server drains and exits; the port is free for the next one
  trap - EXIT
}

ttft_split() { # before.txt after.txt: where the round's server-side TTFT went, from /metrics (the round's deltas)
  python3 - "$1" "$2" <<'PY'
import re, sys
def read(path):
    v = {}
    for line in open(path):
        m = re.match(r"(vllm:\w+?)(?:\{[^}]*\})? ([0-9.eE+-]+)$", line.strip())
        if m: v[m.group(1)] = v.get(m.group(1), 0.0) + float(m.group(2))
    return v
a, b = read(sys.argv[1]), read(sys.argv[2])
d = lambda k: b.get(k, 0.0) - a.get(k, 0.0)
n = d("vllm:time_to_first_token_seconds_count")
if n <= 0: sys.exit("no requests in the round's metrics")
ttft, queue, prefill = (1e3 * d(f"vllm:{k}_sum") / n for k in ("time_to_first_token_seconds", "request_queue_time_seconds", "request_prefill_time_seconds"))
steps = d("vllm:iteration_tokens_total_count")
print(f"server-side mean TTFT {ttft:.1f} ms = {ttft - queue - prefill:.1f} before the scheduler's queue (template, "
      f"tokenizer, admission) + {queue:.1f} queued + {prefill:.1f} scheduled to first token; {steps:.0f} steps in the round")
PY
}

structured_runs() { # port name: free (unconstrained) and schema runs, alternating, 128 in / at most 128 out
  local port=$1 name=$2 schema n=${STRUCTURED_N:-640}
  schema=$(cd "$(dirname "$0")" && pwd)/bench/article-schema.json
  # a stalled server fails the run within a minute instead of holding the lease
  local args="--base-url http://127.0.0.1:$port --concurrency 32 --input-len 128 --output-len 128 --timeout 60"
  # warms both paths as a serving process is: the JIT and the allocator on unconstrained steps, and the schema's
  # grammar compiled once (the server caches it) with its masks precomputed
  barista bench $args --num-prompts 64 --seed 98 > "$out/structured-warmup-free.txt" 2>&1 \
    || echo "unconstrained warm-up failed"
  barista bench $args --num-prompts 64 --seed 99 --json-schema-path "$schema" > "$out/structured-warmup.txt" 2>&1 \
    || echo "structured warm-up failed"
  grep -iE "output token throughput|successful|failed|error" "$out/structured-warmup.txt" | sed "s/^/warm-up: /"
  for run in free-1 schema-1 free-2 schema-2; do
    local extra=""
    case $run in schema*) extra="--json-schema-path $schema" ;; esac
    barista bench $args --num-prompts "$n" --seed "${run#*-}" $extra --json "$out/structured-$run.json" \
      > "$out/structured-$run.txt" 2>&1 || echo "structured $run failed"
    grep -iE "output token throughput|successful|failed|median tpot|error" "$out/structured-$run.txt" \
      | sed "s/^/$run: /"
  done
  python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
runs = {r: json.load(open(f"{out}/structured-{r}.json")) for r in ("free-1", "schema-1", "free-2", "schema-2")}
if any(run["failed"] or not run["completed"] for run in runs.values()):
    sys.exit("structured: a run had failed requests; no ratio")
tput = lambda kind: [runs[f"{kind}-{i}"]["output_throughput"] for i in (1, 2)]
mean_len = lambda kind: statistics.mean(runs[f"{kind}-{i}"]["total_output_tokens"] / runs[f"{kind}-{i}"]["completed"] for i in (1, 2))
free, schema = tput("free"), tput("schema")
print(f"structured: unconstrained {free} tok/s (mean {mean_len('free'):.1f} tokens/request), json_schema {schema} "
      f"tok/s (mean {mean_len('schema'):.1f} tokens/request); json_schema / unconstrained = "
      f"{statistics.mean(schema) / statistics.mean(free):.3f}")
PY
  python3 - "$port" "$schema" <<'PY' # 8 outputs, non-streamed: JSON, with every required field
import json, sys, urllib.request
port, schema = sys.argv[1], json.load(open(sys.argv[2]))
ok = 0
for seed in range(8):
    body = {"prompt": "Write an article record as JSON.", "max_tokens": 128, "temperature": 0.8, "seed": seed,
            "response_format": {"type": "json_schema", "json_schema": {"name": "article", "schema": schema}}}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    choice = json.load(urllib.request.urlopen(req, timeout=60))["choices"][0]
    value = json.loads(choice["text"])
    good = choice["finish_reason"] == "stop" and set(value) == set(schema["required"]) \
        and value["status"] in schema["properties"]["status"]["enum"] and 1 <= len(value["sections"]) <= 4
    ok += good
    if not good: print("structured: invalid output", choice["finish_reason"], choice["text"][:200])
print(f"structured: {ok}/8 schema outputs valid (finish_reason stop, required fields, enum, section count)")
PY
  sleep 11 # the stats log writes a line every 10 s: the mask cost of the runs above
  grep -E "Constrained steps" "$out/serve-$name.log" | tail -3 | sed "s/^/stats log: /"
}

awq_checkpoint() { # our quantizer's AWQ checkpoint of the model, made once beside it
  awq_model "$model" 2>&1 | tail -1
}

for part in $parts; do
  case $part in
    ours) serve_and_bench fp16 "$model" ;;
    preset) PRESET_RUN=1 levels="" serve_and_bench fp16-preset "$model" ;; # own serve logs: parts run in turn
    structured) STRUCTURED_RUN=1 levels="" serve_and_bench fp16-structured "$model" ;;
    eager) python3 scripts/hf-baseline.py "$model" eager "$(echo $levels | tr ' ' ,)" --json "$out/hf-eager.json" ;;
    compiled) python3 scripts/hf-baseline.py "$model" compiled "${COMPILED_LEVELS:-1,32,256}" --json "$out/hf-compiled.json" ;;
    reasoning) INPUT_LEN=128 OUTPUT_LEN=2048 NUM_PROMPTS=4 levels="${REASONING_LEVELS:-1 32 256}" \
      serve_and_bench fp16-reasoning "$model" ;;
    compiled-reasoning) python3 scripts/hf-baseline.py "$model" compiled "${COMPILED_LEVELS:-1,32}" --output-len 2048 \
      --json "$out/hf-compiled-reasoning.json" ;;
    async) for round in $(seq ${ROUNDS:-2}); do
        for mode in no-async async; do
          PRESET_RUN=1 NUM_PROMPTS=${NUM_PROMPTS:-1024} levels="${ASYNC_LEVELS:-32 256}" \
            serve_and_bench "fp16-$mode-$round" "$model" --$mode-scheduling
          grep -m1 "Asynchronous scheduling" "$out/serve-fp16-$mode-$round.log" || true
        done
      done ;;
    long) MAX_MODEL_LEN=32768 MAX_BATCHED=16384 LONG_PROMPTS="4096 16384" levels="" serve_and_bench fp16-long "$model" ;;
    long32) # decode over 4,096-token contexts beside 128-token ones at concurrency 32 (issue 20's TPOT ratio): 32
      # prompts at once with a token budget that prefills them all in a step or two, so that few of the steps
      # a request's TPOT counts are other requests' prefills; one server each, twice
      for round in 1 2; do
        for len in ${LONG32_LENS:-128 4096}; do
          INPUT_LEN=$len OUTPUT_LEN=${LONG32_OUTPUT_LEN:-256} NUM_PROMPTS=32 levels=32 \
            MAX_MODEL_LEN=${LONG32_MAX_MODEL_LEN:-8192} MAX_BATCHED=$(( 32 * len > 8192 ? 32 * len : 8192 )) \
            serve_and_bench "fp16-ctx$len-$round" "$model"
        done
      done ;;
    quant) # AWQ from our quantizer's checkpoint; INT8 quantized while loading the 16-bit checkpoint
      awq_checkpoint
      levels="${QUANT_LEVELS:-1 64}" serve_and_bench awq "$model-awq"
      levels="${QUANT_LEVELS:-1 64}" serve_and_bench int8 "$model" --quantization int8 ;;
    dense-gemv) # fp16 with the opt-in GEMV for steps of up to GEMV_ROWS rows (default 8), then without, alternating
      for round in 1 2; do
        BARISTA_DENSE_GEMV_ROWS=${GEMV_ROWS:-8} levels="${GEMV_LEVELS:-1 8}" serve_and_bench "fp16-gemv-$round" "$model"
        grep -m1 "libbarista_native GEMV" "$out/serve-fp16-gemv-$round.log" || echo "fp16-gemv: the log names no GEMV"
        BARISTA_DENSE_GEMV_ROWS=0 levels="${GEMV_LEVELS:-1 8}" serve_and_bench "fp16-cublas-$round" "$model"
      done ;;
    fused-kv) # fp16 at FUSED_LEVELS (default 1 32) with k/v written by RoPE's split (BARISTA_FUSED_KV_WRITE=1), then
      # without, twice, each on a server of its own
      for round in 1 2; do
        BARISTA_FUSED_KV_WRITE=1 levels="${FUSED_LEVELS:-1 32}" serve_and_bench "fp16-fused-kv-$round" "$model"
        levels="${FUSED_LEVELS:-1 32}" serve_and_bench "fp16-split-kv-$round" "$model"
      done ;;
    sampling) # the 32-user preset (temperature 0.7, top_p 0.95) with the sampling kernel, then with the DJL ops it
      # replaces (BARISTA_SAMPLING_KERNEL=0), twice, each on a server of its own
      for round in 1 2; do
        PRESET_RUN=1 PRESET_ROUNDS=${PRESET_ROUNDS:-2} levels="" serve_and_bench "fp16-sampling-kernel-$round" "$model"
        BARISTA_SAMPLING_KERNEL=0 PRESET_RUN=1 PRESET_ROUNDS=${PRESET_ROUNDS:-2} levels="" \
          serve_and_bench "fp16-sampling-djl-$round" "$model"
      done ;;
    quant-dequant) # the same from DEQUANT_ROWS rows on through dequantize + cuBLAS (opt-in, to be measured)
      awq_checkpoint
      for q in awq int8; do
        dir=$model; extra=(--quantization int8); [ $q = awq ] && { dir=$model-awq; extra=(); }
        BARISTA_QUANT_DEQUANT_ROWS=${DEQUANT_ROWS:-128} levels="${DEQUANT_LEVELS:-64 256}" serve_and_bench "$q-dequant" \
          "$dir" "${extra[@]}"
        grep -m1 "dequantized into fp16" "$out/serve-$q-dequant.log" || echo "$q-dequant: the log names no dequantize path"
      done ;;
  esac
done
