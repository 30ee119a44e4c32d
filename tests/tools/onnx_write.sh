#!/usr/bin/env bash
# ONNX writer (src/export/onnx_write.c), end to end:
#  1. every real model of tests/models/models.json, imported and written back (build/tests/
#     roundtrip), gives byte-identical outputs in `edgerun run` on the case's inputs;
#  2. onnx.checker accepts the written files and ONNX Runtime runs them with outputs equal to
#     the originals' (the real models, the benchmark models, and a synthetic model with int4/
#     uint4/float16/bfloat16 initializers, If/Loop subgraphs and symbolic dimensions).
set -uo pipefail
cli=${1:-build/edgerun}
rt=$(dirname "$cli")/tests/roundtrip
models=${MODELS_DIR:-.cache/models}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

if [ ! -x "$rt" ]; then
  echo "FAIL onnx_write: no $rt (make $(dirname "$cli")/tests/roundtrip)"; exit 1
fi

# ---- 1. real models: edgerun outputs identical before and after the round trip ----------
cases=$(python3 - <<'EOF'
import json
seen = set()
for c in json.load(open("tests/models/models.json"))["cases"]:
    if c["model"] in seen:
        continue
    seen.add(c["model"])
    print(c["model"] + "\t" + " ".join(c["inputs"]))
EOF
)
pairs=()
while IFS=$'\t' read -r model inputs; do
  src=$models/$model
  if [ ! -s "$src" ]; then bad "roundtrip $model: model missing (scripts/setup-test.sh fetches it)"; continue; fi
  out=$tmp/${model%.onnx}.rt.onnx
  if ! "$rt" "$src" "$out" 2>"$tmp/err"; then bad "roundtrip $model: $(cat "$tmp/err")"; continue; fi
  args=()
  for f in $inputs; do args+=(-i "tests/models/refs/$f"); done
  rm -rf "$tmp/a" "$tmp/b"
  if ! "$cli" run "$src" "${args[@]}" -o "$tmp/a" 2>"$tmp/err" || ! "$cli" run "$out" "${args[@]}" -o "$tmp/b" 2>>"$tmp/err"; then
    bad "roundtrip $model: run failed: $(head -2 "$tmp/err")"; continue
  fi
  same=0
  for f in "$tmp"/a/*.npy; do
    [ -e "$f" ] || break
    if cmp -s "$f" "$tmp/b/$(basename "$f")"; then [ $same = 0 ] && same=1; else same=2; fi
  done
  if [ $same = 1 ]; then ok; else bad "roundtrip $model: outputs differ after the round trip"; fi
  pairs+=("$src" "$out" "$inputs")
done <<<"$cases"
for src in "$models"/bench/*.onnx; do
  [ -s "$src" ] || continue
  out=$tmp/$(basename "${src%.onnx}").rt.onnx
  if "$rt" "$src" "$out" 2>"$tmp/err"; then ok; pairs+=("$src" "$out" ""); else bad "roundtrip $src: $(cat "$tmp/err")"; fi
done

# ---- 2. synthetic model: every tensor kind the writer packs, subgraphs, symbolic dims -----
if python3 - "$tmp/synth.onnx" "$tmp/synth_x.npy" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper as h, TensorProto as T
def init(name, dt, dims, vals):
    return h.make_tensor(name, dt, dims, vals)
inits = [
    init("w_i4", T.INT4, [5], [-8, -1, 0, 3, 7]),
    init("w_u4", T.UINT4, [5], [0, 1, 9, 14, 15]),
    init("zp_u4", T.UINT4, [], [8]),
    init("scale", T.FLOAT, [], [0.5]),
    init("h16", T.FLOAT16, [5], np.array([1.5, -2, 0.25, 3, 65504], np.float16).view(np.uint16).tolist()),
    init("b16", T.BFLOAT16, [5], [0x3fc0, 0xc000, 0x3e80, 0x4040, 0x7f7f]),
    init("cond", T.BOOL, [], [True]),
    init("trip", T.INT64, [], [3]),
]
then_g = h.make_graph([h.make_node("Add", ["x", "a"], ["t_out"])], "then_g", [],
                      [h.make_tensor_value_info("t_out", T.FLOAT, ["N", 5])])
else_g = h.make_graph([h.make_node("Sub", ["x", "a"], ["e_out"])], "else_g", [],
                      [h.make_tensor_value_info("e_out", T.FLOAT, ["N", 5])])
body = h.make_graph(
    [h.make_node("Mul", ["acc_in", "b"], ["acc_out0"]),
     h.make_node("Identity", ["cond_in"], ["cond_out"]),
     h.make_node("Add", ["acc_out0", "c"], ["acc_out"])],
    "body", [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("cond_in", T.BOOL, []),
             h.make_tensor_value_info("acc_in", T.FLOAT, [5])],
    [h.make_tensor_value_info("cond_out", T.BOOL, []), h.make_tensor_value_info("acc_out", T.FLOAT, [5])])
nodes = [
    h.make_node("DequantizeLinear", ["w_i4", "scale"], ["a"], name="dq_i4"),
    h.make_node("DequantizeLinear", ["w_u4", "scale", "zp_u4"], ["b"], name="dq_u4"),
    h.make_node("Cast", ["h16"], ["c16"], to=T.FLOAT),
    h.make_node("Cast", ["b16"], ["cb"], to=T.FLOAT),
    h.make_node("Add", ["c16", "cb"], ["c"]),
    h.make_node("If", ["cond"], ["y_if"], then_branch=then_g, else_branch=else_g, name="if"),
    h.make_node("Loop", ["trip", "cond", "c"], ["y_loop"], body=body, name="loop"),
    h.make_node("Constant", [], ["k"], value=h.make_tensor("kv", T.FLOAT, [2], [0.125, -4.0])),
    h.make_node("ReduceSum", ["y_if", "axes"], ["r"], keepdims=1),
    h.make_node("Mul", ["r", "y_loop"], ["m"]),
    h.make_node("Concat", ["m", "y_if"], ["cat"], axis=1),
    h.make_node("LeakyRelu", ["cat"], ["lr"], alpha=0.3),
    h.make_node("Slice", ["k", "s0", "s1"], ["k_first"]),
    h.make_node("Pad", ["lr", "pads", "k_first"], ["y"], mode="constant"),
]
inits += [init("axes", T.INT64, [1], [1]), init("pads", T.INT64, [4], [0, 1, 0, 2]),
          init("s0", T.INT64, [1], [0]), init("s1", T.INT64, [1], [1])]
g = h.make_graph(nodes, "synthetic", [h.make_tensor_value_info("x", T.FLOAT, ["N", 5])],
                 [h.make_tensor_value_info("y", T.FLOAT, ["N", 13]), h.make_tensor_value_info("y_loop", T.FLOAT, [5])],
                 inits, value_info=[h.make_tensor_value_info("cat", T.FLOAT, ["N", 10])])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 21)], ir_version=10, producer_name="test")
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
np.save(sys.argv[2], np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32))
EOF
then
  if "$rt" "$tmp/synth.onnx" "$tmp/synth.rt.onnx" 2>"$tmp/err"; then
    ok; pairs+=("$tmp/synth.onnx" "$tmp/synth.rt.onnx" "SYNTH")
    rm -rf "$tmp/a" "$tmp/b"
    if "$cli" run "$tmp/synth.onnx" -i "$tmp/synth_x.npy" -o "$tmp/a" 2>"$tmp/err" &&
       "$cli" run "$tmp/synth.rt.onnx" -i "$tmp/synth_x.npy" -o "$tmp/b" 2>>"$tmp/err" &&
       cmp -s "$tmp/a/output_0.npy" "$tmp/b/output_0.npy" && cmp -s "$tmp/a/output_1.npy" "$tmp/b/output_1.npy"; then ok
    else bad "synthetic: edgerun outputs differ or run failed: $(head -2 "$tmp/err")"; fi
  else bad "roundtrip synthetic: $(cat "$tmp/err")"; fi
else
  bad "synthetic model: python could not build it"
fi

# ---- 3. onnx.checker and ONNX Runtime on the written files ----------------------------------
printf '%s\n' "${pairs[@]}" >"$tmp/pairs"
python3 - "$tmp/pairs" "$tmp/synth_x.npy" >"$tmp/py" 2>&1 <<'EOF'
import sys, numpy as np, onnx, onnxruntime as ort
lines = open(sys.argv[1]).read().split("\n")
fails = passes = 0
def feeds(sess, inputs):
    if inputs == "SYNTH":
        return {sess.get_inputs()[0].name: np.load(sys.argv[2])}
    if inputs:
        return {i.name: np.load("tests/models/refs/" + f) for i, f in zip(sess.get_inputs(), inputs.split())}
    rng = np.random.default_rng(0)
    f = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        if i.type == "tensor(float)":
            f[i.name] = rng.standard_normal(shape).astype(np.float32)
        elif i.type == "tensor(int64)":
            f[i.name] = rng.integers(0, 2, shape).astype(np.int64)
        else:
            raise RuntimeError("no random input for " + i.type)
    return f
for k in range(0, len(lines) - 2, 3):
    src, out, inputs = lines[k], lines[k + 1], lines[k + 2]
    name = src.split("/")[-1]
    try:
        try:
            onnx.checker.check_model(out, full_check=True)
        except Exception:
            onnx.checker.check_model(src, full_check=True)  # the original passes: ours must too
            raise
    except onnx.checker.ValidationError:
        onnx.checker.check_model(out)  # the original fails strict checks too: plain check
    except Exception as e:
        print(f"FAIL checker {name}: {str(e).splitlines()[0][:200]}")
        fails += 1
        continue
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        a = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(out, so, providers=["CPUExecutionProvider"])
        f = feeds(a, inputs)
        ya, yb = a.run(None, f), b.run(None, f)
        same = all(np.array_equal(x, y, equal_nan=True) for x, y in zip(ya, yb)) and len(ya) == len(yb)
    except Exception as e:
        print(f"FAIL onnxruntime {name}: {str(e).splitlines()[0][:200]}")
        fails += 1
        continue
    if same:
        passes += 1
    else:
        print(f"FAIL onnxruntime {name}: outputs of the written model differ")
        fails += 1
print(f"PYRESULT {passes} {fails}")
sys.exit(0)
EOF
grep "^FAIL" "$tmp/py"
res=$(grep '^PYRESULT' "$tmp/py")
if [ -z "$res" ]; then bad "checker/onnxruntime script: $(tail -3 "$tmp/py")"; else
  set -- $res; pass=$((pass + $2)); fail=$((fail + $3)); fi

echo "onnx_write: $pass passed, $fail failed"
[ $fail -eq 0 ]
