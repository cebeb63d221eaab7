#!/usr/bin/env bash
# On a GPU box (through .gpu/run.sh, after scripts/build-native.sh): where a decode step's GPU time goes, kernel by
# kernel. Serves the r1-distill-1.5b geometry (CUDA graphs, as users run it) under Nsight Compute with only the
# kernel-duration metric, drives CONCURRENCY streams of 128 in / 512 out, and has ncu time a window of COUNT kernel
# launches that starts SKIP launches in (past start-up, inside steady decode); prints ncu's per-kernel summary,
# heaviest first. ncu serializes the kernels it times, so this gives each kernel's own time, not the step's wall
# time (no overlap, no launch gaps); compare the sum with the TPOT that gpu-bench.sh measures to see the gaps.
# Usage: bash .gpu/run.sh scripts/gpu-kernel-profile.sh OUT_DIR [CONCURRENCY] [SKIP] [COUNT]
set -uo pipefail
out=$1; c=${2:-1}; skip=${3:-40000}; count=${4:-1500}
mkdir -p "$out"
source "$(dirname "$0")/gpu-lib.sh"
model=${MODEL_DIR:-/tmp/check-r1}
r1_model "$model" > /dev/null
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
[ -n "$ncu" ] || { echo "no ncu here"; exit 1; }
port=8766
"$ncu" --target-processes all --clock-control none --metrics gpu__time_duration.sum --launch-skip "$skip" \
  --launch-count "$count" --csv --page raw --print-units base --log-file "$out/ncu-c$c.csv" \
  "$java" -cp "$cp" barista.server.Main serve --model "$model" --device cuda --port $port --max-model-len 4096 \
  --max-num-seqs 256 --warmup-seconds 0 --disable-log-requests > "$out/serve-c$c.log" 2>&1 &
ncu_pid=$!
until curl -sf localhost:$port/health > /dev/null; do
  kill -0 $ncu_pid 2>/dev/null || { echo "server died"; tail -5 "$out/serve-c$c.log"; exit 1; }
  sleep 0.5
done
n=$(( c < 4 ? 4 : c ))
"$java" -cp "$cp" barista.server.Main bench --base-url http://127.0.0.1:$port --num-prompts $n --concurrency "$c" \
  --input-len 128 --output-len 512 --ignore-eos > "$out/bench-c$c.txt" 2>&1
grep -iE "median tpot|throughput" "$out/bench-c$c.txt" | sed "s/^/c=$c under ncu: /"
pkill -TERM -f "barista.server.Main serve.*--port $port"
wait $ncu_pid
# ncu may still be writing its report when the server it wraps has gone: wait for the rows (at most 60 s)
for i in $(seq 120); do grep -q '^"ID"' "$out/ncu-c$c.csv" 2>/dev/null && break; sleep 0.5; done
python3 - "$out/ncu-c$c.csv" "$c" <<'PY'
import collections, csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 5]
if not rows: sys.exit("ncu wrote no kernel rows")
head, rows = rows[0], [r for r in rows[1:] if r and r[0].isdigit()]
name_i, time_i = head.index("Kernel Name"), head.index("gpu__time_duration.sum")
total, count = collections.Counter(), collections.Counter()
for r in rows:
    try: t = float(r[time_i].replace(",", ""))
    except ValueError: continue
    k = r[name_i][:110]
    total[k] += t; count[k] += 1
s = sum(total.values())
print(f"c={sys.argv[2]}: {len(rows)} kernels timed, {s / 1e3:.1f} us in all (ncu's unit: ns)")
for k, t in total.most_common(30):
    print(f"  {100 * t / s:5.1f}%  {t / count[k] / 1e3:8.2f} us x {count[k]:5d}  {k}")
PY
