#!/usr/bin/env bash
# Validates docs/deploy/kubernetes/: `kubectl --dry-run=client` needs an API server to validate against and
# kubeconform is in none of the registries reachable here, so the objects are checked against the Kubernetes
# OpenAPI schema by the npm package kubernetes-models (cached in ~/.cache/barista/npm/k8s-validate), plus the
# cross-checks of validate-k8s.mjs; the Prometheus adapter's query is parsed by promtool. A broken copy of the
# manifests must fail, so the checks themselves are checked.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/ops-tests/lib.sh
repo=$(pwd)

tools=${HOME}/.cache/barista/npm/k8s-validate
if [ ! -d "$tools/node_modules/kubernetes-models" ] || [ ! -d "$tools/node_modules/yaml" ]; then
  mkdir -p "$tools"
  (cd "$tools" && npm install --silent --no-audit --no-fund --prefix . kubernetes-models@5.1.0 yaml@2.9.1 >&2) \
    || { fail "npm install kubernetes-models (offline?)"; finish; }
fi
cp scripts/ops-tests/validate-k8s.mjs "$tools/validate-k8s.mjs"   # node resolves its imports from there
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

PROMQL_OUT=$work/adapter-rules.yml node "$tools/validate-k8s.mjs" "$repo/docs/deploy/kubernetes" \
  "$repo/docs/configuration.md" || failures=$((failures + 1))
if need promtool prometheus; then
  check "promtool parses the adapter's metricsQuery" eval 'promtool check rules "$work/adapter-rules.yml" >/dev/null'
fi

cp -r docs/deploy/kubernetes "$work/broken"
sed -i -e 's#path: /ping#path: /pong#' -e 's/terminationGracePeriodSeconds: [0-9]*/terminationGracePeriodSeconds: 20/' \
  -e 's/replicas: 1$/replicas: one/' -e 's/name: vllm_num_requests_waiting/name: vllm_requests_queued/' \
  "$work/broken"/*.yaml
broken=$(node "$tools/validate-k8s.mjs" "$work/broken" "$repo/docs/configuration.md" | grep -c '^FAIL')
check "a broken copy fails its 5 checks (got $broken)" test "$broken" -eq 5
finish
