#!/usr/bin/env bash
# Installs and builds every SDK in sdks/ and its conformance driver: runs each sdks/<lang>/setup.sh
# (idempotent; they reach only the package registries: PyPI, the Go module proxy, crates.io,
# Maven Central). Run from anywhere; exits non-zero if any SDK's setup failed.
set -u
cd "$(dirname "$0")/.." || exit 1
failed=()
found=0
for script in sdks/*/setup.sh; do
  [ -e "$script" ] || continue
  found=1
  lang=$(basename "$(dirname "$script")")
  echo "sdks/setup.sh: $lang: bash $script"
  if ! bash "$script"; then
    echo "sdks/setup.sh: $lang: setup FAILED" >&2
    failed+=("$lang")
  fi
done
if [ "$found" = 0 ]; then
  echo "sdks/setup.sh: no sdks/<lang>/setup.sh found; nothing to set up"
  exit 0
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "sdks/setup.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "sdks/setup.sh: every SDK is set up"
