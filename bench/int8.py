#!/usr/bin/env python3
"""int8.py — integer execution speed, side by side: edgerun and ONNX Runtime, each on the
float model and on the QDQ model that ONNX Runtime's quantize_static made from it.

    python3 bench/int8.py [--models a,b] [--threads 1] [--rounds 5] [--runs 60] [--edgerun PATH]

Models: the QDQ files of scripts/make-qdq-models.py (it is run first) and their float sources.
Every measurement is a fresh process (`edgerun bench --json`, bench/engine.py for ORT) on the
same seeded input; the four (engine, model) pairs take turns in a rotating order for
--rounds rounds, and each cell is the median over rounds of each process's median latency
(--stat min: the fastest run of any round, steadier when other jobs share the machine).
Prints one table: the four medians and the ratios
    er int8 / er f32   (integer speed-up in edgerun),
    er int8 / ORT int8 (below 1: edgerun faster on the same QDQ file),
    er f32 / ORT f32   (for context).
Tests never assert on these times; the machine may be shared (numbers are noisy).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = os.path.join(ROOT, ".cache", "models")
# name, QDQ file (in .cache/models/qdq), float file, input shape
CASES = [
    ("mobilenet_v2", "mobilenet_v2_u8", "tv_mobilenet_v2.onnx", (1, 3, 224, 224)),
    ("mobilenet_v2_pc", "mobilenet_v2_s8_pc", "tv_mobilenet_v2.onnx", (1, 3, 224, 224)),
    ("resnet18", "resnet18_u8", "tv_resnet18.onnx", (1, 3, 224, 224)),
    ("resnet18_pc", "resnet18_u8_pc", "tv_resnet18.onnx", (1, 3, 224, 224)),
    ("squeezenet1_1", "squeezenet1_1_u8", "bench/squeezenet1_1.onnx", (1, 3, 224, 224)),
    ("dscnn_kws", "dscnn_kws_u8_pc", "bench/dscnn_kws.onnx", (1, 1, 49, 10)),
]


def measure(engine, model, inp, name, threads, runs, edgerun, stat):
    if engine == "er":
        cmd = [edgerun, "bench", model, "-i", inp, "--threads", str(threads), "--runs", str(runs), "--warmup",
               str(max(3, runs // 5)), "--json"]
    else:
        cmd = [sys.executable, os.path.join(ROOT, "bench", "engine.py"), "ort", model, "-i", "%s=%s" % (name, inp),
               "--threads", str(threads), "--runs", str(runs), "--warmup", str(max(3, runs // 5))]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("int8.py: %s %s failed: %s" % (engine, os.path.basename(model), r.stderr.strip()[:200]), file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])[stat + "_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", help="comma-separated names (default: all)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--edgerun", default=os.path.join(ROOT, "build", "edgerun"))
    ap.add_argument("--stat", choices=["median", "min"], default="median",
                    help="per-process statistic (min: the fastest run, steadier on a loaded machine)")
    a = ap.parse_args()
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make-qdq-models.py"), "--quiet"], check=False)
    import onnx
    want = set(a.models.split(",")) if a.models else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, qdq, fp, shape in CASES:
            if want and name not in want:
                continue
            qpath, fpath = os.path.join(MODELS, "qdq", qdq + ".onnx"), os.path.join(MODELS, fp)
            if not (os.path.exists(qpath) and os.path.exists(fpath)):
                print("int8.py: %s: model missing" % name, file=sys.stderr)
                continue
            iname = onnx.load(fpath, load_external_data=False).graph.input[0].name
            inp = os.path.join(tmp, name + ".npy")
            np.save(inp, np.random.RandomState(3).uniform(-1, 1, shape).astype(np.float32))
            pairs = [("er", fpath), ("er", qpath), ("ort", fpath), ("ort", qpath)]
            res = {p: [] for p in pairs}
            for r in range(a.rounds):
                for k in range(len(pairs)):
                    p = pairs[(k + r) % len(pairs)]
                    t = measure(p[0], p[1], inp, iname, a.threads, a.runs, a.edgerun, a.stat)
                    if t is not None:
                        res[p].append(t)
            agg = min if a.stat == "min" else statistics.median
            med = [agg(res[p]) if res[p] else float("nan") for p in pairs]
            rows.append((name, med))
            print("%-16s er f32 %7.2f  er int8 %7.2f  ORT f32 %7.2f  ORT int8 %7.2f ms" % ((name,) + tuple(med)),
                  file=sys.stderr)
    print("threads %d, %d rounds, %s (ms)\n" % (a.threads, a.rounds, "median of per-process medians" if a.stat == "median" else "fastest run of any process"))
    print("| model | edgerun f32 | edgerun int8 | ORT f32 | ORT int8 | er int8 / er f32 | er int8 / ORT int8 | er f32 / ORT f32 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (ef, ei, of, oi) in rows:
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (name, ef, ei, of, oi, ei / ef, ei / oi, ef / of))


if __name__ == "__main__":
    main()
