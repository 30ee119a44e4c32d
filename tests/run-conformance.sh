#!/usr/bin/env bash
# ONNX backend conformance (Debian libonnx-testdata + the onnx wheel's newer data).
# Fails only on regressions against tests/conformance/expected-pass.txt; pass rates are
# printed and kept in build/conformance/*.json (docs/conformance.md summarises them).
set -euo pipefail
cli=${1:-build/edgerun}
exec python3 "$(dirname "$0")/conformance.py" --cli "$cli"
