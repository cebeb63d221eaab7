#!/usr/bin/env bash
# The operations checks CI runs after `mvn verify` (server/target/barista.jar built): the offline bundle served
# without Java, systemd-analyze verify, promtool on a real scrape plus the alert rules and dashboard, and the
# Kubernetes manifests, every CUDA source of native/ compiled (no GPU needed), and the module poms checked against the code's imports. Installs Debian's systemd and prometheus packages when their tools are missing, and npm's
# kubernetes-models once. Prints each script's PASS/FAIL lines, one line per script, then "N passed, N failed";
# exits 1 when any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
# A bundle from the jar mvn built: fresh each run, so the test never meets a stale tarball.
if [ -f server/target/barista.jar ]; then bundle=(--skip-build); else bundle=(); fi
rm -f dist/barista-*-linux-x86_64.tar.gz
passed=0 failed=0
run() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then echo "PASS $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
run bundle bash -c 'bash scripts/bundle.sh "$@" >/dev/null' bundle "${bundle[@]}"
run test-bundle bash scripts/ops-tests/test-bundle.sh
run verify-systemd bash scripts/ops-tests/verify-systemd.sh
run promtool-check bash scripts/ops-tests/promtool-check.sh
run validate-k8s bash scripts/ops-tests/validate-k8s.sh
run native-compile bash scripts/ops-tests/native-compile.sh
run module-deps bash scripts/ops-tests/module-deps.sh
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
