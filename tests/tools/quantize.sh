#!/usr/bin/env bash
# edgerun quantize, end to end, on the small models of tests/data/quant (make.py) and, when
# present, tv_mobilenet_v2:
#  - the output passes onnx.checker, ONNX Runtime loads it, fuses its Q/DQ pairs into integer
#    ops (QLinearConv, QGemm ...) and its outputs are close to the float model's;
#  - edgerun runs the same file with outputs close to ONNX Runtime's;
#  - every mode (static min-max/percentile/entropy, per-tensor, int8 activations, --dynamic,
#    --weights int4, --fp16, --exclude, an opset-9 model upgraded) and --json;
#  - bad input gets exit code and one clear line: missing/empty calibration folder, samples
#    of the wrong shape, count or dtype, a model with nothing to quantize, bad options.
set -uo pipefail
cli=${1:-build/edgerun}
data=tests/data/quant
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# calibration folders: NAME -> shape (4 samples of smooth random data)
python3 - "$tmp" <<'EOF' || { echo "FAIL quantize: cannot make calibration data (numpy)"; exit 1; }
import os, sys
import numpy as np
tmp = sys.argv[1]
rng = np.random.RandomState(7)
sets = {"cnn": [(1, 3, 8, 8)], "branches": [(1, 4, 6, 6)], "mlp": [(1, 64)], "lstm": [(5, 1, 4)],
        "old": [(1, 2, 5, 5)], "nothing": [(1, 8)], "two_in": [(1, 16), (1, 16)],
        "if": [(1, 4, 6, 6)], "loop": [(1, 16)]}
for name, shapes in sets.items():
    for s in range(4):
        d = f"{tmp}/calib_{name}/s{s}"
        os.makedirs(d)
        for k, shp in enumerate(shapes):
            np.save(f"{d}/input_{k}.npy", rng.standard_normal(shp).astype(np.float32))
    d = f"{tmp}/test_{name}"
    os.makedirs(d)
    for k, shp in enumerate(shapes):
        np.save(f"{d}/input_{k}.npy", rng.standard_normal(shp).astype(np.float32))
# bad sets
def one(path, arr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, arr)
one(f"{tmp}/bad_shape/s0/input_0.npy", np.zeros((1, 3, 9, 9), np.float32))
one(f"{tmp}/bad_dtype/s0/input_0.npy", np.zeros((1, 3, 8, 8), np.float64))
one(f"{tmp}/bad_count/s0/input_0.npy", np.zeros((1, 3, 8, 8), np.float32))
one(f"{tmp}/bad_count/s0/input_1.npy", np.zeros((1, 3, 8, 8), np.float32))
os.makedirs(f"{tmp}/empty")
EOF

# check FLOAT QUANT NAME [min cosine] [integer op that ORT must fuse to]: checker, ORT vs
# float on the test input, edgerun vs ORT on the same quantized file
check() {
  local f=$1 q=$2 name=$3 mincos=${4:-0.99} fused=${5:-}
  local args=()
  for i in "$tmp/test_$name"/input_*.npy; do args+=(-i "$i"); done
  rm -rf "$tmp/out"
  if ! "$cli" run "$q" "${args[@]}" -o "$tmp/out" 2>"$tmp/err"; then
    bad "$q: edgerun run failed: $(cat "$tmp/err")"
    return
  fi
  if python3 - "$f" "$q" "$tmp/test_$name" "$tmp/out" "$mincos" "$fused" <<'EOF' 2>"$tmp/err"; then ok; else bad "$q: $(tail -3 "$tmp/err")"; fi
import glob, sys, warnings
import numpy as np, onnx, onnxruntime as ort
f, q, d, out, mincos, fused = sys.argv[1:]
onnx.checker.check_model(onnx.load(q), full_check=True)
so = ort.SessionOptions()
so.log_severity_level = 3
if fused:
    so.optimized_model_filepath = q + ".ort.onnx"
sf = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
sq = ort.InferenceSession(q, so, providers=["CPUExecutionProvider"])
feeds = {i.name: np.load(f"{d}/input_{k}.npy") for k, i in enumerate(sf.get_inputs())}
a, b = sf.run(None, feeds), sq.run(None, feeds)
for k, (x, y) in enumerate(zip(a, b)):
    cos = float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum() + 1e-30))
    assert cos >= float(mincos), f"output {k}: cosine(float, ORT quantized) {cos:.5f} < {mincos}"
    e = np.load(f"{out}/output_{k}.npy")
    tol = 0.02 * max(1e-6, float(np.abs(y).max()))
    assert np.abs(e - y).max() <= tol, f"output {k}: edgerun vs ORT on the quantized model: max diff {np.abs(e - y).max()} > {tol}"
