#!/usr/bin/env bash
# The browser tests drive Debian's Chromium headless (Playwright's own browser downloads are not used).
# Install it from Debian's packages when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
echo "==> Chromium not found: installing Debian's chromium package for the browser tests"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
chromium --version
