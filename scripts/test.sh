#!/usr/bin/env bash
# Fresh machine to a passing test suite: set up with the test tools, lint, type-check, test.
# PostgreSQL must be reachable (TEARLINE_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/test);
# under CI=true its tests are required and an unreachable server fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
.venv/bin/ruff check tearline tests
.venv/bin/mypy tearline
workers="${TEARLINE_TEST_WORKERS:-2}"
exec .venv/bin/pytest -n "$workers" -p no:cacheprovider --durations=25 "$@"
