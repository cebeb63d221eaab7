#!/usr/bin/env bash
# Installs a barista bundle (scripts/bundle.sh) as the systemd service barista. As root:
#   ./install.sh                                    from an unpacked bundle
#   scripts/install.sh dist/barista-<version>-linux-x86_64.tar.gz
# It copies the bundle to /opt/barista/<name> and points /opt/barista/current at it (the previous one stays, for a
# rollback by re-pointing the link), creates the system user barista, /etc/barista/barista.env (an existing one is
# kept) and /etc/systemd/system/barista.service. Start with: systemctl enable --now barista.
# DESTDIR=<dir> installs under <dir> and leaves users and systemd alone (staging, tests).
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")" && pwd)}
root=${DESTDIR:-}

if [ -f "$src" ]; then
  unpacked=$(mktemp -d)
  trap 'rm -rf "$unpacked"' EXIT
  tar -xzf "$src" -C "$unpacked"
  src=$(echo "$unpacked"/barista-*)
fi
for needed in bin/barista lib/barista.jar runtime/bin/java systemd/barista.service systemd/barista.env; do
  [ -e "$src/$needed" ] || { echo "install: $src is not a barista bundle (no $needed)" >&2; exit 1; }
done
name=$(basename "$src")
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then echo "install: run as root (or set DESTDIR)" >&2; exit 1; fi
command -v curl >/dev/null || echo "install: warning: curl is missing; the unit's health check needs it" >&2

install -d "$root/opt/barista" "$root/etc/systemd/system"
rm -rf "$root/opt/barista/$name.new"
cp -a "$src" "$root/opt/barista/$name.new"
rm -rf "$root/opt/barista/$name"
mv "$root/opt/barista/$name.new" "$root/opt/barista/$name"
ln -sfn "$name" "$root/opt/barista/current"

if [ -z "$root" ] && ! getent passwd barista >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/barista --no-create-home --shell /usr/sbin/nologin barista
fi
install -d -m 0750 "$root/etc/barista"
if [ ! -e "$root/etc/barista/barista.env" ]; then
  install -m 0640 "$src/systemd/barista.env" "$root/etc/barista/barista.env"
fi
[ -n "$root" ] || chgrp -R barista /etc/barista
install -m 0644 "$src/systemd/barista.service" "$root/etc/systemd/system/barista.service"

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "install: $name is in /opt/barista/current. Edit /etc/barista/barista.env, then:"
  echo "  systemctl enable --now barista    (or: systemctl restart barista, after an upgrade)"
else
  echo "install: $name installed under ${root:-/}"
fi
