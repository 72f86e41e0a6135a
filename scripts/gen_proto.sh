#!/usr/bin/env bash
# Generate the Python messages of proto/oms/v1/*.proto into OUT (default: python), with
# typed stubs (mypy-protobuf). No *_pb2_grpc modules: services are registered and
# called from the descriptors (oms/api/handlers.py, oms/api/stubs.py). `make proto`
# writes python/oms/v1; `make lint` generates into a scratch directory and fails on any
# difference (drift between .proto and code).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-python}
BIN=.venv/bin
mkdir -p "$OUT/oms/v1"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# mypy-protobuf reports each file it writes on stderr: shown only when protoc fails.
$BIN/python -m grpc_tools.protoc -Iproto \
  --plugin=protoc-gen-mypy=$BIN/protoc-gen-mypy \
  --python_out="$OUT" --mypy_out="$OUT" \
  proto/oms/v1/*.proto 2>"$log" || { cat "$log" >&2; exit 1; }
printf '"""Generated from proto/oms/v1 by scripts/gen_proto.sh: do not edit."""\n' > "$OUT/oms/v1/__init__.py"
