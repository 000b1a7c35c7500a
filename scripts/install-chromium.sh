#!/usr/bin/env bash
# Installs Debian's chromium (for the HTML report's browser test) when /usr/bin/chromium is missing.
# Idempotent; prints the browser path. Needs root (or sudo) and the Debian package mirror.
set -euo pipefail
BROWSER=/usr/bin/chromium
if [ -x "$BROWSER" ]; then
  echo "$BROWSER"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: not root and no sudo; install Debian's 'chromium' package by hand" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
if [ ! -x "$BROWSER" ]; then
  echo "install-chromium: apt-get finished but $BROWSER is missing" >&2
  exit 1
fi
echo "$BROWSER"
