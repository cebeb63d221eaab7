#!/usr/bin/env bash
# Builds dist/barista-<version>-linux-x86_64.tar.gz: a jlink-trimmed Java runtime, the fat jar (with DJL's CPU
# libtorch, so it serves on CPU with no Java and no network), bin/barista, conf/logback.xml, the systemd unit and
# its env file, install.sh and the docs. docs/deployment.md explains what is inside and how to use it.
#   scripts/bundle.sh               mvn package first (incremental), then bundle
#   scripts/bundle.sh --skip-build  bundle the existing server/target/barista.jar (CI, after mvn verify)
# BARISTA_NATIVE_LIBRARY=path/libbarista_native.so adds the CUDA graph library (scripts/build-native.sh, built
# against the libtorch the GPU box runs) as lib/libbarista_native.so, where the server looks by default.
# JAVA_HOME picks the JDK whose jlink makes the runtime (default: the one javac on PATH belongs to).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Modules the fat jar needs (jdeps over its packages): java.desktop for java.beans (Jinjava), java.sql and
# java.naming for Jackson/Logback optional paths, jdk.management for the process CPU gauges, jdk.unsupported for
# Netty and DJL, java.net.http for serve's startup warm-up and the bench command's client.
modules=java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.management,jdk.unsupported

if [ "${1:-}" != --skip-build ]; then
  echo "bundle: mvn package" >&2
  mvn -B -q -DskipTests package >&2
fi
jar=server/target/barista.jar
[ -f "$jar" ] || { echo "bundle: $jar is missing (run without --skip-build)" >&2; exit 1; }

java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -x "$java_home/bin/jlink" ] || { echo "bundle: no jlink in $java_home (set JAVA_HOME to a JDK)" >&2; exit 1; }
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)
name=barista-$version
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
out=$stage/$name

echo "bundle: jlink runtime from $java_home ($("$java_home/bin/java" -version 2>&1 | head -1))" >&2
"$java_home/bin/jlink" --add-modules "$modules" --output "$out/runtime" \
  --strip-debug --no-header-files --no-man-pages --compress=2
mkdir -p "$out/bin" "$out/lib" "$out/conf" "$out/systemd" "$out/docs"
cp "$jar" "$out/lib/barista.jar"
if [ -n "${BARISTA_NATIVE_LIBRARY:-}" ]; then
  [ -f "$BARISTA_NATIVE_LIBRARY" ] || { echo "bundle: $BARISTA_NATIVE_LIBRARY is missing" >&2; exit 1; }
  cp "$BARISTA_NATIVE_LIBRARY" "$out/lib/libbarista_native.so"
fi
cp server/src/main/resources/logback.xml "$out/conf/logback.xml"
cp scripts/systemd/barista.service scripts/systemd/barista.env "$out/systemd/"
cp scripts/install.sh "$out/install.sh"
cp -r docs/. "$out/docs/"
cp README.md "$out/README.md"

cat > "$out/bin/barista" <<'EOF'
#!/bin/sh
# barista, from the offline bundle: runs lib/barista.jar on the bundle's own Java runtime.
# $HOME holds the caches (DJL's ~/.djl.ai with the extracted libtorch, the demo model in ~/.cache/barista,
# the Hugging Face hub cache); JAVA_OPTS replaces the JVM flags; DJL_CACHE_DIR, PYTORCH_LIBRARY_PATH,
# PYTORCH_VERSION and PYTORCH_FLAVOR are DJL's own (docs/deployment.md).
set -e
home=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
set -- -Dai.djl.offline=true -Dlogback.configurationFile="$home/conf/logback.xml" -jar "$home/lib/barista.jar" "$@"
# Java takes user.home from the passwd entry; follow $HOME instead (containers run as users without one).
[ -n "$HOME" ] && set -- -Duser.home="$HOME" "$@"
exec "$home/runtime/bin/java" ${JAVA_OPTS:--XX:+UseG1GC -XX:+ExitOnOutOfMemoryError} "$@"
EOF
chmod 755 "$out/bin/barista" "$out/install.sh"

mkdir -p dist
tarball=dist/$name-linux-x86_64.tar.gz
tar -C "$stage" -czf "$tarball" "$name"
echo "$tarball"
