#!/usr/bin/env bash
# The long soak: SoakTest against the tiny model on CPU over loopback, 5,000 mixed requests at concurrency 64
# (10% hang up at random points). Prints its figures; fails on any 5xx, hung request, leaked KV block or heap
# growth over 10%. Usage: scripts/soak.sh [requests] [concurrency]   (add -o to MAVEN_ARGS to build offline)
set -uo pipefail
cd "$(dirname "$0")/.."
requests=${1:-5000}
concurrency=${2:-64}
log=$(mktemp -t barista-soak.XXXXXX.log)
mvn -B ${MAVEN_ARGS:-} -pl server -am test -Psoak -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsoak.requests="$requests" -Dsoak.concurrency="$concurrency" >"$log" 2>&1
status=$?
grep -E "^soak:|Tests run:|FAILURE|AssertionFailed" "$log" | grep -v "Tests run: 0"
[ "$status" -eq 0 ] || echo "soak failed: full log in $log"
exit "$status"
