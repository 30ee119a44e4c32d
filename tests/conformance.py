#!/usr/bin/env python3
"""ONNX backend conformance for edgerun.

Runs `edgerun run model.onnx -i input_K.pb ... -o DIR` for every test_data_set_N of every test
folder in Debian's libonnx-testdata and in the onnx wheel's backend test data, and compares each
output_K.npy with output_K.pb (float: rtol 1e-3, atol 1e-5, NaN positions equal; integer and
bool: exact; shapes: exact).

A test is "numeric" when every graph input and output is a tensor of a numeric or bool type;
pass rates are reported over numeric tests. Results go to build/conformance/<suite>.json.

Regression check: tests listed in tests/conformance/expected-pass.txt must pass; any that fails
makes the exit status non-zero. `--update` rewrites that list from this run.
"""
import argparse
import concurrent.futures as cf
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXPECTED = os.path.join(HERE, "conformance", "expected-pass.txt")
DEBIAN = "/usr/share/libonnx-testdata/data"
WHEEL = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
GROUPS = ["node", "pytorch-converted", "pytorch-operator", "simple"]

NUMERIC = {
    onnx.TensorProto.FLOAT, onnx.TensorProto.UINT8, onnx.TensorProto.INT8, onnx.TensorProto.UINT16,
    onnx.TensorProto.INT16, onnx.TensorProto.INT32, onnx.TensorProto.INT64, onnx.TensorProto.BOOL,
    onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.UINT32,
    onnx.TensorProto.UINT64, onnx.TensorProto.BFLOAT16,
}
for name in ("FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
             "FLOAT4E2M1"):
    if hasattr(onnx.TensorProto, name):
        NUMERIC.add(getattr(onnx.TensorProto, name))


def is_numeric(model):
    for vi in list(model.graph.input) + list(model.graph.output):
        t = vi.type
        if t.WhichOneof("value") != "tensor_type":
            return False
        if t.tensor_type.elem_type not in NUMERIC:
            return False
    return True


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def expected_array(t):
    """(array, kind). onnx returns bfloat16 as uint16 bits, float8/float4 as uint8 bits and
    int4/uint4 unpacked one per byte: the same encodings edgerun writes to .npy."""
    a = numpy_helper.to_array(t)
    if t.data_type == onnx.TensorProto.BFLOAT16:
        return a.view(np.uint16), "bf16"
    if a.dtype.names or t.data_type >= 17:
        return a.view(a.dtype.base) if a.dtype.names else a, "raw"
    return a, "plain"


def bits_to_f32(a):
    return (a.astype(np.uint32) << 16).view(np.float32)


def compare(got, exp, kind, rtol, atol):
    if tuple(got.shape) != tuple(exp.shape):
        return "shape %s, expected %s" % (list(got.shape), list(exp.shape))
    if kind == "plain" and got.dtype != exp.dtype:
        return "type %s, expected %s" % (got.dtype, exp.dtype)
    if kind == "bf16":  # compare as float with bfloat16's own precision
        got, exp = bits_to_f32(got.view(np.uint16)), bits_to_f32(exp)
        rtol = max(rtol, 1e-2)
    elif kind == "raw":
        same = np.array_equal(got.astype(np.int64), np.asarray(exp).astype(np.int64))
        return None if same else "values differ (bit patterns)"
    if exp.dtype.kind in "fc":
        g = got.astype(np.float64)
        e = exp.astype(np.float64)
        nan_g, nan_e = np.isnan(g), np.isnan(e)
        if not np.array_equal(nan_g, nan_e):
            return "NaN positions differ"
        m = ~nan_e
        g, e = g[m], e[m]
        inf_e = np.isinf(e)
        if not np.array_equal(g[inf_e], e[inf_e]):
            return "infinities differ"
        g, e = g[~inf_e], e[~inf_e]
        if g.size == 0:
            return None
        tol = atol + rtol * np.abs(e)
        err = np.abs(g - e)
        if np.all(err <= tol):
            return None
        i = int(np.argmax(err - tol))
        return "max abs error %.3g at flat index %d (got %.6g, expected %.6g)" % (
            float(np.max(err)), i, float(g[i]), float(e[i]))
    if got.dtype == np.bool_ or exp.dtype == np.bool_:
        ok = np.array_equal(got.astype(bool), exp.astype(bool))
    elif got.dtype == np.uint64 or exp.dtype == np.uint64:
        ok = np.array_equal(got.astype(np.uint64), exp.astype(np.uint64))
    else:
        ok = np.array_equal(got.astype(np.int64), exp.astype(np.int64))
    return None if ok else "integer values differ"


