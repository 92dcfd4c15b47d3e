#!/usr/bin/env bash
# Set up (first run) and run the whole test suite, offscreen. Extra args go to pytest.
set -euo pipefail
source "$(dirname "$0")/venv.sh"
"$VENV/bin/pip" install -q -e '.[test]'
export QT_QPA_PLATFORM=offscreen RERUN_TELEMETRY=0
"$VENV/bin/ruff" check viewer tests scripts
"$VENV/bin/lint-imports"
exec "$VENV/bin/python" -m pytest "$@"
