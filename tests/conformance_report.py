#!/usr/bin/env python3
"""Write docs/conformance.md from build/conformance/*.json (made by tests/conformance.py)."""
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Why a test fails when the cause is not in edgerun. Keys are test-name prefixes.
REASONS = {
    "test_bernoulli": "random output (Bernoulli / RandomUniformLike): values cannot match a recorded run",
    "test_training_dropout": "random dropout mask in training mode: values cannot match a recorded run",
    "test_gradient_of": "Gradient (ai.onnx.preview.training) needs automatic differentiation: not supported",
    "test_adam_multiple": "test data bug: expected output computed with epsilon=1e-2 but the node carries the default 1e-6",
    "test_castlike_BFLOAT16_to_FLOAT": "test data bug (Debian set): input 'like' is stored as shape [1], the model declares [3,4]",
    "test_castlike_FLOAT_to_BFLOAT16": "test data bug (Debian set): input 'like' is stored as shape [1], the model declares [3,4]",
    "test_qlinearmatmul_2D_int8": "test data bug: expected values wrap around instead of saturating (ONNX Runtime 1.20 agrees with edgerun)",
    "test_qlinearmatmul_3D_int8": "test data bug: expected values wrap around instead of saturating (ONNX Runtime 1.20 agrees with edgerun)",
    "test_image_decoder": "ImageDecoder (JPEG/PNG/... decoding) not implemented",
}


def reason(name, msg):
    for k, v in REASONS.items():
        if name.startswith(k):
            return v
    return msg


def main():
    out_dir = os.path.join(ROOT, "build", "conformance")
    suites = []
    for fn in ("debian.json", "wheel.json"):
        p = os.path.join(out_dir, fn)
        if os.path.exists(p):
            suites.append(json.load(open(p)))
    if not suites:
        print("no results in build/conformance: run tests/conformance.py first", file=sys.stderr)
        return 1
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    lines = ["# ONNX conformance", "",
             "Made by `python3 tests/conformance.py && python3 tests/conformance_report.py` on %s (commit %s)." % (
                 datetime.date.today().isoformat(), rev), "",
             "Each test folder's `model.onnx` is run with `edgerun run` on every `test_data_set_N`; outputs are",
             "compared with `output_K.pb` (floats: rtol 1e-3, atol 1e-5, NaN positions equal; bfloat16 with",
             "rtol 1e-2; integers, bool and float8/int4 bit patterns exactly; shapes and types exactly).",
             "A test is *numeric* when every graph input and output is a numeric or bool tensor; the pass",
             "rate counts numeric tests. Tests that use strings, sequences or optionals as graph inputs or",
             "outputs are listed separately (edgerun has no string tensors; sequences/optionals work inside",
             "graphs but the CLI reads and writes only tensors).", "",
             "| suite | numeric passed | numeric total | pass rate | non-numeric passed |",
             "|---|---|---|---|---|"]
    for s in suites:
        lines.append("| %s (`%s`) | %d | %d | **%.1f %%** | %d of %d |" % (
            s["suite"], s["root"].replace(os.path.expanduser("~"), "~"), s["numeric_passed"], s["numeric_total"],
            100.0 * s["numeric_passed"] / max(1, s["numeric_total"]), s["other_passed"], s["other_total"]))
    lines += ["", "For scale (from the issue, same Debian set on this machine): ONNX Runtime 1.30 passes 92.4 %,",
              "libonnx about 56 %.", ""]
    for s in suites:
        fails = [t for t in s["tests"] if t["status"] != "pass" and t["numeric"]]
        lines += ["## Numeric failures: %s (%d)" % (s["suite"], len(fails)), "", "| test | reason |", "|---|---|"]
        for t in fails:
            name = t["test"].split("/")[-1]
            msg = reason(name, t["message"]).replace("|", "\\|")
            msg = msg.replace(os.path.expanduser("~"), "~")
            lines.append("| %s | %s |" % (t["test"], msg[:300]))
        lines.append("")
    p = os.path.join(ROOT, "docs", "conformance.md")
    open(p, "w").write("\n".join(lines) + "\n")
    print("wrote", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
