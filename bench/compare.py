#!/usr/bin/env python3
"""compare.py — edgerun vs ONNX Runtime vs OpenVINO on the same models and inputs (bench/compare).

    bench/compare [--quick] [--models a,b] [--threads 1,2] [--rounds N] [--edgerun PATH]
                  [--json FILE] [--doc docs/performance.md] [--list]

For each thread count, each model and each round, every engine runs in a fresh process
(edgerun: `edgerun bench --json`; ORT / OpenVINO: bench/engine.py), the engines taking turns
in a rotating order, so slow drifts of the machine spread over all of them. Per engine and
model the reported latency is the median over rounds of each process's median; peak RSS
(from wait4, the same for all three) and load-to-first-result (load_ms + first_ms) are the
medians over rounds. Each engine's own per-call overhead is its median on a 1-element
Identity model, measured the same way; "adj" numbers subtract it. Ratios are edgerun / other
(below 1 = edgerun faster) on the adjusted medians; geometric means over the models where
both engines produced a number. An engine that fails on a model gets "error" and the run
goes on.

Inputs are deterministic .npy files (numpy RandomState per model), written once to
.cache/bench-inputs/ and fed to all three engines. Missing extra models are exported with
bench/export-extra.py (Debian's /usr/bin/python3 with torch); the torchvision and
fetched models come from `bash scripts/setup-test.sh`.
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS_DIR = os.path.join(ROOT, ".cache", "models")
BENCH_DIR = os.path.join(MODELS_DIR, "bench")
INPUTS_DIR = os.path.join(ROOT, ".cache", "bench-inputs")
ENGINES = ["edgerun", "ort", "ov"]
LABEL = {"edgerun": "edgerun", "ort": "ORT", "ov": "OpenVINO"}
SHORT = {"edgerun": "er", "ort": "ORT", "ov": "OV"}

# name, file (relative to .cache/models), {input name: (shape, kind)} overrides for symbolic
# dims / special values, in quick subset?
#   kind: "img" uniform[-1,1) float32, "small" uniform[-0.1,0.1) float32, "zeros",
#         ("ids", vocab) int64 in [0, vocab), ("const", value, dtype)
MODELS = [
    ("mobilenet_v2", "tv_mobilenet_v2.onnx", {}, True),
    ("mobilenet_v3_small", "bench/mobilenet_v3_small.onnx", {}, False),
    ("resnet18", "tv_resnet18.onnx", {}, False),
    ("squeezenet1_1", "bench/squeezenet1_1.onnx", {}, True),
    ("shufflenet_v2", "tv_shufflenet_v2_x1_0.onnx", {}, False),
    ("efficientnet_b0", "tv_efficientnet_b0.onnx", {}, False),
    ("mnasnet1_0", "bench/mnasnet1_0.onnx", {}, False),
    ("dscnn_kws", "bench/dscnn_kws.onnx", {}, True),
    ("lstm_ts", "bench/lstm_ts.onnx", {}, True),
    ("tinybert_4l", "bench/tinybert.onnx", {"input_ids": ((1, 128), ("ids", 30522))}, False),
    ("silero_vad_v5", "silero_vad_v5.onnx",
     {"input": ((1, 576), "small"), "state": ((2, 1, 128), "zeros"), "sr": ((), ("const", 16000, "int64"))}, True),
    ("ppocr_det_v4", "ch_PP-OCRv4_det_infer.onnx", {"x": ((1, 3, 480, 640), "img")}, False),
    ("ppocr_rec_v4", "ch_PP-OCRv4_rec_infer.onnx", {"x": ((1, 3, 48, 320), "img")}, False),
    ("ppocr_cls_v2", "ch_ppocr_mobile_v2.0_cls_infer.onnx", {"x": ((1, 3, 48, 192), "img")}, False),
]
IDENTITY = ("(identity)", "bench/identity.onnx", {}, False)

NP_DTYPE = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16,
            11: np.float64}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- models and inputs
def ensure_identity(path):
    if os.path.exists(path):
        return
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(m, path)


def ensure_models(models):
    missing_extra = [m for m in models if m[1].startswith("bench/") and m[0] != IDENTITY[0]
                     and not os.path.exists(os.path.join(MODELS_DIR, m[1]))]
    if missing_extra:
        log("compare: exporting %s with bench/export-extra.py" % ", ".join(m[0] for m in missing_extra))
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        subprocess.call([py, os.path.join(ROOT, "bench", "export-extra.py"), "--quiet"])
    ensure_identity(os.path.join(MODELS_DIR, IDENTITY[1]))


def model_inputs(path):
    import onnx
    m = onnx.load(path, load_external_data=False)
    init = {t.name for t in m.graph.initializer}
    out = []
    for v in m.graph.input:
        if v.name in init:
            continue
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        out.append((v.name, t.elem_type, dims))
    return out


def make_inputs(name, path, overrides):
    """Write deterministic .npy inputs; return [(input name, file)] in model input order."""
    d = os.path.join(INPUTS_DIR, name)
    manifest = os.path.join(d, "inputs.json")
    if os.path.exists(manifest) and os.path.getmtime(manifest) >= os.path.getmtime(path):
        with open(manifest) as f:
            return [tuple(x) for x in json.load(f)]
    os.makedirs(d, exist_ok=True)
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(name)) % (2 ** 31)
    rs = np.random.RandomState(seed)
    res = []
    for k, (iname, et, dims) in enumerate(model_inputs(path)):
        shape, kind = overrides.get(iname, (None, None))
        if shape is None:
            if any(x < 0 for x in dims):
                raise SystemExit("compare: %s input %s has symbolic dims %s: give a shape in MODELS"
                                 % (name, iname, dims))
            shape = tuple(dims)
        dt = NP_DTYPE.get(et)
        if dt is None:
            raise SystemExit("compare: %s input %s: element type %d not handled" % (name, iname, et))
        if kind is None:
            kind = "img" if dt in (np.float32, np.float16, np.float64) else ("ids", 2)
        if kind == "img":
            arr = rs.uniform(-1.0, 1.0, shape)
        elif kind == "small":
            arr = rs.uniform(-0.1, 0.1, shape)
        elif kind == "zeros":
            arr = np.zeros(shape)
        elif kind[0] == "ids":
            arr = rs.randint(0, kind[1], size=shape)
        elif kind[0] == "const":
            arr = np.full(shape, kind[1])
        arr = np.array(arr, dtype=dt, order="C")  # keeps 0-d (ascontiguousarray makes 1-d)
        f = os.path.join(d, "input_%d.npy" % k)
        np.save(f, arr)
        res.append((iname, f))
    with open(manifest, "w") as f:
        json.dump(res, f)
    return res


# ---------------------------------------------------------------- one measurement
def run_once(engine, model_path, inputs, threads, runs, warmup, edgerun, timeout):
    """Run one fresh process; return its JSON dict (+ rss_kb from wait4) or {'error': msg}."""
    if engine == "edgerun":
        cmd = [edgerun, "bench", model_path]
        for _, f in inputs:
            cmd += ["-i", f]
    else:
        cmd = [sys.executable, os.path.join(ROOT, "bench", "engine.py"), engine, model_path]
        for n, f in inputs:
            cmd += ["-i", "%s=%s" % (n, f)]
    cmd += ["--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup)]
    if engine == "edgerun":
        cmd.append("--json")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    t0 = time.monotonic()
    # Output to temp files and reap the child with wait4 ourselves, to read its peak RSS.
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        try:
            # The measured process is forked by a small shell, not by this Python process:
            # Linux carries the forking parent's resident set into the child's ru_maxrss
            # across exec, which would put ~70 MB of ours into every number.
            p = subprocess.Popen(["/bin/sh", "-c", '"$@" & wait $!', "sh"] + cmd, stdout=fo, stderr=fe,
                                 env=env, start_new_session=True)
        except OSError as e:
            return {"error": str(e)}
        ru, status = None, 0
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - t0 > timeout:
                os.killpg(p.pid, 9)
                os.wait4(p.pid, 0)
                p.returncode = -9
                return {"error": "timeout after %ds" % timeout}
            time.sleep(0.005)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        lines = [x for x in err.decode(errors="replace").strip().splitlines() if x.strip()]
        msg = lines[-1] if lines else "exit status %d" % p.returncode
        if p.returncode < 0:
            msg = "killed by signal %d%s" % (-p.returncode, (": " + lines[-1]) if lines else "")
        return {"error": msg[:300]}
    line = [x for x in out.decode(errors="replace").splitlines() if x.startswith("{")]
    if not line:
        return {"error": "no JSON output"}
    try:
        r = json.loads(line[-1])
    except ValueError:
        return {"error": "bad JSON output"}
    r["wall_s"] = wall
    return r


# ---------------------------------------------------------------- report
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_ms(x):
    if x is None:
        return "error"
    if x == 0:
        return "<0.0001"  # edgerun bench --json prints 4 decimals
    if x < 0:
        return "~0"
    if x < 0.0001:
        return "<0.0001"
    if x < 0.01:
        return "%.4f" % x
    return "%.3f" % x if x < 1 else "%.2f" % x if x < 100 else "%.0f" % x


def shorten(msg, n=220):
    msg = " ".join(msg.replace("|", "/").split())
    return msg if len(msg) <= n else msg[:n] + " …"


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


def summarize(results, model_names, engines):
    """results[model][engine] = list of per-round dicts -> summary per model and engine."""
    summ = {}
    for mname in model_names:
        summ[mname] = {}
        for e in engines:
            rounds = results.get(mname, {}).get(e, [])
            ok = [r for r in rounds if "error" not in r]
            if not ok:
                errs = [r["error"] for r in rounds if "error" in r]
                summ[mname][e] = {"error": errs[0] if errs else "not run"}
                continue
            summ[mname][e] = {
                "median_ms": med([r["median_ms"] for r in ok]),
                "rounds": len(ok),
                "runs": ok[0].get("runs"),
                "rss_mb": med([r["peak_rss_kb"] for r in ok]) / 1024.0,
                "load_first_ms": med([r["load_ms"] + r["first_ms"] for r in ok]),
                "load_ms": med([r["load_ms"] for r in ok]),
                "first_ms": med([r["first_ms"] for r in ok]),
                "spread_pct": (100.0 * (max(r["median_ms"] for r in ok) - min(r["median_ms"] for r in ok))
                               / max(1e-9, med([r["median_ms"] for r in ok]))),
            }
            if "import_ms" in ok[0]:
                summ[mname][e]["import_ms"] = med([r["import_ms"] for r in ok])
            if "isa" in ok[0]:
                summ[mname][e]["isa"] = ok[0]["isa"]
    return summ


def table(summ, model_names, engines, overhead):
    """Markdown table + geometric means. Adjusted = median - the engine's Identity median."""
    others = [e for e in engines if e != "edgerun"]
    hdr = ["model"] + ["%s ms" % LABEL[e] for e in engines]
    if "edgerun" in engines:
        hdr += ["er/%s" % SHORT[e] for e in others]
    short = "/".join(SHORT[e] for e in engines)
    hdr += ["raw ms " + short, "RSS MB " + short, "load→first ms " + short]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] + ["---:"] * (len(hdr) - 1)) + "|"]
    ratios = {e: [] for e in others}
    raw_ratios = {e: [] for e in others}
    for mname in model_names:
        row = [mname]
        adj = {}
        for e in engines:
            s = summ[mname][e]
            if "error" in s:
                adj[e] = None
                row.append("error")
            elif mname == IDENTITY[0]:
                adj[e] = s["median_ms"]
                row.append(fmt_ms(s["median_ms"]))
            else:
                oh = overhead.get(e) or 0.0
                adj[e] = s["median_ms"] - oh
                row.append(fmt_ms(adj[e]))
        if "edgerun" in engines:
            for e in others:
                a, b = adj.get("edgerun"), adj.get(e)
                if a is not None and b is not None and a > 0 and b > 0 and mname != IDENTITY[0]:
                    ratios[e].append(a / b)
                    row.append(fmt_ratio(a / b))
                else:
                    row.append("n/a")
                ra, rb = summ[mname]["edgerun"].get("median_ms"), summ[mname][e].get("median_ms")
                if ra and rb and mname != IDENTITY[0]:
                    raw_ratios[e].append(ra / rb)

        def cell(key, f):
            return "/".join("err" if "error" in summ[mname][e] else f(summ[mname][e][key]) for e in engines)
        row.append(cell("median_ms", fmt_ms))
        row.append(cell("rss_mb", lambda x: "%.0f" % x))
        row.append(cell("load_first_ms", lambda x: "%.0f" % x if x >= 10 else "%.1f" % x))
        lines.append("| " + " | ".join(row) + " |")
    geo = []
    if "edgerun" in engines:
        for e in others:
            g, gr = geomean(ratios[e]), geomean(raw_ratios[e])
            geo.append("geomean er/%s: %s adjusted (%d models), %s raw (%d models)"
                       % (LABEL[e], fmt_ratio(g), len(ratios[e]), fmt_ratio(gr), len(raw_ratios[e])))
    return lines, geo, {e: geomean(ratios[e]) for e in others}


