#!/usr/bin/env bash
# Regenerates the test schemas' code (test/gen/{es,ttrpc,inline}) with buf (an npm devDependency,
# so it also compiles the editions file, which Debian's protoc 3.21 cannot).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf gen
../../../node_modules/.bin/buf generate
echo "generated: $(find gen -name '*.ts' | sort | tr '\n' ' ')"
