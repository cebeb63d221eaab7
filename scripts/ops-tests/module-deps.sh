#!/usr/bin/env bash
# The module graph the poms state is the one the code uses: maven-dependency-plugin's analysis (over the compiled
# classes of `mvn verify`) must name no barista module as used-but-undeclared or declared-but-unused. Third-party
# findings are printed for reading, not failed on (transitive artifacts such as netty-buffer are used through
# their parents by design).
set -uo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp "${TMPDIR:-/tmp}/module-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
# test-compile (up to date after `mvn verify`) so that the reactor's modules resolve to their target/ folders.
goals=(test-compile org.apache.maven.plugins:maven-dependency-plugin:3.9.0:analyze-only)
mvn -B -o "${goals[@]}" > "$log" 2>&1 || mvn -B "${goals[@]}" > "$log" 2>&1 \
  || { echo "FAIL dependency analysis did not run"; tail -20 "$log"; exit 1; }
# Keep each finding with the section ("Used undeclared" / "Unused declared" / "Non-test scoped ...") it is in.
findings=$(awk '/Used undeclared dependencies found/ { section = "used but undeclared" }
  /Unused declared dependencies found/ { section = "declared but unused" }
  /Non-test scoped test only dependencies found/ { section = "compile scope, used by tests only" }
  /^\[WARNING\]    dev\.barista:/ { sub(/^\[WARNING\] +/, ""); print section ": " $0 }' "$log")
if [ -n "$findings" ]; then
  echo "FAIL module dependencies disagree with the code:"; echo "$findings"; exit 1
fi
echo "module dependencies: every barista module the code uses is declared, and none declared is unused"
