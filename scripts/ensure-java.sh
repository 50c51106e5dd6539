#!/usr/bin/env bash
# The Spark engine (and so `make test`) needs Java 17 or later. Install it from Debian's packages when missing.
set -euo pipefail
version() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]}'; }
if command -v java >/dev/null 2>&1 && [ "$(version)" -ge 17 ]; then
  exit 0
fi
echo "==> Java 17+ not found: installing openjdk-17-jre-headless from Debian's packages"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
java -version