def run_test(cli, test_dir, rtol, atol, timeout):
    model_path = os.path.join(test_dir, "model.onnx")
    sets = sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))
    if not sets:
        return "skip", "no test data"
    with tempfile.TemporaryDirectory() as tmp:
        for ds in sets:
            ins = sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                         key=lambda p: int(os.path.basename(p)[6:-3]))
            outs = sorted(glob.glob(os.path.join(ds, "output_*.pb")),
                          key=lambda p: int(os.path.basename(p)[7:-3]))
            cmd = [cli, "run", model_path, "-o", tmp]
            for p in ins:
                cmd += ["-i", p]
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return "fail", "timeout after %ds" % timeout
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
                if r.returncode < 0 or r.returncode > 100:
                    msg = "CRASH (exit %d): %s" % (r.returncode, msg)
                return "fail", msg
            for k, p in enumerate(outs):
                got_path = os.path.join(tmp, "output_%d.npy" % k)
                if not os.path.exists(got_path):
                    return "fail", "output %d not written" % k
                exp, kind = expected_array(load_pb(p))
                got = np.load(got_path)
                err = compare(got, exp, kind, rtol, atol)
                if err:
                    return "fail", "%s: output %d: %s" % (os.path.basename(ds), k, err)
    return "pass", ""


def collect(suite_root):
    tests = []
    for g in GROUPS:
        for d in sorted(glob.glob(os.path.join(suite_root, g, "test_*"))):
            if os.path.exists(os.path.join(d, "model.onnx")):
                tests.append(d)
    return tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "edgerun"))
    ap.add_argument("--suite", choices=["debian", "wheel", "all"], default="all")
    ap.add_argument("--filter", default="")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--update", action="store_true", help="rewrite expected-pass.txt")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "conformance"))
    args = ap.parse_args()

    suites = []
    if args.suite in ("debian", "all") and os.path.isdir(DEBIAN):
        suites.append(("debian", DEBIAN))
    if args.suite in ("wheel", "all") and os.path.isdir(WHEEL):
        suites.append(("wheel-onnx-" + onnx.__version__, WHEEL))
    if not suites:
        print("conformance: no test data found (install libonnx-testdata and onnx)", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    expected = set()
    if os.path.exists(EXPECTED):
        expected = {l.strip() for l in open(EXPECTED) if l.strip() and not l.startswith("#")}
    passed_ids, regressions, summary = set(), [], []
    for name, root in suites:
        tests = [t for t in collect(root) if args.filter in os.path.basename(t)]
        meta = {}
        for t in tests:
            try:
                meta[t] = is_numeric(onnx.load(os.path.join(t, "model.onnx"), load_external_data=False))
            except Exception:
                meta[t] = True
        t0 = time.time()
        results = {}
        with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = {ex.submit(run_test, args.cli, t, args.rtol, args.atol, args.timeout): t for t in tests}
            for f in cf.as_completed(futs):
                t = futs[f]
                try:
                    results[t] = f.result()
                except Exception as e:  # the harness itself must not die on one test
                    results[t] = ("fail", "harness error: %s" % e)
        rows = []
        n_num = n_num_pass = n_other = n_other_pass = 0
        for t in tests:
            status, msg = results[t]
            tid = "%s/%s/%s" % (name.split("-")[0], os.path.basename(os.path.dirname(t)), os.path.basename(t))
            rows.append({"test": tid, "numeric": meta[t], "status": status, "message": msg})
            if meta[t]:
                n_num += 1
                n_num_pass += status == "pass"
            else:
                n_other += 1
                n_other_pass += status == "pass"
            if status == "pass":
                passed_ids.add(tid)
            elif tid in expected:
                regressions.append((tid, msg))
            if args.verbose and status != "pass":
                print("  %s %s: %s" % (status.upper(), tid, msg))
        with open(os.path.join(args.out, name.split("-")[0] + ".json"), "w") as f:
            json.dump({"suite": name, "root": root, "numeric_total": n_num, "numeric_passed": n_num_pass,
                       "other_total": n_other, "other_passed": n_other_pass, "tests": rows}, f, indent=1)
        rate = 100.0 * n_num_pass / n_num if n_num else 0.0
        line = "conformance %s: %d of %d numeric tests pass (%.1f%%); non-numeric %d of %d; %.0fs" % (
            name, n_num_pass, n_num, rate, n_other_pass, n_other, time.time() - t0)
        summary.append(line)
        print(line, flush=True)
    if args.update:
        os.makedirs(os.path.dirname(EXPECTED), exist_ok=True)
        keep = set()
        if args.filter:  # partial run: keep entries outside the filter
            keep = {t for t in expected if args.filter not in t.split("/")[-1]}
        with open(EXPECTED, "w") as f:
            f.write("# tests that pass; a failure of any of these is a regression (tests/conformance.py --update)\n")
            for t in sorted(passed_ids | keep):
                f.write(t + "\n")
        print("conformance: wrote %s" % EXPECTED)
    for tid, msg in regressions:
        print("REGRESSION %s: %s" % (tid, msg))
    print("conformance regressions: %d (of %d tests expected to pass)" % (len(regressions), len(expected)))
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
