#!/usr/bin/env bash
# run-models.sh — run the real models with the edgerun CLI and compare with ONNX Runtime.
#
#   tests/run-models.sh [CLI] [CASE...]        (CLI default: build/edgerun)
#
# Cases come from tests/models/models.json (made by scripts/make-references.py): a model in
# .cache/models/ (scripts/setup-test.sh fetches/exports them), inputs and reference outputs
# in tests/models/refs/. For each case: `CLI run MODEL -i IN... -o TMP`, then each
# TMP/output_K.npy is compared with the reference (tests/compare_npy.py: rtol and
# atol = atol_rel * max(max|ref|, scale) from the manifest; scale is 1 for probabilities).
# One line per case, then `N passed, N failed`. A case whose model file is missing FAILS:
# fetching is part of the test. Exit status 1 if any case failed. MODELS_DIR overrides .cache/models;
# ER_MODEL_TIMEOUT (seconds, default 600) bounds each run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${1:-$ROOT/build/edgerun}
[ $# -gt 0 ] && shift
case "$CLI" in /*) ;; *) CLI=$PWD/$CLI ;; esac
MODELS_DIR=${MODELS_DIR:-$ROOT/.cache/models}
REFS=$ROOT/tests/models/refs
MANIFEST=$ROOT/tests/models/models.json
TIMEOUT=${ER_MODEL_TIMEOUT:-600}
PY=${PYTHON:-python3}

if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "run-models: $PY has no numpy (run scripts/setup-test.sh)" >&2; exit 2
fi
# name <TAB> model <TAB> rtol <TAB> atol_rel <TAB> scale <TAB> inputs <TAB> outputs (lists: spaces)
cases=$("$PY" - "$MANIFEST" "$@" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
want = set(sys.argv[2:])
for c in m["cases"]:
    if want and c["name"] not in want:
        continue
    print("\t".join([c["name"], c["model"], str(c.get("rtol", 1e-3)), str(c.get("atol_rel", 1e-4)), str(c.get("scale", 0)),
                     " ".join(c["inputs"]), " ".join(c["outputs"])]))
PYEOF
) || { echo "run-models: cannot read $MANIFEST" >&2; exit 2; }
[ -n "$cases" ] || { echo "run-models: no case selected" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
while IFS=$'\t' read -r name model rtol atol scale inputs outputs; do
  model_path=$MODELS_DIR/$model
  if [ ! -s "$model_path" ]; then
    printf 'FAIL %-26s model %s missing (scripts/setup-test.sh fetches it)\n' "$name" "$model"
    failed=$((failed + 1)); continue
  fi
  if [ ! -x "$CLI" ]; then
    printf 'FAIL %-26s no CLI at %s\n' "$name" "$CLI"
    failed=$((failed + 1)); continue
  fi
  args=()
  for f in $inputs; do args+=(-i "$REFS/$f"); done
  out=$tmp/$name; mkdir -p "$out"
  t0=$(date +%s%N)
  # (the braces keep bash's own "Aborted"/"Segmentation fault" notice off our output)
  { timeout "$TIMEOUT" "$CLI" run "$model_path" "${args[@]}" -o "$out" </dev/null \
      >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"; rc=$?; } 2>/dev/null
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ $rc -ne 0 ]; then
    why=$(head -n1 "$tmp/$name.stderr")
    [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
    if [ $rc -gt 128 ] && [ $rc -ne 124 ]; then
      why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))${why:+: $why}"
    fi
    printf 'FAIL %-26s exit %d: %s\n' "$name" $rc "${why:-no message}"
    failed=$((failed + 1)); continue
  fi
  pairs=() k=0 missing=""
  for f in $outputs; do
    [ -f "$out/output_$k.npy" ] || missing+=" output_$k.npy"
    pairs+=("$out/output_$k.npy" "$REFS/$f"); k=$((k + 1))
  done
  if [ -n "$missing" ]; then
    printf 'FAIL %-26s missing%s\n' "$name" "$missing"
    failed=$((failed + 1)); continue
  fi
  if [ -f "$out/output_$k.npy" ]; then
    printf 'FAIL %-26s wrote more outputs than the graph has (%d)\n' "$name" $k
    failed=$((failed + 1)); continue
  fi
  if msg=$("$PY" "$ROOT/tests/compare_npy.py" --rtol "$rtol" --atol-rel "$atol" --scale "$scale" "${pairs[@]}"); then
    printf 'PASS %-26s %s %dms\n' "$name" "$msg" $ms
    passed=$((passed + 1))
  else
    printf 'FAIL %-26s %s\n' "$name" "$msg"
    failed=$((failed + 1))
  fi
  rm -rf "$out"
done <<<"$cases"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
