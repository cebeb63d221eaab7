#!/usr/bin/env bash
# Prometheus checks on a real scrape of the demo server (scripts/barista serve): `promtool check metrics`, every
# vllm: metric documented in docs/monitoring.md, and docs/alerts.yml plus every query of
# docs/grafana-dashboard.json checked by `promtool check rules` and naming only metrics the server exposes.
# promtool comes from Debian's prometheus package. Its lint "metric names should not contain ':'" is accepted for
# vllm: names only: they are vLLM's names, kept so vLLM dashboards work (docs/monitoring.md); so is its lint about
# "_total" on vllm:iteration_tokens_total, a histogram vLLM named so.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/ops-tests/lib.sh
need curl curl || { fail "curl unavailable"; finish; }
need promtool prometheus || { fail "promtool unavailable"; finish; }

work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# metrics_ok FILE: promtool check metrics passes, lint about vllm: colons aside; prints what it rejects.
metrics_ok() {
  local out
  out=$(promtool check metrics < "$1" 2>&1)
  case $? in 0) return 0 ;; 3) ;; *) echo "$out"; return 1 ;; esac
  out=$(grep -v "^vllm:[a-z0-9_]* metric names should not contain ':'$" <<< "$out" \
    | grep -vx 'vllm:iteration_tokens_total non-counter metrics should not have "_total" suffix')
  [ -z "$out" ] || { echo "$out"; return 1; }
}

bash scripts/barista serve --port 0 --disable-log-stats > "$work/server.log" 2>&1 &
pid=$!
if ! port=$(server_port "$work/server.log" "$pid" 180) || ! wait_healthy "$port" 60 "$pid"; then
  fail "demo server starts (log below)"; cat "$work/server.log"; finish
fi
api=http://127.0.0.1:$port
curl -fsS -o /dev/null "$api/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":4}'
curl -fsS -o /dev/null "$api/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt":"hello","max_tokens":3,"stream":true}'
curl -fsS "$api/metrics" > "$work/metrics.txt"
stop_server "$pid" 15

check "promtool check metrics on a /metrics scrape" metrics_ok "$work/metrics.txt"
{ cat "$work/metrics.txt"; printf '# HELP demo_latency_ms A badly named metric\n# TYPE demo_latency_ms gauge\ndemo_latency_ms 1\n'; } \
  > "$work/bad.txt"
check "promtool check metrics rejects a badly named metric" eval '! metrics_ok "$work/bad.txt" >/dev/null'

# Names of the scrape's vllm: families (a histogram's _max gauge goes with its histogram) missing from docs/monitoring.md.
undocumented() {
  local family
  for family in $(sed -n 's/^# TYPE \(vllm:[a-z0-9_]*\) .*/\1/p' "$work/metrics.txt"); do
    grep -q "\`${family%_max}\`" docs/monitoring.md || echo "$family"
  done
}
check "the scrape has vllm: metrics" grep -q '^# TYPE vllm:' "$work/metrics.txt"
missing=$(undocumented)
check "docs/monitoring.md names every vllm: metric${missing:+ (missing: $missing)}" test -z "$missing"

check "promtool check rules docs/alerts.yml" promtool check rules docs/alerts.yml
# The dashboard's queries as recording rules, so promtool parses their PromQL (Grafana's $__rate_interval as 5m).
node -e '
  const d = JSON.parse(require("fs").readFileSync("docs/grafana-dashboard.json", "utf8"));
  const exprs = d.panels.flatMap(p => (p.targets || []).map(t => t.expr.replaceAll("$__rate_interval", "5m")));
  console.log("groups:\n- name: dashboard\n  rules:");
  exprs.forEach((e, i) => console.log("  - record: dashboard_query_" + i + "\n    expr: " + JSON.stringify(e)));
' > "$work/dashboard-rules.yml" 2> "$work/node.err"
check "docs/grafana-dashboard.json is JSON with queries" grep -q "record:" "$work/dashboard-rules.yml"
check "promtool parses every dashboard query" promtool check rules "$work/dashboard-rules.yml"

samples=$(grep -v '^#' "$work/metrics.txt" | sed 's/[{ ].*//' | sort -u)
unknown=$(grep -oh 'vllm:[a-z0-9_]*' docs/alerts.yml docs/grafana-dashboard.json | sort -u | grep -vxF "$samples")
check "alerts and dashboard name only metrics the server exposes${unknown:+ (not exposed: $unknown)}" test -z "$unknown"
finish
