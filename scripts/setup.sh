#!/usr/bin/env bash
# Set up everything tearline needs on a fresh Debian machine: Debian packages, a Python 3.11+
# virtual environment in .venv, and the project with its extras. Safe to run again.
#   scripts/setup.sh            runtime only (the demo)
#   scripts/setup.sh dev        runtime + test tools
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"

need_debian=()
python_ok() { command -v python3 >/dev/null && python3 -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
python_ok || need_debian+=(python3 python3-venv python3-dev)
command -v npm >/dev/null || need_debian+=(nodejs npm)
if [ "$profile" = "dev" ] && [ -f scripts/debian-packages-dev.txt ]; then
  while read -r pkg; do
    [ -z "$pkg" ] || [ "${pkg#\#}" != "$pkg" ] && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || need_debian+=("$pkg")
  done < scripts/debian-packages-dev.txt
fi
if [ "${#need_debian[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need_debian[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_debian[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$profile" = "dev" ]; then
  .venv/bin/python -m pip install -q -e '.[dev]'
else
  .venv/bin/python -m pip install -q -e .
fi

# The web console's browser libraries (Leaflet, world-atlas outlines), from the lock file, copied into
# the package so that the node serves them itself: nothing is loaded from a CDN.
npm ci --no-audit --no-fund --loglevel=error
.venv/bin/python -c 'from pathlib import Path; from tearline.web.console.assets import vendor; vendor(Path("node_modules"))'
