#!/usr/bin/env bash
# demo.sh — Silero VAD on a synthesized speech recording, with the C runtime.
#
#   scripts/demo.sh [CLI] [--ort] [--model v5|v6|legacy] [--wav FILE]
#
# Installs what it needs (espeak-ng, sox, npm; apt-get, quietly, when missing), fetches
# Silero VAD (npm @ricky0123/vad-web, pinned in scripts/fetch-models.sh), synthesizes
# .cache/speech.wav (scripts/make-speech.sh), builds tools/vad-demo/vad_demo.c against
# libedgerun.a, and runs the VAD frame by frame with the state carried between frames:
# prints the speech segments (start/end seconds) next to where speech was synthesized,
# and the per-frame latency (median/p90).
# --ort also runs the same frame loop and segment logic with ONNX Runtime from python3
# (when it has onnxruntime) and prints its segments and the largest per-frame
# probability difference from edgerun.
# CLI (as `make demo` passes it, e.g. build/edgerun) tells which build directory holds
# libedgerun.a; default build/.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build ORT=0 VARIANT=v5 WAV=.cache/speech.wav
while [ $# -gt 0 ]; do
  case "$1" in
    --ort) ORT=1 ;;
    --model) VARIANT=${2:?--model v5|v6|legacy}; shift ;;
    --wav) WAV=${2:?--wav FILE}; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
    *) BUILD=$(dirname "$1") ;;
  esac
  shift
done
case "$VARIANT" in v5|v6|legacy) ;; *) echo "demo.sh: --model must be v5, v6 or legacy" >&2; exit 2 ;; esac
MODEL=.cache/models/silero_vad_$VARIANT.onnx

# ---- what it needs --------------------------------------------------------------
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v npm >/dev/null || need+=(npm)
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "demo.sh: please install: ${need[*]}" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
[ -s "$MODEL" ] || bash scripts/fetch-models.sh --quiet vad-web
[ -s "$WAV" ] || bash scripts/make-speech.sh "$WAV"

# ---- build the frame loop against the library -------------------------------------
[ -f "$BUILD/libedgerun.a" ] || make -s BUILD="$BUILD" "$BUILD/libedgerun.a"
if [ ! -x "$BUILD/vad_demo" ] || [ tools/vad-demo/vad_demo.c -nt "$BUILD/vad_demo" ] ||
   [ "$BUILD/libedgerun.a" -nt "$BUILD/vad_demo" ]; then
  cc -O2 -std=c11 -Wall -Iinclude tools/vad-demo/vad_demo.c "$BUILD/libedgerun.a" -lm -o "$BUILD/vad_demo"
fi

dur=$(python3 -c 'import sys,wave; w=wave.open(sys.argv[1]); print("%.2f" % (w.getnframes()/w.getframerate()))' "$WAV")
echo "Silero VAD $VARIANT ($MODEL) on $WAV ($dur s)"
seg=${WAV%.wav}.segments
if [ -s "$seg" ]; then
  echo "spoken (from the synthesis):"
  awk '{printf "  speech %7.3f - %7.3f s\n", $1, $2}' "$seg"
fi
probs=$(mktemp)
trap 'rm -f "$probs"' EXIT
echo "edgerun:"
"$BUILD/vad_demo" "$MODEL" "$WAV" --probs "$probs" | sed 's/^/  /'

[ $ORT = 1 ] || exit 0
if ! python3 -c 'import onnxruntime, numpy' 2>/dev/null; then
  echo "ONNX Runtime: not installed in python3 (pip install onnxruntime==1.20.1)"; exit 0
fi
echo "ONNX Runtime:"
python3 - "$MODEL" "$WAV" "$probs" <<'PYEOF' | sed 's/^/  /'
# The same frame loop and segment logic as tools/vad-demo/vad_demo.c.
import sys, time, wave
import numpy as np
import onnxruntime as ort
model, wav, probs_path = sys.argv[1:4]
with wave.open(wav) as w:
    rate, ch = w.getframerate(), w.getnchannels()
    x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32)
x = x.reshape(-1, ch).mean(1).astype(np.float32) / 32768.0
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.log_severity_level = 3
s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
names = [i.name for i in s.get_inputs()]
v5 = "state" in names
frame = 512 if rate == 16000 else 256
ctx = (64 if rate == 16000 else 32) if v5 else 0
sr = np.array(rate, np.int64)
state = np.zeros((2, 1, 128), np.float32); h = np.zeros((2, 1, 64), np.float32); c = h.copy()
window = np.zeros(ctx + frame, np.float32)
probs, lat = [], []
for f in range(len(x) // frame):
    window = np.concatenate([window[frame:frame + ctx] if ctx else window[:0], x[f * frame:(f + 1) * frame]])
    t0 = time.perf_counter()
    if v5:
        p, state = s.run(None, {"input": window[None], "state": state, "sr": sr})
    else:
        p, h, c = s.run(None, {"input": window[None], "sr": sr, "h": h, "c": c})
    lat.append((time.perf_counter() - t0) * 1e6)
    probs.append(float(p[0, 0]))
min_sil, min_speech = rate * 100 // 1000, rate * 250 // 1000
trig, start, temp_end, segs = False, 0, 0, []
for f, p in enumerate(probs):
    cur = f * frame
    if p >= 0.5 and temp_end:
        temp_end = 0
    if p >= 0.5 and not trig:
        trig, start = True, cur
    elif p < 0.35 and trig:
        if not temp_end:
            temp_end = cur
        if cur + frame - temp_end >= min_sil:
            if temp_end - start >= min_speech:
                segs.append((start, temp_end))
            trig, temp_end = False, 0
if trig and len(probs) * frame - start >= min_speech:
    segs.append((start, len(probs) * frame))
for a, b in segs:
    print("speech %7.3f - %7.3f s" % (a / rate, b / rate))
lat.sort()
print("%d frames: latency per frame median %.1f us, p90 %.1f us (onnxruntime %s, python)" % (
    len(lat), lat[len(lat) // 2], lat[int((len(lat) - 1) * 0.9)], ort.__version__))
mine = np.loadtxt(probs_path, ndmin=1)
if len(mine) == len(probs):
    d = np.abs(mine - np.array(probs))
    print("max |p_edgerun - p_ort| over %d frames: %.2g (frame %d)" % (len(d), d.max(), int(d.argmax())))
else:
    print("edgerun wrote %d probabilities, ORT %d" % (len(mine), len(probs)))
PYEOF