# ---------------------------------------------------------------- machine
def machine_info():
    info = {}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            k, _, v = line.partition(":")
            info[k.strip()] = v.strip()
    except OSError:
        pass
    flags = info.get("Flags", "").split()
    load = os.getloadavg()
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = int(f.readline().split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cpu": info.get("Model name", platform.processor()),
        "cpus": os.cpu_count(),
        "cores_per_socket": info.get("Core(s) per socket"),
        "threads_per_core": info.get("Thread(s) per core"),
        "hypervisor": info.get("Hypervisor vendor"),
        "isa": " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in flags),
        "kernel": platform.release(),
        "mem_gb": mem_gb,
        "loadavg_start": "%.2f %.2f %.2f" % load,
    }


def versions():
    v = {"python": platform.python_version(), "numpy": np.__version__}
    for mod, key in (("onnxruntime", "onnxruntime"), ("openvino", "openvino")):
        try:
            v[key] = subprocess.run([sys.executable, "-c", "import %s as m; print(m.__version__)" % mod],
                                    capture_output=True, text=True, timeout=120).stdout.strip() or "missing"
        except Exception:
            v[key] = "missing"
    try:
        v["commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "src"],
                               capture_output=True, text=True).stdout.strip()
        v["src_dirty"] = bool(dirty)
    except OSError:
        v["commit"] = "?"
    return v


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="subset of models, 1 thread, 2 rounds, short runs")
    ap.add_argument("--models", help="comma-separated model names (see --list)")
    ap.add_argument("--threads", help="comma-separated thread counts (default 1,2; --quick: 1)")
    ap.add_argument("--rounds", type=int, help="rounds of each engine per model (default 3; --quick: 2)")
    ap.add_argument("--engines", default="edgerun,ort,ov", help="comma-separated subset of edgerun,ort,ov")
    ap.add_argument("--budget", type=float, help="seconds of timed runs per measurement (default 2; --quick 0.4)")
    ap.add_argument("--edgerun", default=os.path.join(ROOT, "build", "edgerun"), help="edgerun binary")
    ap.add_argument("--timeout", type=int, default=600, help="seconds before one process is killed")
    ap.add_argument("--json", dest="json_out", help="write all raw results to this file")
    ap.add_argument("--doc", help="write the report (markdown) to this file, e.g. docs/performance.md")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    a = ap.parse_args()

    if a.list:
        for m in MODELS:
            path = os.path.join(MODELS_DIR, m[1])
            print("%-20s %s%s%s" % (m[0], os.path.relpath(path, ROOT), "  [quick]" if m[3] else "",
                                    "" if os.path.exists(path) else "  (missing)"))
        return 0
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad or not engines:
        log("compare: unknown engine(s) %s (choose from %s)" % (",".join(bad), ",".join(ENGINES)))
        return 2
    threads = [int(x) for x in (a.threads or ("1" if a.quick else "1,2")).split(",")]
    rounds = a.rounds or (2 if a.quick else 3)
    budget = a.budget or (0.4 if a.quick else 2.0)
    max_runs = 40 if a.quick else 300
    min_runs = 3 if a.quick else 5
    oh_runs = 300 if a.quick else 2000
    if a.models:
        want = [x.strip() for x in a.models.split(",") if x.strip()]
        unknown = [w for w in want if w not in [m[0] for m in MODELS]]
        if unknown:
            log("compare: unknown model(s) %s; known: %s" % (",".join(unknown), ",".join(m[0] for m in MODELS)))
            return 2
        models = [m for m in MODELS if m[0] in want]
    else:
        models = [m for m in MODELS if m[3]] if a.quick else list(MODELS)
    edgerun = os.path.abspath(a.edgerun)
    if "edgerun" in engines and not os.access(edgerun, os.X_OK):
        log("compare: %s is not an executable (build it: make, or pass --edgerun PATH)" % edgerun)
        return 2

    ensure_models(models)
    inputs = {}
    present = []
    for m in [IDENTITY] + models:
        path = os.path.join(MODELS_DIR, m[1])
        if not os.path.exists(path):
            log("compare: %s: %s missing (run bash scripts/setup-test.sh); skipped" % (m[0], os.path.relpath(path, ROOT)))
            continue
        inputs[m[0]] = (path, make_inputs(m[0].strip("()"), path, m[2]))
        present.append(m[0])
    names = [n for n in present if n != IDENTITY[0]]

    started = datetime.datetime.now().astimezone()
    mach = machine_info()
    vers = versions()
    all_results = {}
    t_start = time.monotonic()

    # Probe: one run per engine and model (1 thread) to pick run counts that fit the budget,
    # and to find engines that fail on a model (those are not retried).
    runs_for = {}
    probe_err = {}
    log("compare: probing %d models x %d engines" % (len(names), len(engines)))
    for n in names:
        path, inp = inputs[n]
        for e in engines:
            r = run_once(e, path, inp, threads[0], 1, 0, edgerun, a.timeout)
            if "error" in r:
                probe_err[(n, e)] = r
                log("  %-18s %-8s error: %s" % (n, e, r["error"]))
                continue
            one = max(r["median_ms"], 1e-3)
            runs = int(min(max_runs, max(min_runs, budget * 1000.0 / one)))
            runs_for[(n, e)] = (runs, max(1, min(10, runs // 5)))

    for th in threads:
        results = {}
        log("compare: threads=%d" % th)
        # per-call overhead first, same rotation
        order_models = [IDENTITY[0]] + names if IDENTITY[0] in inputs else names
        for n in order_models:
            path, inp = inputs[n]
            results[n] = {e: [] for e in engines}
            for rd in range(rounds):
                k = rd % len(engines)
                for e in engines[k:] + engines[:k]:
                    if (n, e) in probe_err:
                        if rd == 0:
                            results[n][e].append(probe_err[(n, e)])
                        continue
                    runs, warm = (oh_runs, 50) if n == IDENTITY[0] else runs_for[(n, e)]
                    r = run_once(e, path, inp, th, runs, warm, edgerun, a.timeout)
                    results[n][e].append(r)
            cells = []
            for e in engines:
                ok = [r["median_ms"] for r in results[n][e] if "error" not in r]
                cells.append("%s %s" % (e, fmt_ms(med(ok)) if ok else "error"))
            log("  %-18s %s" % (n, "  ".join(cells)))
        all_results[th] = results

    elapsed = time.monotonic() - t_start
    out = []
    out.append("# edgerun performance: side by side with ONNX Runtime and OpenVINO")
    out.append("")
    out.append("Written by `bench/compare` (see bench/README.md for the method); this file holds its latest output.")
    out.append("")
    cmdline = "bench/compare " + " ".join(sys.argv[1:])
    out.append("- command: `%s`" % cmdline.strip())
    out.append("- date: %s (took %.0f s)" % (started.strftime("%Y-%m-%d %H:%M %Z"), elapsed))
    out.append("- commit: %s%s" % (vers.get("commit"), " (with uncommitted changes under src/)" if vers.get("src_dirty") else ""))
    out.append("- machine: %s, %s CPUs (%s cores/socket, %s threads/core)%s, %s, kernel %s, %.0f GiB RAM"
               % (mach["cpu"], mach["cpus"], mach["cores_per_socket"], mach["threads_per_core"],
                  ", %s guest" % mach["hypervisor"] if mach["hypervisor"] else "", "ISA " + mach["isa"],
                  mach["kernel"], mach["mem_gb"] or 0))
    end_load = os.getloadavg()
    out.append("- load average at start: %s; at end: %s" % (mach["loadavg_start"], "%.2f %.2f %.2f" % end_load))
    if max(float(mach["loadavg_start"].split()[0]), end_load[0]) > (mach["cpus"] or 1):
        out.append("- **the machine was busy with other work during this run** (load average above the CPU "
                   "count): expect noise, worst for the 2-thread table")
    isas = sorted({s.get("isa") for th in all_results for n in all_results[th]
                   for s in [summarize(all_results[th], [n], engines)[n].get("edgerun", {})] if s.get("isa")})
    out.append("- engines: edgerun (`%s`, kernels: %s), onnxruntime %s (CPU EP, ORT_ENABLE_ALL, sequential), "
               "openvino %s (CPU, LATENCY hint, 1 stream, f32 precision, static input shapes), python %s, numpy %s"
               % (os.path.relpath(edgerun, ROOT) if edgerun.startswith(ROOT) else edgerun,
                  ",".join(isas) or "?", vers["onnxruntime"], vers["openvino"], vers["python"], vers["numpy"]))
    out.append("- rounds: %d per engine and model, engines alternating, each in a fresh process; timed runs per "
               "process sized to ~%.1f s (%d..%d), Identity overhead model %d runs" % (rounds, budget, min_runs, max_runs, oh_runs))
    out.append("")
    out.append("Times are medians over rounds of each process's median, minus the engine's own per-call "
               "overhead (its median on a 1-element Identity model, the `(identity)` row, shown unadjusted). "
               "er/X below 1 means edgerun is faster. `raw ms` are the unadjusted medians. RSS is the "
               "process's own peak resident set (getrusage; each process is forked from a small shell), so ORT and OpenVINO include the Python interpreter and "
               "numpy (see the identity row for each engine's floor). load→first is from creating the "
               "session (file read included; Python imports excluded) to the first result.")
    geo_all = {}
    for th in threads:
        results = all_results[th]
        order = ([IDENTITY[0]] if IDENTITY[0] in results else []) + names
        summ = summarize(results, order, engines)
        overhead = {e: summ[IDENTITY[0]][e].get("median_ms") for e in engines} if IDENTITY[0] in summ else {}
        lines, geo, g = table(summ, order, engines, overhead)
        geo_all[th] = g
        out.append("")
        out.append("## %d thread%s" % (th, "s" if th > 1 else ""))
        out.append("")
        out.append("Per-call overhead subtracted: " + ", ".join(
            "%s %s ms" % (LABEL[e], "%.4f" % overhead[e] if overhead.get(e) is not None else "?") for e in engines))
        out.append("")
        out.extend(lines)
        out.append("")
        out.extend("- " + x for x in geo)
        spreads = {e: med([summ[n][e].get("spread_pct") for n in names if "error" not in summ[n][e]])
                   for e in engines}
        out.append("- round-to-round spread of the medians, (max-min)/median, median over models: " + ", ".join(
            "%s %s" % (LABEL[e], "%.0f%%" % spreads[e] if spreads[e] is not None else "?") for e in engines))
        errs = [(n, e, summ[n][e]["error"]) for n in order for e in engines if "error" in summ[n][e]]
        if errs:
            out.append("")
            out.append("Errors:")
            out.extend("- %s / %s: %s" % (n, LABEL[e], shorten(msg)) for n, e, msg in errs)
        all_results[th] = {"results": results, "summary": summ, "overhead": overhead}
    text = "\n".join(out) + "\n"
    print(text)
    if a.doc:
        with open(a.doc, "w") as f:
            f.write(text)
        log("compare: wrote %s" % a.doc)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"machine": mach, "versions": vers, "command": cmdline, "date": started.isoformat(),
                       "threads": {str(k): v for k, v in all_results.items()}}, f, indent=1)
        log("compare: wrote %s" % a.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
