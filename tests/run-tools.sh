#!/usr/bin/env bash
# Runs every tests/tools/*.sh (one script per host tool: quantize, prune, factorize, compare,
# ...) with the CLI path as $1. Each script prints its own failures and exits non-zero on any.
set -uo pipefail
cli=${1:-build/edgerun}
rc=0
for t in tests/tools/*.sh; do
  [ -e "$t" ] || continue
  echo "== $t"
  bash "$t" "$cli" || rc=1
done
exit $rc
