#!/usr/bin/env bash
# `systemd-analyze verify` on barista.service as scripts/install.sh lays it out. verify checks that every Exec
# binary exists, so the unit is installed into a temporary root (DESTDIR) from a stub bundle (empty files with the
# bundle's layout, no build needed), with systemd's own units and /bin/sh copied in, and verified with --root.
# Clean means no output at all; a broken copy of the unit must be reported, so the check itself is checked.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/ops-tests/lib.sh
need systemd-analyze systemd || { fail "systemd-analyze unavailable"; finish; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stub=$work/barista-0.0.0
mkdir -p "$stub/bin" "$stub/lib" "$stub/runtime/bin" "$stub/systemd"
printf '#!/bin/sh\n' > "$stub/bin/barista"
printf '#!/bin/sh\n' > "$stub/runtime/bin/java"
chmod 755 "$stub/bin/barista" "$stub/runtime/bin/java"
touch "$stub/lib/barista.jar"
cp scripts/systemd/barista.service scripts/systemd/barista.env "$stub/systemd/"

root=$work/root
check "install.sh lays out a bundle under DESTDIR" env DESTDIR="$root" bash scripts/install.sh "$stub"
check "install.sh points /opt/barista/current at the bundle" \
  test "$(readlink "$root/opt/barista/current")" = barista-0.0.0 -a -x "$root/opt/barista/current/bin/barista"
check "install.sh writes /etc/barista/barista.env" cmp -s "$root/etc/barista/barista.env" scripts/systemd/barista.env
echo "MODEL=/models/mine" > "$root/etc/barista/barista.env"
DESTDIR="$root" bash scripts/install.sh "$stub" >/dev/null
check "install.sh keeps an existing barista.env" grep -qx "MODEL=/models/mine" "$root/etc/barista/barista.env"

mkdir -p "$root/usr/lib/systemd" "$root/bin"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
cp "$(readlink -f /bin/sh)" "$root/bin/sh"

verify() { systemd-analyze verify --man=no --root="$root" "$1" 2>&1; }
out=$(verify barista.service)
if [ -z "$out" ]; then pass "systemd-analyze verify barista.service is clean"; else
  fail "systemd-analyze verify barista.service:"; echo "$out"; fi

sed 's/^Restart=on-failure/Restart=sometimes/' scripts/systemd/barista.service \
  > "$root/etc/systemd/system/barista-broken.service"
check "systemd-analyze verify reports a broken copy" test -n "$(verify barista-broken.service)"
finish