if fused:
    ops = {n.op_type for n in onnx.load(q + ".ort.onnx").graph.node}
    assert fused in ops, f"ONNX Runtime did not fuse to {fused}: {sorted(ops)}"
EOF
}

# ort_fused FILE OP N: the file passes onnx.checker and ONNX Runtime's optimizer makes at
# least N nodes OP of it, counting inside subgraphs
ort_fused() {
  python3 - "$@" <<'EOF' 2>"$tmp/err" && ok || bad "$1: $(tail -2 "$tmp/err")"
import sys, onnx, onnxruntime as ort
f, op, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
onnx.checker.check_model(onnx.load(f), full_check=True)
so = ort.SessionOptions(); so.log_severity_level = 3; so.optimized_model_filepath = f + ".ort.onnx"
ort.InferenceSession(f, so, providers=["CPUExecutionProvider"])
ops = []
def walk(g):
    for nd in g.node:
        ops.append(nd.op_type)
        for a in nd.attribute:
            if a.type == onnx.AttributeProto.GRAPH: walk(a.g)
walk(onnx.load(f + ".ort.onnx").graph)
assert ops.count(op) >= n, f"ONNX Runtime made {ops.count(op)} {op}, expected {n}: {sorted(set(ops))}"
EOF
}

# quantize NAME OUT [options...]: runs, expects exit 0
quant() {
  local name=$1 out=$2
  shift 2
  if "$cli" quantize "$data/$name.onnx" -o "$out" "$@" >"$tmp/log" 2>"$tmp/err"; then
    return 0
  fi
  bad "quantize $name $*: exit $?: $(cat "$tmp/err")"
  return 1
}

# ---- static, every calibration method --------------------------------------------------
quant cnn "$tmp/cnn.q.onnx" --calib "$tmp/calib_cnn" && check "$data/cnn.onnx" "$tmp/cnn.q.onnx" cnn 0.99 QLinearConv
grep -q "quantized: 4 node(s) (Conv 1, MaxPool 1, Flatten 1, Gemm 1)" "$tmp/log" && grep -q "folded" "$tmp/log" &&
  grep -q "weights: .* -> " "$tmp/log" && ok || bad "cnn summary: $(cat "$tmp/log")"
for m in percentile entropy; do
  quant cnn "$tmp/cnn.$m.onnx" --calib "$tmp/calib_cnn" --method $m && check "$data/cnn.onnx" "$tmp/cnn.$m.onnx" cnn 0.97
done
quant branches "$tmp/br.pt.onnx" --calib "$tmp/calib_branches" --per-tensor &&
  check "$data/branches.onnx" "$tmp/br.pt.onnx" branches 0.99 QLinearConv
# int8 activations run (ONNX Runtime keeps u8s8 for Conv on x86, so no fusion is asked)
quant branches "$tmp/br.q.onnx" --calib "$tmp/calib_branches" --activations int8 &&
  check "$data/branches.onnx" "$tmp/br.q.onnx" branches 0.99
grep -q "Tanh: 'tanh' — operator not quantized" "$tmp/log" && ok || bad "branches: Tanh not listed as float: $(cat "$tmp/log")"
quant branches "$tmp/br.x.onnx" --calib "$tmp/calib_branches" --exclude conv_a,head --json &&
  check "$data/branches.onnx" "$tmp/br.x.onnx" branches 0.99
python3 - "$tmp/log" <<'EOF' 2>"$tmp/err" && ok || bad "--json: $(cat "$tmp/err")"
import json, sys
j = json.load(open(sys.argv[1]))
st = {n["name"]: n for n in j["nodes"]}
assert st["conv_a"]["status"] == "float" and "exclude" in st["conv_a"]["reason"], st["conv_a"]
assert st["head"]["status"] == "float", st["head"]
assert st["tanh"]["status"] == "float", st["tanh"]
assert j["mode"] == "static" and j["samples"] == 4 and j["weight_bytes_after"] < j["weight_bytes_before"], j
EOF
quant old "$tmp/old.q.onnx" --calib "$tmp/calib_old" && check "$data/old.onnx" "$tmp/old.q.onnx" old 0.99
grep -q "opset 13 (upgraded)" "$tmp/log" && ok || bad "old: opset not upgraded: $(cat "$tmp/log")"

# ---- subgraphs: If branches and a Loop body are quantized inside; ORT fuses there too ----
quant if "$tmp/if.q.onnx" --calib "$tmp/calib_if" && check "$data/if.onnx" "$tmp/if.q.onnx" if 0.99
grep -q "Conv 3, Gemm 1, Add 1" "$tmp/log" && grep -q "else_conv' — in a subgraph the calibration samples never ran" "$tmp/log" &&
  ok || bad "if summary: $(cat "$tmp/log")"
