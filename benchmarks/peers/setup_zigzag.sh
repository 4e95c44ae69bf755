#!/usr/bin/env bash
# Create the virtual environment of the ZigZag peer (PyPI package zigzag-dse), apart from loopnest.
# Peers are never dependencies of loopnest: they live in their own venv, run as subprocesses.
# Usage: bash benchmarks/peers/setup_zigzag.sh   (venv at $ZIGZAG_VENV, default $HOME/.cache/loopnest-peers/zigzag)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ZIGZAG_VENV:-$HOME/.cache/loopnest-peers/zigzag}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
"$python" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"zigzag-dse 3.9.1 needs Python >= 3.11, this is {sys.version.split()[0]}")
PY
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/zigzag-requirements.txt"
"$venv/bin/python" -c "import zigzag.api, importlib.metadata as m; print('zigzag-dse', m.version('zigzag-dse'), 'ready in $venv')"
