#!/usr/bin/env bash
# `make bench` loads the web pages with wrk (a C load generator, so the clients do not compete with the server for
# the interpreter). Install it from Debian's packages when missing.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
echo "==> wrk not found: installing Debian's wrk package for the web bench"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
