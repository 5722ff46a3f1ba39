#!/usr/bin/env bash
# Installs Debian's chromium for the docs site's browser tests (engine/docs).
# make test runs it before the tests, and the tests run it when they start
# without Chromium. It prints one line when it installs, and one line saying
# why when it cannot (then the browser tests skip, or fail when CI is set).
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
then_what="the docs site's browser tests will be skipped"
case "${CI:-}" in
  ""|false|0) ;;
  *) then_what="the docs site's browser tests will fail (CI is set)" ;;
esac
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: Chromium is missing and this machine has no apt-get; install Chromium yourself, or $then_what" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: Chromium is missing and only root can install it (sudo apt-get install chromium); until then $then_what" >&2
  exit 1
fi
echo "install-chromium: Chromium is missing: installing Debian's chromium with apt-get for the docs site's browser tests" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
  echo "install-chromium: apt-get could not install chromium ($(grep -v '^$' "$log" | tail -n 1)); $then_what" >&2
  exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: apt-get installed chromium, but it is not on PATH; $then_what" >&2
  exit 1
fi
