#!/usr/bin/env bash
# Debian's chromium (and fonts for readable screenshots) for the browser tests, installed with
# apt when missing. Playwright drives this binary; it never downloads a browser of its own.
set -euo pipefail

if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "liberation\|dejavu"; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "browser: installing Debian's chromium" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation fonts-dejavu-core >/dev/null
chromium --version >&2
