#!/usr/bin/env bash
# Here (no GPU needed): builds the jars and stages what a GPU box needs into .gpu/ (git-ignored): a jlinked JRE,
# the runtime and test jars (JUnit's console launcher for the native tests), DJL's JNI for the box's torch, and
# the Qwen2 BPE. Then, on the GPU box:  bash .gpu/run.sh scripts/gpu-check.sh OUT   (or scripts/gpu-bench.sh).
# Usage: scripts/gpu-stage.sh   (needs ../shared/gpu/stage.sh, Maven, npm)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${BARISTA_SHARED:-$root/../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
mvn -B -q -DskipTests package dependency:copy-dependencies -DincludeScope=runtime -DexcludeGroupIds=dev.barista \
  -DoutputDirectory="$work/lib"
for m in config kvcache engine scheduler server; do
  find "$m/target" -maxdepth 1 -name "barista-$m-*.jar" -exec cp -t "$work/lib" {} +
done
mvn -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
  -DoutputDirectory="$work/lib"
# DJL's tokenizers jar carries natives for five platforms: keep linux-x86_64's (the GPU box), 18 MB -> 6 MB.
python3 - "$work"/lib/tokenizers-*.jar <<'PY'
import shutil, sys, zipfile
src = sys.argv[1]
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(src + ".tmp", "w", zipfile.ZIP_DEFLATED) as zo:
    for item in zi.infolist():
        parts = item.filename.split("/")  # native/lib/<platform>/...: other platforms' libraries go
        if len(parts) > 3 and parts[:2] == ["native", "lib"] and parts[2] != "linux-x86_64":
            continue
        zo.writestr(item, zi.read(item.filename))
shutil.move(src + ".tmp", src)
PY
"$shared/gpu/stage.sh" "$work/lib"
# The call's tree is capped at 64 MiB: a JRE jlinked uncompressed and then xz'd is 17 MB instead of 29.
if [ ! -f .gpu/jre.small ]; then
  rm -rf "$work/gpu-jre"
  jlink --add-modules java.base,java.logging,jdk.unsupported,java.management,java.naming,java.xml,java.sql,java.desktop,jdk.management,java.net.http,jdk.crypto.ec,jdk.jfr,jdk.jcmd \
    --strip-debug --no-man-pages --no-header-files --compress=0 --output "$work/gpu-jre"
  tar -C "$work" -cf - gpu-jre | xz -9 -T0 > .gpu/jre.tar.xz
  touch .gpu/jre.small
fi
tok=$(bash scripts/fetch-qwen-tokenizer.sh)
gzip -9c "$tok" > .gpu/qwen-tokenizer.json.gz
du -sh .gpu
