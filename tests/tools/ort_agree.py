#!/usr/bin/env python3
"""ort_agree.py CLI MODEL [INPUT.npy ...]: a model a tool wrote passes onnx.checker (full
check), and ONNX Runtime and `CLI run` give the same outputs on the given inputs (or seeded
random ones: floats in [-1,1), integers 0 or 1, symbolic dims 1). Prints one line; exit 1 on any failure."""
import os, subprocess, sys, tempfile

import numpy as np
import onnx
import onnxruntime as ort

cli, path, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
name = os.path.basename(path)
try:
    onnx.checker.check_model(path, full_check=True)
except Exception as e:
    print(f"FAIL {name}: onnx.checker: {str(e).splitlines()[0][:200]}")
    sys.exit(1)
so = ort.SessionOptions()
so.intra_op_num_threads = 1
sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
rng = np.random.default_rng(0)
feeds = {}
for k, i in enumerate(sess.get_inputs()):
    if inputs:
        feeds[i.name] = np.load(inputs[k])
    else:
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        if i.type == "tensor(float)":
            feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
        elif i.type in ("tensor(int64)", "tensor(int32)"):
            feeds[i.name] = rng.integers(0, 2, shape).astype(np.int64 if "64" in i.type else np.int32)
        else:
            print(f"FAIL {name}: no random data for input type {i.type}")
            sys.exit(1)
want = sess.run(None, feeds)
with tempfile.TemporaryDirectory() as d:
    args = []
    for k, x in enumerate(feeds.values()):
        np.save(f"{d}/in{k}.npy", x)
        args += ["-i", f"{d}/in{k}.npy"]
    r = subprocess.run([cli, "run", path] + args + ["-o", d], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: edgerun run: {r.stderr.strip()}")
        sys.exit(1)
    worst = 0.0
    for k, y in enumerate(want):
        got = np.load(f"{d}/output_{k}.npy")
        if got.shape != y.shape:
            print(f"FAIL {name}: output {k} shape {got.shape}, ONNX Runtime {y.shape}")
            sys.exit(1)
        scale = max(1.0, float(np.abs(y).max()))
        worst = max(worst, float(np.abs(got.astype(np.float64) - y).max()) / scale)
if worst > 1e-4:
    print(f"FAIL {name}: edgerun and ONNX Runtime differ by {worst:.3g} (relative to max|y|)")
    sys.exit(1)
print(f"ok {name}: checker passes, edgerun = ONNX Runtime within {worst:.2g}")
