#!/usr/bin/env bash
# Hostile clients against `barista serve` (the demo model) on 127.0.0.1: a flood of partial-header connections
# (default 20,000) while normal requests go on, then a burst of large unfinished bodies (250 x 30 MiB) and the
# RSS after they hang up. Fails if a normal request takes 1 s or more, if the log says "Too many open files", or if
# RSS is not back within 512 MiB of its level before the burst 30 s after it. Figures: docs/reliability.md.
#   scripts/conn-flood.sh [flood-connections] [burst-connections] [-- extra serve flags]
set -uo pipefail
cd "$(dirname "$0")/.."
flood_connections=${1:-20000}
burst_connections=${2:-250}
shift $(( $# < 2 ? $# : 2 )); [ "${1:-}" = "--" ] && shift
phases=${CONN_FLOOD_PHASES:-flood burst}
log=$(mktemp -t barista-conn-flood.XXXXXX.log)
[ -f server/target/barista.jar ] || (mvn -B ${MAVEN_ARGS:-} -q -DskipTests package) >&2
JAVA_OPTS=${JAVA_OPTS:--XX:+UseG1GC} scripts/barista serve --host 127.0.0.1 --port 0 --disable-log-requests \
  --disable-log-stats "$@" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
port=
for _ in $(seq 1 600); do
  port=$(sed -n 's/.*Serving .* on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "conn-flood: the server did not start; log in $log"; exit 1; }
echo "conn-flood: server pid $pid on 127.0.0.1:$port, fd limit $(awk '/Max open files/ {print $4}' /proc/$pid/limits)"
status=0
case " $phases " in *" flood "*)
  # The client spreads its connections over processes of 8,000 each, under its own descriptor limit.
  python3 scripts/conn-limits.py flood --port "$port" --pid "$pid" --connections "$flood_connections" || status=1
esac
case " $phases " in *" burst "*)
  python3 scripts/conn-limits.py burst --port "$port" --pid "$pid" --connections "$burst_connections" || status=1
esac
if grep -q "Too many open files" "$log"; then
  echo "conn-flood: FAIL, the log says 'Too many open files'"; status=1
else
  echo "conn-flood: no 'Too many open files' in the log"
fi
grep -E "WARN|ERROR" "$log" | head -20
echo "conn-flood: server log in $log"
exit "$status"
