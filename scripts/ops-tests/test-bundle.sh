#!/usr/bin/env bash
# The offline bundle on a machine without Java: unpacks dist/barista-*-linux-x86_64.tar.gz (building it from
# server/target/barista.jar when missing) into a temporary folder and runs bin/barista serve with an empty
# environment: a PATH holding only sh, dirname and readlink (no java), an empty HOME, no network use
# (-Dai.djl.offline=true). Then /health, a chat completion, a streamed one, /metrics, JSON logs and SIGTERM.
#   scripts/ops-tests/test-bundle.sh [TARBALL]
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/ops-tests/lib.sh
need curl curl || { fail "curl unavailable"; finish; }

tarball=${1:-$(ls -t dist/barista-*-linux-x86_64.tar.gz 2>/dev/null | head -1)}
if [ -z "$tarball" ]; then
  if [ -f server/target/barista.jar ]; then tarball=$(bash scripts/bundle.sh --skip-build); else tarball=$(bash scripts/bundle.sh); fi
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

tar -xzf "$tarball" -C "$work"
bundle=$(echo "$work"/barista-*)
for f in bin/barista runtime/bin/java lib/barista.jar conf/logback.xml install.sh systemd/barista.service \
    systemd/barista.env docs/deployment.md docs/monitoring.md; do
  [ -e "$bundle/$f" ] || fail "bundle lacks $f"
done
pass "bundle layout ($(basename "$tarball"), $(du -sh "$tarball" | cut -f1))"

mkdir -p "$work/path" "$work/home"
for tool in sh dirname readlink; do ln -s "$(command -v $tool)" "$work/path/$tool"; done
# run ARGS...: bin/barista in the stripped environment, from $work (where a JVM crash file would land); call it
# in a subshell: it execs, so a background run's $! is the JVM itself.
run() { cd "$work" && exec env -i PATH="$work/path" HOME="$work/home" "$bundle/bin/barista" "$@"; }
check "no java on the test PATH" test -z "$(env -i PATH="$work/path" sh -c 'command -v java')"

# start NAME ARGS...: starts the server with --port 0 and sets $pid and $port.
start() {
  local log=$work/$1.log; shift
  (run serve --port 0 "$@") > "$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  port=$(server_port "$log" "$pid" 120) && wait_healthy "$port" 60 "$pid"
}

flags=$( (run serve --help) | sed -n '/^Serve a model/,$p' | grep -o -- '--\(\[no-\]\)\?[a-z][a-z-]*' \
  | grep -vx -- '--help\|--version' | sort -u)
undocumented=$(for f in $flags; do grep -qF "\`$f\`" "$bundle/docs/configuration.md" || echo "$f"; done)
check "docs/configuration.md describes every serve flag ($(wc -w <<< "$flags") flags)${undocumented:+, not: $undocumented}" \
  test -n "$flags" -a -z "$undocumented"

if ! start text; then
  fail "bin/barista serve starts (log below)"; cat "$work/text.log"; finish
fi
pass "bin/barista serve is healthy on :$port"
check "the startup warm-up had every request answered (the runtime holds java.net.http)" \
  grep -q 'Warm-up: \([1-9][0-9]*\) of \1 requests answered' "$work/text.log"
api=http://127.0.0.1:$port
chat=$(curl -fsS "$api/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":4,"ignore_eos":true}')
check "chat completion answers" grep -q '"finish_reason":"length".*"completion_tokens":4' <<< "$chat"
stream=$(curl -fsSN "$api/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":3,"ignore_eos":true,"stream":true}')
check "streamed chat completion ends with [DONE]" test "$(grep -v '^$' <<< "$stream" | tail -1)" = "data: [DONE]"
check "/metrics counts the requests" \
  grep -q '^vllm:request_success_total{finished_reason="length",model_name="barista-demo"} 2' <<< "$(curl -fsS "$api/metrics")"
check "DJL extracted its CPU libtorch into \$HOME offline" \
  test -f "$(echo "$work"/home/.djl.ai/pytorch/*-cpu-linux-x86_64/libtorch_cpu.so)"
check "SIGTERM stops it within 15 s" stop_server "$pid" 15
check "the log says it shut down" grep -qi "shutting down" "$work/text.log"

if start json --log-format json --log-file "$work/logs/barista.log"; then
  pass "bin/barista serve --log-format json --log-file is healthy"
  check "stderr carries JSON lines" grep -q '^{.*"level":"INFO".*"formattedMessage":"Application startup complete."' \
    "$work/json.log"
  check "--log-file carries the same lines" grep -q '"formattedMessage":"Application startup complete."' \
    "$work/logs/barista.log"
  stop_server "$pid" 15
else
  fail "bin/barista serve --log-format json starts (log below)"; cat "$work/json.log"
fi
finish
