#!/usr/bin/env bash
# edgerun compare: agreement numbers on identical / different models, data folders with
# reference outputs, one-line errors with the exit codes of tools/edgerun/cli.h, and a
# progress line only on a terminal.
set -uo pipefail
cli=${1:-build/edgerun}
source "$(dirname "$0")/lib.bash"
rt=$(dirname "$cli")/tests/roundtrip
cls=$models/ch_ppocr_mobile_v2.0_cls_infer.onnx
mb=$models/tv_mobilenet_v2.onnx
"$rt" "$cls" "$tmp/cls.onnx" || echo "FAIL compare: roundtrip of $cls"
"$rt" "$mb" "$tmp/mb.onnx" || echo "FAIL compare: roundtrip of $mb"

# the same model written back: exact agreement, sizes about equal
expect_ok same_json "$cli" compare "$mb" "$tmp/mb.onnx" --runs 3 --samples 3 --json
cp "$tmp/out" "$tmp/same.json"
check same_exact [ "$(json_get "$tmp/same.json" 'd["outputs"][0]["a_vs_b"]["max_abs"], d["outputs"][0]["a_vs_b"]["top1"], d["samples"], d["runs"]')" = "0 1.0 3 3" ]
check same_size python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 0.95 < d['size_ratio'] <= 1 and d['a']['median_ms'] > 0" "$tmp/same.json"
expect_ok same_text "$cli" compare "$mb" "$tmp/mb.onnx" --runs 1 --samples 1
check text_table grep -q "top-1 agreement" "$tmp/out"

# data folder with reference outputs (two samples), and without timing
mkdir -p "$tmp/data/s1" "$tmp/data/s2"
cp tests/models/refs/ppocr_cls/input_0.npy tests/models/refs/ppocr_cls/output_0.npy "$tmp/data/s1/"
cp tests/models/refs/ppocr_cls/input_0.npy "$tmp/data/s2/"
expect_ok data_refs "$cli" compare "$cls" "$tmp/cls.onnx" --data "$tmp/data" --runs 0 --json
check data_fields python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); o=d['outputs'][0]
assert d['samples'] == 2 and d['runs'] == 0 and d['latency_ratio'] is None, d
assert o['reference_samples'] == 1 and o['a_vs_reference']['max_abs'] < 1e-4 and o['b_vs_reference']['top1'] == 1.0, o" "$tmp/out"

# two different models with the same inputs: disagreement is reported, not an error
add=$node/test_add/model.onnx
"$rt" "$node/test_sub/model.onnx" "$tmp/sub.onnx"
expect_ok different "$cli" compare "$add" "$tmp/sub.onnx" --runs 0 --json
check different_numbers python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))['outputs'][0]['a_vs_b']
assert d['max_abs'] > 0.1 and d['cosine'] < 0.9 and d['rows'] == 0 and d['top1'] is None, d" "$tmp/out"

# usage errors (2)
expect_fail one_model 2 "needs two models" "$cli" compare "$add"
expect_fail three_models 2 "more than two" "$cli" compare "$add" "$add" "$add"
expect_fail bad_runs 2 "--runs needs a whole number" "$cli" compare "$add" "$add" --runs -1
expect_fail bad_threads 2 "--threads needs" "$cli" compare "$add" "$add" --threads 0
expect_fail bad_option 2 "unknown option" "$cli" compare "$add" "$add" --frob
expect_fail missing_value 2 "missing value '--data'" "$cli" compare "$add" "$add" --data
# model errors (3)
expect_fail missing_model 3 "$tmp/nope.onnx" "$cli" compare "$add" "$tmp/nope.onnx"
printf 'not a model' >"$tmp/garbage.onnx"
expect_fail garbage_model 3 "garbage.onnx" "$cli" compare "$tmp/garbage.onnx" "$add"
expect_fail input_count 3 "different inputs: $add has 2" "$cli" compare "$add" "$node/test_abs/model.onnx"
expect_fail input_type 3 "input 0 differs: 'x' is float32" "$cli" compare "$add" "$node/test_and3d/model.onnx"
expect_fail input_shape 3 "input 1 differs: 'y' has shape [3,4,5]" "$cli" compare "$add" "$node/test_add_bcast/model.onnx"
python3 - "$tmp" <<'PY'
import sys, onnx
from onnx import helper as h, TensorProto as T
x = [h.make_tensor_value_info("x", T.FLOAT, [2, 3])]
def save(name, nodes, outs):
    onnx.save(h.make_model(h.make_graph(nodes, name, x, [h.make_tensor_value_info(o, T.FLOAT, None) for o in outs]),
                           opset_imports=[h.make_opsetid("", 17)]), f"{sys.argv[1]}/{name}.onnx")
save("one", [h.make_node("Relu", ["x"], ["y"])], ["y"])
save("two", [h.make_node("Relu", ["x"], ["y"]), h.make_node("Neg", ["x"], ["z"])], ["y", "z"])
save("flat", [h.make_node("Flatten", ["x"], ["y"], axis=0)], ["y"])
PY
expect_fail output_count 3 "different outputs: $tmp/one.onnx has 1" "$cli" compare "$tmp/one.onnx" "$tmp/two.onnx"
expect_fail output_shape 3 "output 0 ('y') has shape [2,3] in $tmp/one.onnx but [1,6]" "$cli" compare "$tmp/one.onnx" "$tmp/flat.onnx" --runs 0
# data errors (4)
expect_fail data_missing 4 "$tmp/nodata: cannot open data folder" "$cli" compare "$cls" "$cls" --data "$tmp/nodata"
mkdir -p "$tmp/empty"
expect_fail data_empty 4 "no sample folders" "$cli" compare "$cls" "$cls" --data "$tmp/empty"
mkdir -p "$tmp/two/s0"
cp tests/models/refs/ppocr_cls/input_0.npy "$tmp/two/s0/input_0.npy"
cp tests/models/refs/ppocr_cls/input_0.npy "$tmp/two/s0/input_1.npy"
expect_fail data_count 4 "samples have 2 input file(s), the model has 1" "$cli" compare "$cls" "$cls" --data "$tmp/two"
mkdir -p "$tmp/badf/s0"
printf 'garbage' >"$tmp/badf/s0/input_0.npy"
expect_fail data_bad_file 4 "$tmp/badf/s0/input_0.npy" "$cli" compare "$cls" "$cls" --data "$tmp/badf"
mkdir -p "$tmp/wrong/s0"
cp "$node/test_abs/test_data_set_0/input_0.pb" "$tmp/wrong/s0/input_0.pb"
expect_fail data_wrong_shape 4 "$tmp/wrong/s0" "$cli" compare "$cls" "$cls" --data "$tmp/wrong"
mkdir -p "$tmp/badref/s0"
cp tests/models/refs/ppocr_cls/input_0.npy "$tmp/badref/s0/"
cp tests/models/refs/ppocr_cls/input_0.npy "$tmp/badref/s0/output_0.npy"
expect_fail data_bad_reference 4 "reference output_0 has shape" "$cli" compare "$cls" "$cls" --data "$tmp/badref" --runs 0

# progress: nothing on stderr when it is not a terminal (expect_ok above); shown on a terminal
if command -v script >/dev/null; then
  script -qec "$cli compare $cls $tmp/cls.onnx --runs 2 --samples 2 >/dev/null" /dev/null >"$tmp/tty" 2>&1
  check progress_on_tty grep -q "compare: samples \[" "$tmp/tty"
fi
finish compare
