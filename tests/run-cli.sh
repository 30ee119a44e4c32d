#!/usr/bin/env bash
# CLI contract and bad-input behaviour: every failure exits non-zero with exactly one line on
# stderr, never a crash (exit >= 128) and never silence.
set -uo pipefail
cli=${1:-build/edgerun}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
node=/usr/share/libonnx-testdata/data/node
add=$node/test_add

expect_fail() { # name, expected substring, command...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$tmp/err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc, $lines stderr line(s), wanted '$want':"; sed 's/^/    /' "$tmp/err" | head -5
  fi
}
expect_ok() { # name, command...
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $name:"; sed 's/^/    /' "$tmp/err" | head -5; fi
}

# good run writes output_0.npy
expect_ok run_add "$cli" run "$add/model.onnx" -i "$add/test_data_set_0/input_0.pb" -i "$add/test_data_set_0/input_1.pb" -o "$tmp/o"
if [ -f "$tmp/o/output_0.npy" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL run_add: no output_0.npy"; fi
expect_ok inspect "$cli" inspect "$add/model.onnx"
expect_ok inspect_json "$cli" inspect --json "$add/model.onnx"
expect_ok help "$cli" run --help
expect_ok bench_json "$cli" bench "$add/model.onnx" --runs 3 --warmup 1 --json
if grep -q '"median_ms"' "$tmp/out" && grep -q '"peak_rss_kb"' "$tmp/out"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL bench_json: missing fields"; fi
expect_ok bench_profile "$cli" bench "$add/model.onnx" --runs 2 --per-op --profile "$tmp/trace.json"
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['traceEvents'] and d['traceEvents'][0]['cat']=='Add'" "$tmp/trace.json"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL bench_profile: bad trace"; fi
bf=$node/test_cast_BFLOAT16_to_FLOAT  # input stored as uint16 bit patterns
expect_ok bench_bf16_bits "$cli" bench "$bf/model.onnx" -i "$bf/test_data_set_0/input_0.pb" --runs 2 --json
expect_fail bench_bad_runs "--runs needs" "$cli" bench "$add/model.onnx" --runs 0

expect_fail missing_model "cannot" "$cli" run "$tmp/nope.onnx"
head -c 37 "$add/model.onnx" >"$tmp/trunc.onnx"
expect_fail truncated_model "trunc.onnx" "$cli" run "$tmp/trunc.onnx" -i "$add/test_data_set_0/input_0.pb" -i "$add/test_data_set_0/input_1.pb"
printf 'this is not a model' >"$tmp/garbage.onnx"
expect_fail garbage_model "garbage.onnx" "$cli" run "$tmp/garbage.onnx"
expect_fail wrong_input_count "expects 2 input" "$cli" run "$add/model.onnx" -i "$add/test_data_set_0/input_0.pb"
expect_fail wrong_input_type "expects float32" "$cli" run "$add/model.onnx" -i "$node/test_and3d/test_data_set_0/input_0.pb" -i "$add/test_data_set_0/input_1.pb"
expect_fail wrong_input_shape "expects shape" "$cli" run "$add/model.onnx" -i "$node/test_abs/test_data_set_0/input_0.pb" -i "$node/test_add_bcast/test_data_set_0/input_1.pb"
expect_fail missing_input_file "nope.npy" "$cli" run "$add/model.onnx" -i "$tmp/nope.npy" -i "$add/test_data_set_0/input_1.pb"
printf 'xx' >"$tmp/bad.npy"
expect_fail bad_input_file "bad.npy" "$cli" run "$add/model.onnx" -i "$tmp/bad.npy" -i "$add/test_data_set_0/input_1.pb"
expect_fail unknown_option "unknown option" "$cli" run "$add/model.onnx" --bogus
expect_fail unknown_command "unknown command" "$cli" frobnicate
d=tests/data/import
expect_fail unsupported_op "unsupported operator NoSuchOp (opset 17) at node 'mystery'" "$cli" run $d/unsupported_op.onnx
expect_ok inspect_unsupported "$cli" inspect $d/unsupported_op.onnx
if grep -q "unsupported operator NoSuchOp (opset 17) at 1 node(s), first 'mystery'" "$tmp/out"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL inspect_unsupported: not listed"; fi
expect_fail cycle "cycle" "$cli" run $d/cycle.onnx
expect_fail missing_input "not defined" "$cli" run $d/missing_input.onnx
expect_fail absurd_dims "absurd_dims.onnx" "$cli" run $d/absurd_dims.onnx
expect_fail external_escape "external_escape.onnx" "$cli" run $d/external_escape.onnx
expect_fail external_missing "external_missing.onnx" "$cli" run $d/external_missing.onnx
echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
