#!/usr/bin/env bash
# Runs the Python SDK's own tests: mypy --strict, then pytest (codec over spec/vectors, tests
# against real relays started from this repository, the README examples). Needs setup.sh first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="$here/.venv/bin/python"

[ -x "$py" ] || { echo "test.sh: $here/.venv is missing; run sdks/python/setup.sh first" >&2; exit 1; }
"$py" -c 'import fastpubsub, pytest, pytest_asyncio, mypy' || { echo "test.sh: the virtualenv lacks the SDK or its test extras; run sdks/python/setup.sh" >&2; exit 1; }
command -v node >/dev/null || { echo "test.sh: node is needed to start relays" >&2; exit 1; }
[ -f "$repo/packages/cli/dist/main.js" ] || { echo "test.sh: packages/cli/dist is missing; run npm ci && npm run build at the repo root" >&2; exit 1; }

cd "$here"
echo "test.sh: mypy --strict"
"$py" -m mypy --strict src tests conformance
echo "test.sh: pytest"
"$py" -m pytest -q "$@"
