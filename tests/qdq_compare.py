#!/usr/bin/env python3
"""qdq_compare.py — one QDQ model through edgerun (integer kernels) and ONNX Runtime.

    qdq_compare.py CLI MODEL.onnx INPUT.npy [--max-steps S]

Runs ONNX Runtime 1.20.1 (CPU, all graph optimizations: it fuses the QDQ patterns into its
own integer ops) and `CLI run` on the same input, then measures the difference of output 0
in steps of its quantization grid (the scale of the DequantizeLinear that produces it).
Prints one line: max difference in steps, the share of outputs that differ, top-1 agreement;
exits 0 when the max is <= S (default 1), 1 otherwise, 2 on errors.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def out_step(model_path, out_name):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name: i for i in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    n = producer.get(out_name)
    while n is not None and n.op_type in ("Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"):
        n = producer.get(n.input[0])  # data movement after the last DequantizeLinear
    if n is not None and n.op_type == "DequantizeLinear" and n.input[1] in inits:
        return float(numpy_helper.to_array(inits[n.input[1]]).reshape(-1)[0])
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cli, model, inp = argv[0], argv[1], argv[2]
    max_steps = float(argv[argv.index("--max-steps") + 1]) if "--max-steps" in argv else 1.0
    import onnxruntime as ort
    x = np.load(inp)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    step = out_step(model, sess.get_outputs()[0].name)
    if not step:
        print("no DequantizeLinear makes the output: not a QDQ model")
        return 2
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([cli, "run", model, "-i", inp, "-o", d], capture_output=True, text=True)
        if r.returncode != 0:
            print("edgerun failed: " + (r.stderr.strip().splitlines() or ["?"])[0])
            return 2
        got = np.load(os.path.join(d, "output_0.npy"))
    if got.shape != ref.shape:
        print("shape %s, ONNX Runtime %s" % (got.shape, ref.shape))
        return 1
    steps = np.abs(got.astype(np.float64) - ref.astype(np.float64)) / step
    worst = float(steps.max()) if steps.size else 0.0
    differ = float((steps > 0.5).mean()) if steps.size else 0.0
    top1 = "yes" if got.reshape(got.shape[0], -1).argmax(1).tolist() == ref.reshape(ref.shape[0], -1).argmax(1).tolist() else "no"
    print("max %.2f steps, %.1f%% of outputs differ, top-1 same: %s" % (worst, 100 * differ, top1))
    return 0 if worst <= max_steps + 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
