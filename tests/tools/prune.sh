#!/usr/bin/env bash
# edgerun prune: structured and unstructured pruning of real models (the written files pass
# onnx.checker and run in ONNX Runtime and edgerun with the same outputs, and really shrink),
# reports, and one-line errors with the exit codes of tools/edgerun/cli.h.
set -uo pipefail
cli=${1:-build/edgerun}
source "$(dirname "$0")/lib.bash"
here=$(dirname "$0")
mb=$models/tv_mobilenet_v2.onnx
cls=$models/ch_ppocr_mobile_v2.0_cls_infer.onnx
refs=tests/models/refs

# structured: mobilenet_v2 (depthwise, residual Adds), squeezenet (Concat), PaddleOCR cls
# (BatchNormalization, hard-swish, squeeze-and-excitation)
expect_ok structured_mb "$cli" prune "$mb" -o "$tmp/mb_s.onnx" --sparsity 0.5 --structured --json
check structured_mb_report python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['structured'] and d['pruned'] >= 30 and d['params_after'] < 0.45 * d['params_before'], d
L=[l for l in d['layers'] if l['skipped'] is None]
assert all(l['channels_after'] < l['channels'] for l in L)" "$tmp/out"
check structured_mb_ort python3 "$here/ort_agree.py" "$cli" "$tmp/mb_s.onnx"
expect_ok structured_mb_compare "$cli" compare "$mb" "$tmp/mb_s.onnx" --runs 3 --samples 1 --json
check structured_mb_smaller python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['size_ratio'] < 0.45, d" "$tmp/out"
expect_ok structured_squeezenet "$cli" prune "$models/bench/squeezenet1_1.onnx" -o "$tmp/sq_s.onnx" --sparsity 0.3 --structured
check structured_squeezenet_ort python3 "$here/ort_agree.py" "$cli" "$tmp/sq_s.onnx"
expect_ok structured_cls "$cli" prune "$cls" -o "$tmp/cls_s.onnx" --sparsity 0.25 --structured
check structured_cls_ort python3 "$here/ort_agree.py" "$cli" "$tmp/cls_s.onnx" "$refs/ppocr_cls/input_0.npy"
check structured_text grep -q "layers pruned; parameters" "$tmp/out"
# a skipped layer names the reason and the node
check structured_skip_listed grep -q "skipped: consumed by Shape (node 'p2o.Shape.0')" "$tmp/out"
expect_ok exclude "$cli" prune "$mb" -o "$tmp/mb_x.onnx" --sparsity 0.5 --structured --exclude /features/features.0/features.0.0/Conv,/features/features.1/conv/conv.1/Conv --json
check exclude_listed python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); l={x['node']: x for x in d['layers']}
assert l['/features/features.0/features.0.0/Conv']['skipped'] == 'excluded', l" "$tmp/out"

# unstructured: same shapes, per-layer sparsity
expect_ok unstructured "$cli" prune "$mb" -o "$tmp/mb_u.onnx" --sparsity 0.7 --json
check unstructured_report python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['params_after'] == d['params_before'] and d['nonzero_after'] < 0.35 * d['nonzero_before'], d
assert all(abs(l['zeros_after'] - round(0.7 * l['params'])) <= 1 for l in d['layers'] if l['skipped'] is None)" "$tmp/out"
check unstructured_ort python3 "$here/ort_agree.py" "$cli" "$tmp/mb_u.onnx"
# the sparse kernels (kernels/sparse.h) on pruned files, forced on every candidate node
# (ER_SPARSE=1) and by the rule: squeezenet's 1x1 expand convs write into their Concat in
# place (rows out_ld apart), tinybert's MatMuls / Gemms
check sparse_mb_ort env ER_SPARSE=1 python3 "$here/ort_agree.py" "$cli" "$tmp/mb_u.onnx"
expect_ok unstructured_sq90 "$cli" prune "$models/bench/squeezenet1_1.onnx" -o "$tmp/sq_u.onnx" --sparsity 0.9
check sparse_squeezenet_ort env ER_SPARSE=1 python3 "$here/ort_agree.py" "$cli" "$tmp/sq_u.onnx"
check sparse_squeezenet_rule_ort python3 "$here/ort_agree.py" "$cli" "$tmp/sq_u.onnx"
expect_ok unstructured_tinybert90 "$cli" prune "$models/bench/tinybert.onnx" -o "$tmp/tb_u.onnx" --sparsity 0.9
check sparse_tinybert_ort python3 "$here/ort_agree.py" "$cli" "$tmp/tb_u.onnx"

# usage errors (2)
expect_fail no_model 2 "no model given" "$cli" prune
expect_fail no_output 2 "no output given" "$cli" prune "$mb" --sparsity 0.5
expect_fail no_sparsity 2 "--sparsity is required" "$cli" prune "$mb" -o "$tmp/x.onnx"
expect_fail sparsity_one 2 "--sparsity needs a number in [0, 1)" "$cli" prune "$mb" -o "$tmp/x.onnx" --sparsity 1
expect_fail sparsity_text 2 "got 'half'" "$cli" prune "$mb" -o "$tmp/x.onnx" --sparsity half
expect_fail unknown_option 2 "unknown option" "$cli" prune "$mb" -o "$tmp/x.onnx" --sparsity 0.5 --fast
expect_fail exclude_unknown 2 "excluded node 'nope' is not in the model" "$cli" prune "$mb" -o "$tmp/x.onnx" --sparsity 0.5 --exclude nope
# model errors (3)
expect_fail missing_model 3 "$tmp/none.onnx: cannot open" "$cli" prune "$tmp/none.onnx" -o "$tmp/x.onnx" --sparsity 0.5
printf 'garbage' >"$tmp/garbage.onnx"
expect_fail garbage_model 3 "garbage.onnx" "$cli" prune "$tmp/garbage.onnx" -o "$tmp/x.onnx" --sparsity 0.5
expect_fail nothing_to_prune 3 "nothing to prune: no Conv/Gemm/MatMul layer" "$cli" prune "$node/test_add/model.onnx" -o "$tmp/x.onnx" --sparsity 0.5
expect_fail nothing_structured 3 "none can be pruned (first: 'Conv_2': consumed by Unsqueeze)" "$cli" prune "$models/melspectrogram.onnx" -o "$tmp/x.onnx" --sparsity 0.5 --structured
check no_output_written [ ! -e "$tmp/x.onnx" ]
# write errors (1), nothing left behind
expect_fail unwritable 1 "$tmp/no/dir/x.onnx: cannot create" "$cli" prune "$mb" -o "$tmp/no/dir/x.onnx" --sparsity 0.5
check no_temp_files [ -z "$(ls "$tmp" | grep '\.tmp')" ]
finish prune
