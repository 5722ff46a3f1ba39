#!/usr/bin/env bash
# Installs Debian's chromium for the docs site's browser test (engine/docs),
# which calls this when chromium is missing. Needs root (CI runs as root).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: chromium is missing and this is not root; run: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "install-chromium: installing Debian's chromium" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
