#!/usr/bin/env python3
"""eval-digits.py — accuracy of the digits models (scripts/make-digits.py) float vs quantized.

    python3 scripts/eval-digits.py [--dir .cache/digits] [--cli build/edgerun] [--json OUT]

For each model (digits_cnn, digits_mlp) and each variant — float, `edgerun quantize` static
(min-max, percentile, entropy), --dynamic, --weights int4, --fp16, and ONNX Runtime's own
onnxruntime.quantization.quantize_static (QDQ, uint8 activations, int8 weights, per-channel
and per-tensor, min-max, same calibration folder) and quantize_dynamic — reports the file
size, the test accuracy in ONNX Runtime and in edgerun (`edgerun run` on the whole test set
as one batch), and ONNX Runtime's median latency for one sample (1 thread; noisy on a shared
machine, indicative only). Needs onnxruntime 1.20.1 and numpy (PyPI) in this python3.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort


def ort_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_logits(path, x):
    s = ort_session(path)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def ort_latency_us(path, x1, runs=300):
    s = ort_session(path)
    name = s.get_inputs()[0].name
    for _ in range(20):
        s.run(None, {name: x1})
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, {name: x1})
        t.append(time.perf_counter() - t0)
    return float(np.median(t) * 1e6)


def edgerun_logits(cli, path, xfile, tmp):
    out = os.path.join(tmp, "out")
    r = subprocess.run([cli, "run", path, "-i", xfile, "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"edgerun run {path}: {r.stderr.strip()}")
    return np.load(os.path.join(out, "output_0.npy"))


class FolderReader:
    """onnxruntime CalibrationDataReader over DIR/<sample>/input_0.npy."""

    def __init__(self, d, name):
        self.items = [{name: np.load(f)} for f in sorted(glob.glob(os.path.join(d, "*", "input_0.npy")))]
        self.i = 0

    def get_next(self):
        if self.i >= len(self.items):
            return None
        self.i += 1
        return self.items[self.i - 1]

    def rewind(self):
        self.i = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=".cache/digits")
    ap.add_argument("--cli", default="build/edgerun")
    ap.add_argument("--json")
    ap.add_argument("--no-latency", action="store_true")
    a = ap.parse_args()
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static

    labels = np.load(os.path.join(a.dir, "test_labels.npy"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("cnn", "mlp"):
            model = os.path.join(a.dir, f"digits_{name}.onnx")
            calib = os.path.join(a.dir, f"calib_{name}")
            xfile = os.path.join(a.dir, f"test_{name}.npy")
            x = np.load(xfile)
            variants = [("float", model, None)]
            ours = [("edgerun static minmax", ["--calib", calib]),
                    ("edgerun static percentile", ["--calib", calib, "--method", "percentile"]),
                    ("edgerun static entropy", ["--calib", calib, "--method", "entropy"]),
                    ("edgerun static per-tensor", ["--calib", calib, "--per-tensor"]),
                    ("edgerun dynamic", ["--dynamic"]),
                    ("edgerun dynamic qoperator", ["--dynamic", "--format", "qoperator"]),
                    ("edgerun int4 (block 64)", ["--weights", "int4"]),
                    ("edgerun int4 (block 32)", ["--weights", "int4", "--block-size", "32"]),
                    ("edgerun fp16", ["--fp16"])]
            for label, opts in ours:
                out = os.path.join(tmp, f"{name}.{len(variants)}.onnx")
                r = subprocess.run([a.cli, "quantize", model, "-o", out] + opts, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"eval-digits: {label}: {r.stderr.strip()}", file=sys.stderr)
                    continue
                variants.append((label, out, None))
            inp = ort_session(model).get_inputs()[0].name
            for label, per_channel in (("ORT quantize_static per-channel", True),
                                       ("ORT quantize_static per-tensor", False)):
                out = os.path.join(tmp, f"{name}.ort{int(per_channel)}.onnx")
                quantize_static(model, out, FolderReader(calib, inp), quant_format=QuantFormat.QDQ,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                                per_channel=per_channel, calibrate_method=CalibrationMethod.MinMax)
                variants.append((label, out, None))
            out = os.path.join(tmp, f"{name}.ortdyn.onnx")
            # ORT's CPU provider has no ConvInteger for its own uint8 x int8 output: MatMul/Gemm only
            quantize_dynamic(model, out, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
            variants.append(("ORT quantize_dynamic (MatMul/Gemm)", out, None))
            for label, path, note in variants:
                row = {"model": f"digits_{name}", "variant": label, "bytes": os.path.getsize(path)}
                row["acc_ort"] = float((ort_logits(path, x).argmax(1) == labels).mean() * 100)
                try:
                    row["acc_edgerun"] = float((edgerun_logits(a.cli, path, xfile, tmp).argmax(1) == labels).mean() * 100)
                except RuntimeError as e:
                    row["acc_edgerun"] = None
                    row["note"] = str(e)[:120]
                if note and "note" not in row:
                    row["note"] = note
                if not a.no_latency:
                    row["ort_us"] = ort_latency_us(path, x[:1])
                rows.append(row)
    base = {r["model"]: r for r in rows if r["variant"] == "float"}
    print("| model | variant | file | smaller | acc ORT | acc edgerun | drop (ORT) | ORT 1-sample us |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        b = base[r["model"]]
        ae = "-" if r["acc_edgerun"] is None else f"{r['acc_edgerun']:.2f}"
        lat = f"{r['ort_us']:.0f}" if "ort_us" in r else "-"
        print(f"| {r['model']} | {r['variant']} | {r['bytes'] / 1024:.1f} KiB | {b['bytes'] / r['bytes']:.2f}x | "
              f"{r['acc_ort']:.2f} | {ae} | {b['acc_ort'] - r['acc_ort']:+.2f} | {lat} |")
    for r in rows:
        if "note" in r:
            print(f"note: {r['model']} {r['variant']}: {r['note']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
