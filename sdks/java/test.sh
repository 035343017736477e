#!/usr/bin/env bash
# Runs the Java SDK's own tests offline: spec/vectors, a real relay started from this repository,
# the README example compiled and run as written, thread-leak checks. Needs setup.sh first.
set -euo pipefail
cd "$(dirname "$0")"
command -v mvn >/dev/null || { echo "test.sh: mvn (Maven) is not installed; run sdks/java/setup.sh" >&2; exit 1; }
command -v node >/dev/null || { echo "test.sh: node is not installed (the tests start a real relay)" >&2; exit 1; }
[ -f ../../packages/cli/dist/main.js ] || { echo "test.sh: the relay CLI is not built (npm ci at the repo root)" >&2; exit 1; }
# Offline: setup.sh put every dependency and plugin into the local Maven repository.
if ! mvn -B -o test; then
  echo "test.sh: the Java SDK's tests failed (if Maven says an artifact is missing offline, run sdks/java/setup.sh)" >&2
  exit 1
fi
