#!/usr/bin/env python3
"""make-qdq-models.py — QDQ (8-bit) versions of real models, made by ONNX Runtime's own
static quantizer, for tests/run-qdq.sh (integer execution vs ONNX Runtime) and
bench/int8.py (speed).

    python3 scripts/make-qdq-models.py [--force] [--quiet]

Needs onnx==1.17.0 and onnxruntime==1.20.1 (scripts/setup-test.sh installs them) and the
float models in .cache/models/ (scripts/export-torchvision.py, bench/export-extra.py).
For each entry of MODELS: onnxruntime.quantization.quant_pre_process, then quantize_static in
QDQ format on 8 seeded uniform[-1, 1) calibration inputs (min-max), writing
.cache/models/qdq/NAME.onnx. Existing files are kept unless --force. Deterministic for a
given ORT version. A model whose float file is missing is skipped with a warning (the test
then reports it missing).
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SRC = os.path.join(ROOT, ".cache", "models")
DST = os.path.join(SRC, "qdq")

# name, float model (relative to .cache/models), activation type, per-channel weights
MODELS = [
    ("mobilenet_v2_u8", "tv_mobilenet_v2.onnx", "u8", False),
    ("mobilenet_v2_s8_pc", "tv_mobilenet_v2.onnx", "s8", True),
    ("resnet18_u8", "tv_resnet18.onnx", "u8", False),
    ("resnet18_u8_pc", "tv_resnet18.onnx", "u8", True),
    ("dscnn_kws_u8_pc", "bench/dscnn_kws.onnx", "u8", True),
    ("squeezenet1_1_u8", "bench/squeezenet1_1.onnx", "u8", False),
]


def quantize(src, dst, act, per_channel):
    import numpy as np
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    m = onnx.load(src)
    inp = m.graph.input[0]
    shape = [d.dim_value if d.dim_value > 0 else 1 for d in inp.type.tensor_type.shape.dim]

    class Reader(CalibrationDataReader):
        def __init__(self):
            rs = np.random.RandomState(0)
            self.items = iter([{inp.name: rs.uniform(-1, 1, shape).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        quant_pre_process(src, pre)
        t = QuantType.QUInt8 if act == "u8" else QuantType.QInt8
        quantize_static(pre, dst + ".tmp", Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                        activation_type=t, weight_type=QuantType.QInt8)
    os.replace(dst + ".tmp", dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="re-make existing files")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    os.makedirs(DST, exist_ok=True)
    rc = 0
    for name, src, act, pc in MODELS:
        dst = os.path.join(DST, name + ".onnx")
        if os.path.exists(dst) and not a.force:
            continue
        path = os.path.join(SRC, src)
        if not os.path.exists(path):
            print("make-qdq-models: warning: %s missing, %s skipped" % (src, name), file=sys.stderr)
            rc = 1
            continue
        if not a.quiet:
            print("make-qdq-models: %s <- %s (%s activations%s)" % (name, src, act, ", per-channel" if pc else ""))
        quantize(path, dst, act, pc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
