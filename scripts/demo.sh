#!/usr/bin/env bash
# Fresh machine to a running demo: set up, then build and serve the fictional scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/tearline demo "$@"
