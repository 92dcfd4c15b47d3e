#!/usr/bin/env bash
# Set up (first run) and start the viewer. Args go to `viewer` (files, --web-mode, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e .
fi
exec "$VENV/bin/viewer" "$@"