ort_fused "$tmp/if.q.onnx" QLinearConv 3 # (ORT may inline the branch: its condition is constant here)
quant loop "$tmp/loop.q.onnx" --calib "$tmp/calib_loop" && check "$data/loop.onnx" "$tmp/loop.q.onnx" loop 0.99
quant loop "$tmp/loop.d.onnx" --dynamic && check "$data/loop.onnx" "$tmp/loop.d.onnx" loop 0.999
quant if "$tmp/if.x.onnx" --calib "$tmp/calib_if" --exclude then_conv1 && check "$data/if.onnx" "$tmp/if.x.onnx" if 0.99

# ---- weight-only modes ------------------------------------------------------------------
quant mlp "$tmp/mlp.dyn.onnx" --dynamic && check "$data/mlp.onnx" "$tmp/mlp.dyn.onnx" mlp 0.999
quant lstm "$tmp/lstm.dyn.onnx" --dynamic && check "$data/lstm.onnx" "$tmp/lstm.dyn.onnx" lstm 0.999
quant mlp "$tmp/mlp.qop.onnx" --dynamic --format qoperator && check "$data/mlp.onnx" "$tmp/mlp.qop.onnx" mlp 0.999 &&
  ort_fused "$tmp/mlp.qop.onnx" DynamicQuantizeMatMul 2
quant lstm "$tmp/lstm.qop.onnx" --dynamic --format qoperator && check "$data/lstm.onnx" "$tmp/lstm.qop.onnx" lstm 0.999
quant mlp "$tmp/mlp.i4.onnx" --weights int4 --block-size 32 && check "$data/mlp.onnx" "$tmp/mlp.i4.onnx" mlp 0.98
grep -q "opset 21" "$tmp/log" && ok || bad "int4: not opset 21: $(cat "$tmp/log")"
quant mlp "$tmp/mlp.f16.onnx" --fp16 && check "$data/mlp.onnx" "$tmp/mlp.f16.onnx" mlp 0.99999
quant cnn "$tmp/cnn.qf16.onnx" --calib "$tmp/calib_cnn" --fp16 && check "$data/cnn.onnx" "$tmp/cnn.qf16.onnx" cnn 0.99

# ---- bad input: exit code and one line on stderr ---------------------------------------
# expect CODE PATTERN args...
expect() {
  local code=$1 pat=$2
  shift 2
  "$cli" quantize "$@" >"$tmp/log" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne "$code" ]; then bad "quantize $*: exit $rc, expected $code ($(cat "$tmp/err"))"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q -- "$pat" "$tmp/err"; then
    bad "quantize $*: expected one line matching '$pat', got: $(cat "$tmp/err")"
    return
  fi
  ok
}
expect 4 "$tmp/nope" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/nope"
expect 4 "$tmp/empty" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/empty"
expect 4 "input_0.*\[1,3,9,9\].*\[1,3,8,8\]" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/bad_shape"
expect 4 "float64" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/bad_dtype"
expect 4 "input" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/bad_count"
expect 4 "input" "$data/two_in.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_cnn"
expect 3 "nothing to quantize" "$data/nothing.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_nothing"
expect 3 "nothing to quantize" "$data/nothing.onnx" -o "$tmp/x.onnx" --dynamic
expect 2 "no node named 'nope'" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_cnn" --exclude nope
expect 3 "nothing to quantize.*excluded" "$data/if.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_if" \
  --exclude conv0,then_conv1,then_conv2,head
expect 4 "input_0.*\[1,16\].*\[1,4,6,6\]" "$data/if.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_loop"
expect 2 "calib" "$data/cnn.onnx" -o "$tmp/x.onnx"
expect 2 "no output" "$data/cnn.onnx" --calib "$tmp/calib_cnn"
expect 2 "method" "$data/cnn.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_cnn" --method best
expect 2 "block" "$data/mlp.onnx" -o "$tmp/x.onnx" --weights int4 --block-size 20
expect 2 "qoperator" "$data/mlp.onnx" -o "$tmp/x.onnx" --calib "$tmp/calib_mlp" --format qoperator
expect 2 "format" "$data/mlp.onnx" -o "$tmp/x.onnx" --dynamic --format qlinear
expect 2 "weights only" "$data/mlp.onnx" -o "$tmp/x.onnx" --dynamic --calib "$tmp/calib_mlp"
expect 3 "" "$tmp/nope.onnx" -o "$tmp/x.onnx" --dynamic
[ ! -e "$tmp/x.onnx" ] && ok || bad "a failed quantize left $tmp/x.onnx behind"
"$cli" quantize --help | grep -q -- "--calib DIR" && ok || bad "quantize --help"

