#!/usr/bin/env bash
# Set up (first run) and start the viewer. Args go to `rrd-viewer` (files, --web-mode, ...).
set -euo pipefail
source "$(dirname "$0")/venv.sh"
[ -x "$VENV/bin/rrd-viewer" ] || "$VENV/bin/pip" install -q -e .
exec "$VENV/bin/rrd-viewer" "$@"
