#!/usr/bin/env bash
# Binaries the deployment tests run for real: PgBouncer (tenant isolation through a transaction-pooling
# proxy) and nginx (the shipped configuration is checked with `nginx -t` and serves requests).
# Debian's packages are unpacked into .run/tools (no root, nothing installed system-wide); binaries
# already on PATH are used as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.run/tools
need=()
command -v pgbouncer >/dev/null || [ -x "$tools/usr/sbin/pgbouncer" ] || need+=(pgbouncer libc-ares2 libevent-2.1-7)
command -v nginx >/dev/null || [ -x "$tools/usr/sbin/nginx" ] || need+=(nginx)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  echo "The deployment tests need pgbouncer and nginx on PATH (Debian/Ubuntu: apt-get install pgbouncer nginx)." >&2
  exit 1
fi
echo "Fetching Debian's ${need[*]} into $tools for the deployment tests ..."
mkdir -p "$tools/debs"
(cd "$tools/debs" && { apt-get download "${need[@]}" >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get download "${need[@]}" >/dev/null; }; })
for deb in "$tools"/debs/*.deb; do dpkg -x "$deb" "$tools"; done
rm -rf "$tools/debs"
for bin in pgbouncer nginx; do
  command -v "$bin" >/dev/null || [ -x "$tools/usr/sbin/$bin" ] || { echo "Could not unpack $bin into $tools." >&2; exit 1; }
done
