#!/usr/bin/env bash
# Regenerates examples/gen/ from examples/proto/ (needs protoc: apt-get install -y protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out=examples/gen --es_opt=target=ts,import_extension=js \
  -I examples/proto demo.proto
