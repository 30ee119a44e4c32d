#!/usr/bin/env python3
"""engine.py — one measurement of ONNX Runtime or OpenVINO in a fresh process, for bench/compare.

    python3 bench/engine.py {ort|ov} MODEL.onnx [-i NAME=FILE.npy]... --threads N --runs N --warmup N

Prints one JSON object with the same keys as `edgerun bench --json`: median_ms p90_ms p99_ms
min_ms max_ms load_ms first_ms peak_rss_kb, plus import_ms (time to import the Python module,
not part of load_ms) and base_rss_kb (resident set after the imports, before the model).
load_ms runs from just before the session/compiled model is created (file read included) to
inputs ready; first_ms is the first inference. Both engines are given every graph
optimization, N intra-op threads, sequential execution, one stream, and float32 precision
(OpenVINO would otherwise pick bfloat16 on CPUs with AVX512_BF16). OpenVINO gets the input
shapes fixed to the given arrays (model.reshape), as its benchmark_app does with -shape.
On failure: one line on stderr and exit status 1.
"""
import argparse
import json
import os
import resource
import sys
import time


def now_ms():
    return time.perf_counter_ns() / 1e6


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(sorted_times, p):
    n = len(sorted_times)
    r = p * (n - 1)
    lo, hi = int(r), min(int(r) + 1, n - 1)
    return sorted_times[lo] + (sorted_times[hi] - sorted_times[lo]) * (r - lo)


def make_ort(model, feeds, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    missing = [n for n in names if n not in feeds]
    if missing:
        raise RuntimeError("no input given for %s" % ", ".join(missing))
    feed = {n: feeds[n] for n in names}
    return lambda: sess.run(None, feed)


def make_ov(model, feeds, threads):
    import openvino as ov
    core = ov.Core()
    m = core.read_model(model)
    shapes = {}
    order = []
    for port in m.inputs:
        name = next((n for n in port.get_names() if n in feeds), None)
        if name is None:
            raise RuntimeError("no input given for %s" % port.get_any_name())
        order.append(name)
        shapes[port] = ov.PartialShape(list(feeds[name].shape))
    m.reshape(shapes)
    cfg = {
        "INFERENCE_NUM_THREADS": threads,
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "f32",
    }
    cm = core.compile_model(m, "CPU", cfg)
    req = cm.create_infer_request()
    feed = {i: feeds[n] for i, n in enumerate(order)}
    return lambda: req.infer(feed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("engine", choices=["ort", "ov"])
    ap.add_argument("model")
    ap.add_argument("-i", dest="inputs", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    t = now_ms()
    import numpy as np
    if a.engine == "ort":
        import onnxruntime  # noqa: F401
    else:
        import openvino  # noqa: F401
    import_ms = now_ms() - t
    base_rss = rss_kb()
    feeds = {}
    for spec in a.inputs:
        name, _, path = spec.rpartition("=")
        feeds[name] = np.load(path)
    try:
        t0 = now_ms()
        run = (make_ort if a.engine == "ort" else make_ov)(a.model, feeds, a.threads)
        t1 = now_ms()
        run()
        t2 = now_ms()
        for _ in range(a.warmup):
            run()
        times = []
        for _ in range(max(1, a.runs)):
            s = time.perf_counter_ns()
            run()
            times.append((time.perf_counter_ns() - s) / 1e6)
    except Exception as e:  # report and exit non-zero; the caller marks the cell "error"
        lines = [x.strip() for x in str(e).splitlines() if x.strip()]
        # OpenVINO messages start with source locations; keep the lines that say what failed
        keep = [x for x in lines if not x.startswith(("Exception from", "Check 'false'"))] or lines
        msg = " ".join(keep)[:400] or type(e).__name__
        print("engine.py: %s: %s: %s" % (a.engine, os.path.basename(a.model), msg), file=sys.stderr)
        return 1
    times.sort()
    out = {
        "engine": a.engine, "model": a.model, "threads": a.threads, "runs": len(times), "warmup": a.warmup,
        "median_ms": pct(times, 0.5), "p90_ms": pct(times, 0.9), "p99_ms": pct(times, 0.99),
        "min_ms": times[0], "max_ms": times[-1], "load_ms": t1 - t0, "first_ms": t2 - t1,
        "import_ms": import_ms, "base_rss_kb": base_rss,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: it is not part of what we measure


if __name__ == "__main__":
    sys.exit(main())
