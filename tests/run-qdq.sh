#!/usr/bin/env bash
# run-qdq.sh — real models quantized by ONNX Runtime's quantize_static (QDQ format), run on
# edgerun's integer kernels and compared with ONNX Runtime on the same file.
#
#   tests/run-qdq.sh [CLI]          (CLI default: build/edgerun)
#
# The QDQ models are made by scripts/make-qdq-models.py into .cache/models/qdq/ (from the
# float models scripts/setup-test.sh provides); a missing one FAILS. Inputs: two seeded
# uniform[-1, 1) tensors per model and, for the ImageNet models, the cat photo of the
# real-model tests. Pass: every output within one step of its quantization grid of ONNX
# Runtime's (tests/qdq_compare.py). Known source of 1-step differences: ONNX Runtime's x86
# QLinearAdd uses a 22-bit fixed-point multiplier, edgerun's the float formula (kernels/qops.h).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${1:-$ROOT/build/edgerun}
case "$CLI" in /*) ;; *) CLI=$PWD/$CLI ;; esac
PY=${PYTHON:-python3}
QDQ=${MODELS_DIR:-$ROOT/.cache/models}/qdq
PHOTO=$ROOT/tests/models/refs/shared/chelsea_224.npy

"$PY" "$ROOT/scripts/make-qdq-models.py" --quiet >/dev/null 2>&1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# name <TAB> input shape
while IFS=$'\t' read -r name shape; do
  model=$QDQ/$name.onnx
  if [ ! -s "$model" ]; then
    printf 'FAIL %-22s model missing (scripts/make-qdq-models.py makes it)\n' "$name"
    failed=$((failed + 1)); continue
  fi
  inputs=()
  for seed in 1 2; do
    "$PY" -c "import numpy as np; np.save('$tmp/$name.$seed.npy', np.random.RandomState($seed).uniform(-1, 1, ($shape)).astype(np.float32))"
    inputs+=("$tmp/$name.$seed.npy")
  done
  [ "$shape" = "1,3,224,224" ] && [ -f "$PHOTO" ] && inputs+=("$PHOTO")
  for inp in "${inputs[@]}"; do
    label="$name/$(basename "$inp" .npy | sed "s/^$name\.//")"
    if msg=$("$PY" "$ROOT/tests/qdq_compare.py" "$CLI" "$model" "$inp"); then
      printf 'PASS %-32s %s\n' "$label" "$msg"; passed=$((passed + 1))
    else
      printf 'FAIL %-32s %s\n' "$label" "$msg"; failed=$((failed + 1))
    fi
  done
done <<'EOF'
mobilenet_v2_u8	1,3,224,224
mobilenet_v2_s8_pc	1,3,224,224
resnet18_u8	1,3,224,224
resnet18_u8_pc	1,3,224,224
squeezenet1_1_u8	1,3,224,224
dscnn_kws_u8_pc	1,1,49,10
EOF
echo "qdq: $passed passed, $failed failed"
[ $failed -eq 0 ]
