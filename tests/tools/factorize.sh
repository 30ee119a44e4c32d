#!/usr/bin/env bash
# edgerun factorize: low-rank factorization of real models (the written files pass
# onnx.checker and run in ONNX Runtime and edgerun with the same outputs), exactness on
# low-rank weights, reports, one-line errors with the exit codes of tools/edgerun/cli.h, and
# a progress line only on a terminal.
set -uo pipefail
cli=${1:-build/edgerun}
source "$(dirname "$0")/lib.bash"
here=$(dirname "$0")
tb=$models/bench/tinybert.onnx
mv3=$models/bench/mobilenet_v3_small.onnx

expect_ok tinybert "$cli" factorize "$tb" -o "$tmp/tb.onnx" --rank-ratio 0.5 --json
check tinybert_report python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
f=[l for l in d['layers'] if l['skipped'] is None]
assert d['factorized'] == len(f) == 8 and d['params_after'] < d['params_before'], d
assert all(l['rank'] == 156 and l['params_after'] == 156 * (l['k'] + l['n']) and 0 < l['rel_error'] < 1 for l in f)
assert all(l['skipped'] == 'rank too high to save parameters' for l in d['layers'] if l['k'] == l['n'] == 312)" "$tmp/out"
check tinybert_ort python3 "$here/ort_agree.py" "$cli" "$tmp/tb.onnx"
expect_ok gemm_transB "$cli" factorize "$mv3" -o "$tmp/mv3.onnx" --rank-ratio 0.25
check gemm_text grep -q "2 of 2 weights factorized" "$tmp/out"
check gemm_ort python3 "$here/ort_agree.py" "$cli" "$tmp/mv3.onnx"
# weights of rank 4 and 3 at ranks 5 and 4: the same outputs
expect_ok lowrank "$cli" factorize tests/data/compress/lowrank.onnx -o "$tmp/lr.onnx" --rank-ratio 0.1 --min-size 1000
expect_ok lowrank_compare "$cli" compare tests/data/compress/lowrank.onnx "$tmp/lr.onnx" --runs 0 --json
check lowrank_exact python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert all(o['a_vs_b']['max_abs'] < 1e-3 and o['a_vs_b']['cosine'] > 0.999999 for o in d['outputs']), d" "$tmp/out"

# usage errors (2)
expect_fail no_model 2 "no model given" "$cli" factorize
expect_fail no_output 2 "no output given" "$cli" factorize "$tb" --rank-ratio 0.5
expect_fail no_ratio 2 "--rank-ratio is required" "$cli" factorize "$tb" -o "$tmp/x.onnx"
expect_fail ratio_zero 2 "--rank-ratio needs a number in (0, 1]" "$cli" factorize "$tb" -o "$tmp/x.onnx" --rank-ratio 0
expect_fail ratio_big 2 "got '1.5'" "$cli" factorize "$tb" -o "$tmp/x.onnx" --rank-ratio 1.5
expect_fail bad_min_size 2 "--min-size needs a whole number" "$cli" factorize "$tb" -o "$tmp/x.onnx" --rank-ratio 0.5 --min-size 2.5
expect_fail unknown_option 2 "unknown option" "$cli" factorize "$tb" -o "$tmp/x.onnx" --rank-ratio 0.5 --svd
# model errors (3)
expect_fail missing_model 3 "$tmp/none.onnx: cannot open" "$cli" factorize "$tmp/none.onnx" -o "$tmp/x.onnx" --rank-ratio 0.5
printf 'garbage' >"$tmp/garbage.onnx"
expect_fail garbage_model 3 "garbage.onnx" "$cli" factorize "$tmp/garbage.onnx" -o "$tmp/x.onnx" --rank-ratio 0.5
expect_fail nothing_big_enough 3 "nothing to factorize: 1 Gemm/MatMul weight(s)" "$cli" factorize "$models/tv_resnet18.onnx" -o "$tmp/x.onnx" --rank-ratio 0.5 --min-size 100000000
expect_fail nothing_saves 3 "none saves parameters at rank ratio 0.9" "$cli" factorize "$tb" -o "$tmp/x.onnx" --rank-ratio 0.9
check no_output_written [ ! -e "$tmp/x.onnx" ]
expect_fail unwritable 1 "$tmp/no/dir/x.onnx: cannot create" "$cli" factorize "$mv3" -o "$tmp/no/dir/x.onnx" --rank-ratio 0.25

# progress: nothing on stderr when it is not a terminal (expect_ok above); shown on a terminal
if command -v script >/dev/null; then
  script -qec "$cli factorize $tb -o $tmp/tty.onnx --rank-ratio 0.5 >/dev/null" /dev/null >"$tmp/tty" 2>&1
  check progress_on_tty grep -q "factorize: SVD \[" "$tmp/tty"
fi
finish factorize
