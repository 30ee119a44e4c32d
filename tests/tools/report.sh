#!/usr/bin/env bash
# scripts/compression-report.py --quick (the digits rows of docs/compression.md) as a smoke
# test: the script runs end to end on the CLI under test, the tables have every expected row,
# and the accuracy relations that must hold do (--check: int8 drop <= 0.5 points, int4 <= 2,
# edgerun and ONNX Runtime within 0.2 points on every file, ...). Never timings.
set -uo pipefail
cli=${1:-build/edgerun}
source "$(dirname "$0")/lib.bash"

if ! /usr/bin/python3 scripts/make-digits.py --out .cache/digits >"$tmp/log" 2>&1; then
  echo "FAIL report: make-digits (python3-torch, python3-sklearn): $(tail -3 "$tmp/log")"
  exit 1
fi
expect_run() {  # like expect_ok, but the script's progress lines on stderr are fine
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $name:"; grep -v '^compression-report: [a-z]* \.\.\.$' "$tmp/err" | head -8 | sed 's/^/    /'; fi
}
expect_run quick python3 scripts/compression-report.py --quick --cli "$cli" --out "$tmp/c.md" --json "$tmp/c.json" --check

# every technique row, in both tables
for v in "float" "int8 static, percentile (default)" "int8 static, min-max" "int8 static, entropy" \
    "ORT quantize_static (QDQ, per-channel, min-max)" "int8 dynamic (weight-only QDQ)" "int8 dynamic, QOperator" \
    "int4 weights (block 64)" "fp16 weights" "prune 70 % unstructured"; do
  check "rows: $v" [ "$(grep -cF "| $v |" "$tmp/c.md")" = 2 ]
done
check "rows: prune 50 % structured (CNN)" [ "$(grep -cF "| prune 50 % structured |" "$tmp/c.md")" = 1 ]
check "rows: factorize (MLP)" [ "$(grep -cF "| factorize rank 0.5 |" "$tmp/c.md")" = 1 ]
check "sections" grep -q "^## Targets of issue 4" "$tmp/c.md"
check "what is missing" grep -q "^## What is missing" "$tmp/c.md"
check "machine line" grep -qE "^- date [0-9]{4}-[0-9]{2}-[0-9]{2} .*commit [0-9a-f]{12}" "$tmp/c.md"
# the JSON rows: accuracies in both engines for every digits file, the int8 file really int8
check "json" python3 - "$tmp/c.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d["rows"] if r["section"] == "digits"]
assert len(rows) == 22, len(rows)
for r in rows:
    assert r["acc_er"] is not None and r["acc_ort"] is not None, r["variant"]
    assert r["acc_er"] >= 50, (r["model"], r["variant"], r["acc_er"])
q = {(r["model"], r["key"]): r for r in rows}
for m in ("digits_cnn", "digits_mlp"):
    assert q[(m, "float")]["acc_er"] >= 95, m
    assert q[(m, "int8")]["smaller"] > 3.3 and q[(m, "int4")]["mm_bytes"] * 7 <= q[(m, "float")]["mm_bytes"], m
EOF

finish report
