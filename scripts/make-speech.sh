#!/usr/bin/env bash
# make-speech.sh — synthesize a deterministic speech recording for the VAD demo and tests.
#
#   scripts/make-speech.sh [OUT.wav]      (default: .cache/speech.wav)
#
# A few sentences spoken by espeak-ng, separated by silence gaps of different lengths,
# with a little leading/trailing silence; 16 kHz, mono, 16-bit PCM. The same espeak-ng and
# sox versions give the same bytes (no dither, no random noise). Segment boundaries of the
# speech are written next to the wav as OUT.segments (start end, seconds), measured from
# the synthesized pieces themselves, so a VAD's output can be checked against them.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.cache/speech.wav}
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null; }
  else
    echo "make-speech.sh: missing ${need[*]} (apt-get install ${need[*]})" >&2; exit 1
  fi
fi

SENTENCES=(
  "Edge run is a small inference runtime for tiny devices."
  "It loads a model, plans its memory once, and runs without allocating."
  "Voice activity detection tells speech from silence."
  "Thank you for listening."
)
# silence before each sentence, and after the last one (seconds)
GAPS=(0.8 1.2 0.6 1.5 1.0)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RATE=16000
fmt=(-r "$RATE" -c 1 -b 16 -e signed-integer)
# no dither: byte-for-byte reproducible
sil() { sox -D -n "${fmt[@]}" "$1" trim 0 "$2"; }

parts=()
segs=""
t=0
for i in "${!SENTENCES[@]}"; do
  sil "$tmp/g$i.wav" "${GAPS[$i]}"
  parts+=("$tmp/g$i.wav")
  espeak-ng -v en-us -s 150 -a 120 -w "$tmp/raw$i.wav" "${SENTENCES[$i]}"
  # resample to 16 kHz; strip espeak's own leading/trailing near-silence so that
  # the recorded boundaries are where speech really is
  sox -D "$tmp/raw$i.wav" "${fmt[@]}" "$tmp/s$i.wav" \
    silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
  parts+=("$tmp/s$i.wav")
  d=$(soxi -D "$tmp/s$i.wav")
  start=$(awk -v a="$t" -v g="${GAPS[$i]}" 'BEGIN{printf "%.3f", a+g}')
  end=$(awk -v a="$start" -v d="$d" 'BEGIN{printf "%.3f", a+d}')
  segs+="$start $end"$'\n'
  t=$end
done
last=${#SENTENCES[@]}
sil "$tmp/g$last.wav" "${GAPS[$last]}"
parts+=("$tmp/g$last.wav")

mkdir -p "$(dirname "$OUT")"
sox -D "${parts[@]}" "${fmt[@]}" "$OUT.tmp.wav"
mv "$OUT.tmp.wav" "$OUT"
printf '%s' "$segs" > "${OUT%.wav}.segments"
