#!/usr/bin/env python3
"""compare_npy.py — compare output tensors with reference tensors.

    compare_npy.py [--rtol R] [--atol-rel A] [--scale S] GOT.npy REF.npy [GOT.npy REF.npy]...

Passes when every pair has the same shape and dtype and, elementwise,
|got - ref| <= A * max(max|ref|, S) + R * |ref| (NaN only where ref is NaN, inf only where
ref has the same inf; integer and bool tensors must be equal). Defaults R=1e-3, A=1e-4,
S=0; S=1 compares probabilities on their [0, 1] range. Prints one line:
    max|err| E (worst/allowed W) [first problem]
and exits 0 on pass, 1 on mismatch, 2 on a file it cannot read.
"""
import sys

import numpy as np


def main(argv):
    rtol, atol_rel, scale_floor = 1e-3, 1e-4, 0.0
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--rtol":
            rtol = float(argv[i + 1]); i += 2
        elif argv[i] == "--atol-rel":
            atol_rel = float(argv[i + 1]); i += 2
        elif argv[i] == "--scale":
            scale_floor = float(argv[i + 1]); i += 2
        else:
            args.append(argv[i]); i += 1
    if not args or len(args) % 2:
        print("usage: compare_npy.py [--rtol R] [--atol-rel A] [--scale S] GOT REF [GOT REF]...", file=sys.stderr)
        return 2
    max_err, worst, problems = 0.0, 0.0, []
    for got_p, ref_p in zip(args[0::2], args[1::2]):
        try:
            got, ref = np.load(got_p, allow_pickle=False), np.load(ref_p, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 — any unreadable file is one clear line
            print("cannot read %s: %s" % (got_p, str(e).split("\n")[0]))
            return 2
        name = got_p.rsplit("/", 1)[-1]
        if got.shape != ref.shape:
            problems.append("%s: shape %s, expected %s" % (name, list(got.shape), list(ref.shape)))
            continue
        if got.dtype.kind != ref.dtype.kind or got.dtype.itemsize != ref.dtype.itemsize:
            problems.append("%s: dtype %s, expected %s" % (name, got.dtype, ref.dtype))
            continue
        if ref.dtype.kind not in "fc":
            bad = int(np.count_nonzero(got != ref))
            if bad:
                problems.append("%s: %d of %d elements differ" % (name, bad, ref.size))
            continue
        g, r = got.astype(np.float64), ref.astype(np.float64)
        fin = np.isfinite(r)
        same_special = np.all((np.isnan(g) == np.isnan(r)) & (np.isinf(g) == np.isinf(r))
                              & (~np.isinf(r) | (g == r)))
        if not same_special:
            problems.append("%s: NaN/inf where the reference has none (or the reverse)" % name)
            continue
        if not fin.any():
            continue
        err = np.abs(g - r)[fin]
        scale = max(float(np.max(np.abs(r[fin]))), scale_floor)
        allowed = atol_rel * scale + rtol * np.abs(r[fin])
        ratio = float(np.max(err / np.maximum(allowed, np.finfo(np.float64).tiny)))
        max_err = max(max_err, float(err.max()))
        worst = max(worst, ratio)
        if ratio > 1:
            k = int(np.argmax(err / np.maximum(allowed, np.finfo(np.float64).tiny)))
            problems.append("%s: at flat index %d got %.7g, expected %.7g" % (
                name, int(np.flatnonzero(fin)[k]), g[fin][k], r[fin][k]))
    line = "max|err| %.3g (worst/allowed %.3g)" % (max_err, worst)
    if problems:
        line += " " + "; ".join(problems[:2])
    print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
