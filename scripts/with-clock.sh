#!/usr/bin/env bash
# Run a command with the wall clock of every Python process it starts moved by OFFSET
# ("+365d", "-2h"): the tests and the servers and workers they start.
# tests/clock_ahead/sitecustomize.py does the moving; PORTAL_TEST_REAL_EPOCH lets the suite
# check that each process moved.
set -euo pipefail
offset=${1:?usage: with-clock.sh OFFSET COMMAND...}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
export PORTAL_TEST_REAL_EPOCH=$(date +%s)
export PORTAL_TEST_CLOCK_AHEAD=$offset
export PYTHONPATH=$root/tests/clock_ahead${PYTHONPATH:+:$PYTHONPATH}
echo "[clock] every Python process $offset from $(date -u '+%Y-%m-%d %H:%M UTC')"
exec "$@"
