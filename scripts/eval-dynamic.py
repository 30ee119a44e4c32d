#!/usr/bin/env python3
"""eval-dynamic.py — dynamic (weight) quantization of Gemm/MatMul/LSTM-heavy models in ONNX Runtime.

    python3 scripts/eval-dynamic.py [--cli build/edgerun] [--models tinybert,lstm_ts] [--rounds 7]

For each model of .cache/models/bench: float, `edgerun quantize --dynamic` (weight-only:
int8 + DequantizeLinear), `--dynamic --format qoperator` (ONNX Runtime's dynamic form:
DynamicQuantizeLinear + MatMulInteger) and ONNX Runtime's own quantize_dynamic. Reports file
size, cosine of the outputs vs float (ORT, 4 random inputs), the largest difference between
edgerun and ORT running the same quantized file, and ORT's latency at 1 thread: the variants
run in turn, --rounds times, 20 runs each; the table gives the median of the round medians
(a shared machine: compare within a row group, not across runs).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def feeds_for(s, rng):
    f = {}
    for i in s.get_inputs():
        shp = [d if isinstance(d, int) else 1 for d in i.shape]
        if "int" in i.type:
            f[i.name] = rng.randint(100, 20000, shp).astype(np.int64)
        else:
            f[i.name] = rng.standard_normal(shp).astype(np.float32)
    return f


def cosine(a, b):
    a = a.ravel().astype(np.float64)
    b = b.ravel().astype(np.float64)
    return float(a @ b / np.sqrt((a @ a) * (b @ b) + 1e-30))


def edgerun_out(cli, path, feeds, tmp):
    args = []
    for k, (name, x) in enumerate(feeds.items()):
        np.save(f"{tmp}/in_{k}.npy", x)
        args += ["-i", f"{tmp}/in_{k}.npy"]
    r = subprocess.run([cli, "run", path] + args + ["-o", f"{tmp}/out"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return np.load(f"{tmp}/out/output_0.npy")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default="build/edgerun")
    ap.add_argument("--models", default="tinybert,lstm_ts")
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = tempfile.mkdtemp(prefix="eval-dynamic-")
    print("| model | variant | file | cosine vs float (ORT, min of 4) | edgerun vs ORT max diff | ORT 1-thread latency | vs float |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in a.models.split(","):
        model = f".cache/models/bench/{name}.onnx"
        variants = [("float", model)]
        for label, opts in (("edgerun --dynamic (weight-only QDQ)", ["--dynamic"]),
                            ("edgerun --dynamic --format qoperator", ["--dynamic", "--format", "qoperator"])):
            out = f"{tmp}/{name}.{len(variants)}.onnx"
            r = subprocess.run([a.cli, "quantize", model, "-o", out] + opts, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{label}: {r.stderr.strip()}")
            variants.append((label, out))
        out = f"{tmp}/{name}.ort.onnx"
        quantize_dynamic(model, out, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm", "LSTM"])
        variants.append(("ORT quantize_dynamic", out))
        sessions = [session(p) for _, p in variants]
        rng = np.random.RandomState(11)
        inputs = [feeds_for(sessions[0], rng) for _ in range(4)]
        ref = [sessions[0].run(None, f)[0] for f in inputs]
        times = [[] for _ in variants]
        for _ in range(a.rounds):
            for k, s in enumerate(sessions):
                for _ in range(3):
                    s.run(None, inputs[0])
                t = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    s.run(None, inputs[0])
                    t.append(time.perf_counter() - t0)
                times[k].append(np.median(t))
        lat = [float(np.median(t)) * 1e3 for t in times]
        for k, (label, path) in enumerate(variants):
            outs = [sessions[k].run(None, f)[0] for f in inputs]
            cos = min(cosine(x, y) for x, y in zip(ref, outs))
            try:
                e = edgerun_out(a.cli, path, inputs[0], tmp)
                diff = f"{float(np.abs(e - outs[0]).max()):.2g}"
            except RuntimeError as err:
                diff = f"fails: {str(err)[:60]}"
            print(f"| {name} | {label} | {os.path.getsize(path) / 2**20:.2f} MiB | {cos:.5f} | {diff} | "
                  f"{lat[k]:.2f} ms | {lat[k] / lat[0]:.2f}x |")


if __name__ == "__main__":
    main()
