#!/usr/bin/env bash
# run-ops.sh — a selective-op build (make OPS=FILE): `make test` builds a CLI whose registry
# has only MobileNetV2's op types (edgerun inspect --ops-list-import) and runs this with it:
#
#   tests/run-ops.sh SELECTIVE_CLI FULL_CLI
#
# 1. MobileNetV2 runs and matches ONNX Runtime's reference (tests/run-models.sh).
# 2. ResNet-18 (its first op outside the list is Relu) is refused at load with
#    "op Relu not in this build", exit 3 (a model error), no crash.
# 3. Kernels of op types outside the list are not linked (NonMaxSuppression's run function
#    is in the full CLI and absent from the selective one).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$1 FULL=$2
MODELS_DIR=${MODELS_DIR:-$ROOT/.cache/models}
fail=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi; }

bash "$ROOT/tests/run-models.sh" "$CLI" tv_mobilenet_v2 || fail=1

err=$(mktemp) syms=$(mktemp) sel=$(mktemp) ops=$(mktemp)
trap 'rm -f "$err" "$syms" "$sel" "$ops"' EXIT
"$CLI" run "$MODELS_DIR/tv_resnet18.onnx" -i "$ROOT/tests/models/refs/shared/chelsea_224.npy" >/dev/null 2>"$err"
rc=$?
check "ResNet-18 refused with exit 3 (got $rc): $(head -c 200 "$err")" '[ $rc -eq 3 ]'
check "error names the op: op Relu not in this build" 'grep -q "op Relu not in this build" "$err"'
# (outputs go to files first: grep -q closing a pipe early would fail the pipeline)
nm "$FULL" >"$syms"; nm "$CLI" >"$sel"
"$CLI" inspect --ops-list "$MODELS_DIR/tv_mobilenet_v2.onnx" >"$ops"
check "the full CLI has the NonMaxSuppression kernel" 'grep -qw er_nms_run "$syms"'
check "the selective CLI does not" '[ -s "$sel" ] && ! grep -qw er_nms_run "$sel"'
check "the selective CLI lists MobileNetV2's ops" 'grep -qx NhwcConv "$ops"'
[ $fail -eq 0 ] && echo "selective-op build: all passed"
exit $fail