# ---- a real model ----------------------------------------------------------------------
mb=${MODELS_DIR:-.cache/models}/tv_mobilenet_v2.onnx
if [ -s "$mb" ]; then
  python3 - "$tmp" <<'EOF'
import os, sys
import numpy as np
rng = np.random.RandomState(3)
for s in range(5):
    d = f"{sys.argv[1]}/calib_mb/s{s}" if s < 4 else f"{sys.argv[1]}/test_mb"
    os.makedirs(d)
    np.save(f"{d}/input_0.npy", rng.standard_normal((1, 3, 224, 224)).astype(np.float32))
EOF
  if "$cli" quantize "$mb" -o "$tmp/mb.q.onnx" --calib "$tmp/calib_mb" >"$tmp/log" 2>"$tmp/err"; then
    check "$mb" "$tmp/mb.q.onnx" mb 0.99 QLinearConv
    grep -q "Conv 52" "$tmp/log" && ok || bad "mobilenet_v2: $(cat "$tmp/log")"
  else
    bad "quantize tv_mobilenet_v2: $(cat "$tmp/err")"
  fi
else
  echo "skip tv_mobilenet_v2 (not fetched)"
fi

# ---- Silero VAD: its network lives in an If branch -------------------------------------
# scripts/eval-silero.py: float vs int8 speech decisions per frame (p > 0.5) on
# .cache/speech.wav clean and with noise at 10 dB, in ONNX Runtime and in edgerun; calibrated
# on another recording (espeak-ng en-gb). Issue target: >= 99 % of frames agree.
sv=${MODELS_DIR:-.cache/models}/silero_vad_v5.onnx
if [ -s "$sv" ] && [ -s .cache/speech.wav ] && command -v espeak-ng >/dev/null && command -v sox >/dev/null; then
  if python3 scripts/eval-silero.py --cli "$cli" --model "$sv" --variants percentile,dynamic --keep "$tmp/silero" \
      --check 0.99 >"$tmp/log" 2>"$tmp/err"; then ok; else bad "silero: $(tail -3 "$tmp/err") $(tail -5 "$tmp/log")"; fi
  ort_fused "$tmp/silero/silero_percentile.onnx" QLinearConv 6
else
  echo "skip silero (model, .cache/speech.wav, espeak-ng or sox missing)"
fi

# ---- the digits task: a trained model, accuracy float vs int8 ---------------------------
# scripts/make-digits.py trains it once with Debian's python3-torch/python3-sklearn (cached in
# .cache/digits); scripts/eval-digits.py measures ORT and edgerun accuracy of every variant.
digits=${DIGITS_DIR:-.cache/digits}
if /usr/bin/python3 scripts/make-digits.py --out "$digits" >"$tmp/log" 2>&1; then
  if python3 scripts/eval-digits.py --dir "$digits" --cli "$cli" --no-latency --json "$tmp/digits.json" \
      >"$tmp/log" 2>"$tmp/err"; then
    python3 - "$tmp/digits.json" <<'EOF' 2>"$tmp/err" && ok || bad "digits: $(tail -3 "$tmp/err")"
import json, sys
rows = json.load(open(sys.argv[1]))
get = lambda m, v: next(r for r in rows if r["model"] == m and r["variant"] == v)
for m in ("digits_cnn", "digits_mlp"):
    f = get(m, "float")
    for v in ("edgerun static minmax", "edgerun dynamic"):
        q = get(m, v)
        assert f["acc_ort"] - q["acc_ort"] <= 0.5 + 1e-9, f"{m} {v}: accuracy drop {f['acc_ort'] - q['acc_ort']:.2f} > 0.5"
        assert abs(q["acc_ort"] - q["acc_edgerun"]) <= 0.2 + 1e-9, f"{m} {v}: ORT {q['acc_ort']} vs edgerun {q['acc_edgerun']}"
    q = get(m, "edgerun int4 (block 64)")
    assert f["acc_ort"] - q["acc_ort"] <= 2.0 + 1e-9, f"{m} int4: accuracy drop {f['acc_ort'] - q['acc_ort']:.2f} > 2"
cnn = get("digits_cnn", "float")["bytes"] / get("digits_cnn", "edgerun static minmax")["bytes"]
assert cnn >= 3.8, f"digits_cnn int8 file only {cnn:.2f}x smaller"
EOF
  else
    bad "eval-digits: $(tail -3 "$tmp/err")"
  fi
else
  bad "make-digits (python3-torch, python3-sklearn): $(tail -3 "$tmp/log")"
fi

echo "quantize: $pass passed, $fail failed"
[ $fail -eq 0 ]
