#!/usr/bin/env bash
# Creates sdks/python/.venv and installs the SDK (editable) with its test extras from PyPI.
# Idempotent: an existing virtualenv is reused and pip only installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null; then
  echo "setup.sh: $python not found (Python 3.11+ is needed)" >&2
  exit 1
fi
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "setup.sh: $("$python" --version) is too old; Python 3.11+ is needed" >&2
  exit 1
}
"$python" -c 'import venv, ensurepip' 2>/dev/null || {
  echo "setup.sh: $python cannot create virtualenvs (on Debian: apt-get install python3-venv)" >&2
  exit 1
}
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "setup.sh: creating virtualenv $here/.venv"
  "$python" -m venv "$here/.venv"
fi
echo "setup.sh: installing fastpubsub (editable) with test extras into .venv"
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$here[test]"
"$here/.venv/bin/python" -c 'import fastpubsub, websockets; print("setup.sh: fastpubsub", fastpubsub.__version__, "with websockets", websockets.__version__)'
