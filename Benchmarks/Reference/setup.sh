#!/usr/bin/env bash
# Installs the official Optimizely Python SDK (optimizely-sdk 5.7.0, from PyPI) into
# Benchmarks/Reference/.venv, creating the virtualenv if it is missing. Safe to run again.
# Needs python3 (3.9 or later) with its venv module (Debian: apt-get install python3-venv).
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
        || { echo "setup.sh: $python is older than 3.9; set PYTHON to a newer one" >&2; exit 1; }
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check optimizely-sdk==5.7.0
.venv/bin/python -c 'from optimizely.version import __version__ as v; print(f"optimizely-sdk {v} in Benchmarks/Reference/.venv")'
