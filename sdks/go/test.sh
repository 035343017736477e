#!/usr/bin/env bash
# The Go SDK's own tests: go vet, then go test -race over every package (spec vectors, tests
# against real relays started from this repository over WebSocket and QUIC, the README example).
# Assumes `npm ci` at the repo root and ./setup.sh.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || { echo "test.sh: go is not installed (run sdks/go/setup.sh)" >&2; exit 1; }
command -v node >/dev/null || { echo "test.sh: node is not installed (the tests start real relays)" >&2; exit 1; }
[ -f ../../packages/cli/bin/fastpubsub.js ] || { echo "test.sh: packages/cli is missing: run npm ci and npm run build at the repo root" >&2; exit 1; }
[ -x bin/fastpubsub-driver ] || { echo "test.sh: bin/fastpubsub-driver is missing: run sdks/go/setup.sh" >&2; exit 1; }
echo "sdks/go: go vet ./..."
go vet ./...
echo "sdks/go: go test -race ./..."
go test -race -count=1 -timeout 10m ./...
