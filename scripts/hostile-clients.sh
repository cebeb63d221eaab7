#!/usr/bin/env bash
# Hostile clients against `barista serve` (the demo model) on 127.0.0.1, one server per phase (its log kept in
# /tmp): a non-reading pipeliner then SIGTERM, a method-name flood, a schema flood, batch griefing, huge prompts
# (scripts/hostile-clients.py says what each does and checks). Figures: docs/reliability.md.
#   scripts/hostile-clients.sh [phase ...]      (default: methods schemas batch prompts pipeliner)
set -uo pipefail
cd "$(dirname "$0")/.."
phases=${*:-methods schemas batch prompts pipeliner}
[ -f server/target/barista.jar ] || (mvn -B ${MAVEN_ARGS:-} -q -DskipTests package) >&2
status=0
for phase in $phases; do
  flags=()
  case $phase in
    batch) flags=(--max-num-seqs 4 --max-waiting-requests 8) ;;
    pipeliner) flags=(--max-pending-response-bytes 268435456 --shutdown-timeout 30) ;;
  esac
  log=$(mktemp -t barista-hostile-$phase.XXXXXX.log)
  JAVA_OPTS=${JAVA_OPTS:--XX:+UseG1GC} scripts/barista serve --host 127.0.0.1 --port 0 --disable-log-requests \
    --disable-log-stats "${flags[@]}" >"$log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*Serving .* on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "hostile-clients: the server did not start; log in $log"; exit 1; }
  # The java process itself (scripts/barista execs it), for RSS and SIGTERM.
  python3 scripts/hostile-clients.py "$phase" --port "$port" --pid "$pid" || status=1
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  grep -E "WARN|ERROR" "$log" | head -5
  echo "hostile-clients: $phase server log in $log"
done
exit "$status"
