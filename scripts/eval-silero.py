#!/usr/bin/env python3
"""eval-silero.py — Silero VAD v5 float vs quantized: do the speech decisions agree?

    python3 scripts/eval-silero.py [--cli build/edgerun] [--model .cache/models/silero_vad_v5.onnx]
        [--wav .cache/speech.wav] [--variants static,dynamic] [--snr 10] [--json OUT]
        [--check 0.99]

Silero VAD runs frame by frame (512 samples + the 64 previous ones at 16 kHz, state carried
from frame to frame, sr = 16000), as tools/vad-demo/vad_demo.c and scripts/demo.sh feed it.

Evaluation audio: the recording --wav (scripts/make-speech.sh) clean, and the same recording
with white Gaussian noise mixed in at --snr dB (noise seed 2; SNR measured over the speech
segments of the .segments file).

Calibration audio (static quantization) is a DIFFERENT recording: other sentences spoken by
another espeak-ng voice (en-gb, faster), once clean and once with noise at the same SNR but
noise seed 1. Every 3rd frame of both gives a calibration sample (input window, the float
model's state at that frame, sr) in the layout `edgerun quantize --calib` reads.

For each variant (`edgerun quantize` static with the default method, --method minmax,
--dynamic, ... ) the script reports
the fraction of frames whose decision (probability > 0.5) agrees with the float model's, in
ONNX Runtime (float and quantized both in ORT) and in edgerun (tools/vad-demo/vad_demo.c on
libedgerun, float and quantized both in edgerun), plus file sizes. --check T exits 1 if any
agreement is below T. Needs numpy, onnxruntime (PyPI), espeak-ng and sox (Debian).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnxruntime as ort

RATE, FRAME, CTX = 16000, 512, 64

CALIB_SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Please remember to switch off the lights before you leave the office tonight.",
    "Seven small boats sailed quietly across the harbour at dawn.",
]
CALIB_GAPS = [0.7, 1.0, 0.5, 0.9]


def read_wav(path):
    with wave.open(path) as w:
        if w.getframerate() != RATE:
            raise SystemExit(f"{path}: {w.getframerate()} Hz, expected {RATE}")
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32)
        ch = w.getnchannels()
    return (x.reshape(-1, ch).mean(1) / 32768.0).astype(np.float32)


def write_wav(path, x):
    q = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(q.tobytes())


def synth_calibration(tmp):
    """A recording of other sentences in another voice (espeak-ng en-gb), with silences."""
    parts = []
    for i, text in enumerate(CALIB_SENTENCES):
        parts.append(np.zeros(int(CALIB_GAPS[i] * RATE), np.float32))
        raw, res = f"{tmp}/c{i}.wav", f"{tmp}/c{i}r.wav"
        subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "175", "-a", "100", "-w", raw, text], check=True)
        subprocess.run(["sox", "-D", raw, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", res],
                       check=True)
        parts.append(read_wav(res))
    parts.append(np.zeros(int(CALIB_GAPS[-1] * RATE), np.float32))
    return np.concatenate(parts)


def speech_power(x, segments):
    if segments:
        idx = np.concatenate([np.arange(int(a * RATE), min(len(x), int(b * RATE))) for a, b in segments])
        return float(np.mean(x[idx] ** 2))
    return float(np.mean(x ** 2))


def add_noise(x, snr_db, seed, segments=None):
    rng = np.random.RandomState(seed)
    p = speech_power(x, segments)
    n = rng.standard_normal(len(x)).astype(np.float32) * np.float32(np.sqrt(p / 10 ** (snr_db / 10)))
    return (x + n).astype(np.float32)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_frames(path, x, keep_inputs=False):
    """Probabilities per frame (and optionally the model inputs of every frame)."""
    s = session(path)
    sr = np.array(RATE, np.int64)
    state = np.zeros((2, 1, 128), np.float32)
    window = np.zeros(CTX + FRAME, np.float32)
    probs, inputs = [], []
    for f in range(len(x) // FRAME):
        window = np.concatenate([window[FRAME:FRAME + CTX], x[f * FRAME:(f + 1) * FRAME]])
        if keep_inputs:
            inputs.append((window[None].copy(), state.copy()))
        p, state = s.run(None, {"input": window[None], "state": state, "sr": sr})
        probs.append(float(p[0, 0]))
    return np.array(probs), inputs


def edgerun_frames(vad_demo, path, wav, tmp):
    out = f"{tmp}/probs.txt"
    r = subprocess.run([vad_demo, path, wav, "--probs", out], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"vad_demo {path}: {r.stderr.strip()}")
    return np.loadtxt(out, ndmin=1)


def build_vad_demo(cli):
    build = os.path.dirname(cli) or "."
    exe = os.path.join(build, "vad_demo")
    lib = os.path.join(build, "libedgerun.a")
    src = "tools/vad-demo/vad_demo.c"
    if not os.path.exists(exe) or os.path.getmtime(exe) < max(os.path.getmtime(lib), os.path.getmtime(src)):
        # `make` builds it with the library's own flags (also sanitizers): prefer that
        if subprocess.run(["make", "-s", "BUILD=" + build, exe]).returncode != 0:
            subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-Iinclude", src, lib, "-lm", "-o", exe], check=True)
    return exe


FLAGS = {"static": [], "percentile": ["--method", "percentile"], "minmax": ["--method", "minmax"],
         "entropy": ["--method", "entropy"], "dynamic": ["--dynamic"],
         "dynamic-qop": ["--dynamic", "--format", "qoperator"]}


def evaluation_audio(wav, snr, tmp):
    """{name: (wav path, samples)}: the recording clean and with noise at `snr` dB (seed 2)."""
    segs = None
    seg_path = wav[:-4] + ".segments"
    if os.path.exists(seg_path):
        segs = [tuple(map(float, l.split())) for l in open(seg_path) if l.strip()]
    clean = read_wav(wav)
    write_wav(f"{tmp}/noisy.wav", add_noise(clean, snr, seed=2, segments=segs))
    return {"clean": (wav, clean), f"noisy {snr:g} dB": (f"{tmp}/noisy.wav", read_wav(f"{tmp}/noisy.wav"))}


def make_calibration(model, snr, tmp):
    """Calibration folder from another recording, clean and noisy (seed 1), every 3rd frame:
    (folder, sample count, seconds of audio)."""
    cal = synth_calibration(tmp)
    calib = f"{tmp}/calib"
    n = 0
    for x in (cal, add_noise(cal, snr, seed=1)):
        _, ins = ort_frames(model, x, keep_inputs=True)
        for f in range(0, len(ins), 3):
            d = f"{calib}/f{n:04d}"
            os.makedirs(d)
            np.save(f"{d}/input_0.npy", ins[f][0])
            np.save(f"{d}/input_1.npy", ins[f][1])
            np.save(f"{d}/input_2.npy", np.array(RATE, np.int64))
            n += 1
    return calib, n, len(cal) / RATE


def float_decisions(vad_demo, model, evals, tmp):
    """{audio: (ORT probabilities, edgerun probabilities)} of the float model."""
    return {k: (ort_frames(model, x)[0], edgerun_frames(vad_demo, model, w, tmp)) for k, (w, x) in evals.items()}


def agreement(vad_demo, q, evals, float_probs, tmp):
    """One row per audio: model `q` against the float model, in ORT and in edgerun."""
    rows = []
    for k, (w, x) in evals.items():
        fo, fe = float_probs[k]
        qo = ort_frames(q, x)[0]
        qe = edgerun_frames(vad_demo, q, w, tmp)
        rows.append({"audio": k, "frames": len(fo), "size": os.path.getsize(q),
                     "agree_ort": float(np.mean((fo > 0.5) == (qo > 0.5))),
                     "agree_edgerun": float(np.mean((fe > 0.5) == (qe > 0.5))),
                     "speech_frames": int(np.sum(fo > 0.5)),
                     "max_dp_ort": float(np.abs(fo - qo).max()), "max_dp_edgerun": float(np.abs(fe - qe).max()),
                     "edgerun_vs_ort_q": float(np.abs(qe - qo).max())})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default="build/edgerun")
    ap.add_argument("--model", default=".cache/models/silero_vad_v5.onnx")
    ap.add_argument("--wav", default=".cache/speech.wav")
    ap.add_argument("--variants", default="static,dynamic",
                    help="comma list: static, percentile, minmax, entropy, dynamic, dynamic-qop")
    ap.add_argument("--snr", type=float, default=10.0)
    ap.add_argument("--json")
    ap.add_argument("--check", type=float)
    ap.add_argument("--keep", help="keep the quantized models in this folder")
    ap.add_argument("--qargs", default="", help="more `edgerun quantize` options (space separated)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="eval-silero-")
    out_dir = a.keep or tmp
    os.makedirs(out_dir, exist_ok=True)
    vad_demo = build_vad_demo(a.cli)
    evals = evaluation_audio(a.wav, a.snr, tmp)
    calib, n, seconds = make_calibration(a.model, a.snr, tmp)
    print(f"calibration: {n} frames of another recording ({seconds:.1f} s, espeak-ng en-gb), "
          f"clean and with noise at {a.snr:g} dB (seed 1); evaluation: {a.wav} clean and noisy (seed 2)")

    float_probs = float_decisions(vad_demo, a.model, evals, tmp)
    rows = []
    size0 = os.path.getsize(a.model)
    for v in a.variants.split(","):
        q = f"{out_dir}/silero_{v}.onnx"
        cmd = [a.cli, "quantize", a.model, "-o", q] + FLAGS[v] + a.qargs.split() + ([] if v.startswith("dynamic") else ["--calib", calib])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: {r.stderr.strip()}")
        for row in agreement(vad_demo, q, evals, float_probs, tmp):
            row.update(variant=v, smaller=size0 / row["size"])
            rows.append(row)
    print(f"Silero VAD v5 ({size0 / 1024:.1f} KiB float); agreement of speech decisions (p > 0.5) with float")
    print("| variant | audio | frames (speech) | file | smaller | agree ORT | agree edgerun | max dp ORT | max dp edgerun | edgerun vs ORT (quantized) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['variant']} | {r['audio']} | {r['frames']} ({r['speech_frames']}) | {r['size'] / 1024:.1f} KiB | "
              f"{r['smaller']:.2f}x | {100 * r['agree_ort']:.2f} % | {100 * r['agree_edgerun']:.2f} % | "
              f"{r['max_dp_ort']:.3f} | {r['max_dp_edgerun']:.3f} | {r['edgerun_vs_ort_q']:.3f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if a.check is not None:
        low = [r for r in rows if min(r["agree_ort"], r["agree_edgerun"]) < a.check]
        for r in low:
            print(f"FAIL {r['variant']} {r['audio']}: agreement ORT {r['agree_ort']:.4f}, edgerun "
                  f"{r['agree_edgerun']:.4f} < {a.check}", file=sys.stderr)
        return 1 if low else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
