# Shared by the ops tests: PASS/FAIL lines, a failure count, installing a Debian package when a tool is missing,
# and starting/stopping a server. Source it; end the script with `finish`.
failures=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# check NAME COMMAND...: PASS when the command succeeds.
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

finish() { exit $((failures > 0)); }

# need TOOL PACKAGE: installs the Debian package when TOOL is not on PATH.
need() {
  command -v "$1" >/dev/null && return 0
  echo "installing Debian package $2 for $1" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends "$2") >&2
  command -v "$1" >/dev/null
}

# server_port LOG PID SECONDS: the port a server started with --port 0 reports in LOG ("Serving [...] on http://H:P",
# in JSON lines "http:\/\/H:P").
server_port() {
  local i port
  for ((i = 0; i < $3 * 4; i++)); do
    port=$(sed -n 's#.*Serving .* on http:[\\/]*[^ :]*:\([0-9]*\).*#\1#p' "$1" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.25
  done
  return 1
}

# wait_healthy PORT SECONDS PID: 0 once /health answers 200; 1 on timeout or when PID exits.
wait_healthy() {
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/health" && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.25
  done
  return 1
}

# stop_server PID SECONDS: SIGTERM, then 0 if it exits within SECONDS (SIGKILL and 1 otherwise).
stop_server() {
  local i
  kill -TERM "$1" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 4; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL "$1" 2>/dev/null
  return 1
}
