#!/usr/bin/env bash
# Installs the Go SDK's dependencies (Go module proxy) and builds the conformance driver into
# sdks/go/bin/. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || { echo "setup.sh: go is not installed (need Go 1.26+)" >&2; exit 1; }
echo "sdks/go: go mod download"
go mod download
echo "sdks/go: go build -o bin/fastpubsub-driver ./cmd/fastpubsub-driver"
mkdir -p bin
go build -o bin/fastpubsub-driver ./cmd/fastpubsub-driver
echo "sdks/go: ready ($(go version))"
