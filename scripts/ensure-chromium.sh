#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright. Install it when it is missing and we can.
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  [ -x "$browser" ] && exit 0
fi
echo "The browser tests need Chromium at $browser (Debian: 'sudo apt-get install chromium');" >&2
echo "set CHROMIUM_PATH to use a Chromium installed elsewhere." >&2
exit 1
