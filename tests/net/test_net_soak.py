"""A 30-second soak in CI: `scripts/soak.py` streams ~90 MB into `viewer ingest --serve` with
a 50 MB memory limit; RSS must stay under limit + margin and every row sent must have been
applied (the 10-minute run is documented in docs/benchmarks/soak.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_soak_half_a_minute(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path), RERUN_TELEMETRY="0", QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak.py"), "--minutes", "0.5",
         "--memory-limit", "50MB", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    result = json.loads(proc.stdout) if proc.stdout.strip() else None
    assert result is not None, proc.stderr
    assert proc.returncode == 0, (result["problems"], proc.stderr)
    assert result["applied_rows"] == result["sent_rows"] > 10_000
    assert result["sent_bytes"] > 1.5 * result["limit_bytes"]  # the limit had to act
    assert result["memory"]["dropped_chunks_total"] > 0
    assert result["memory"]["store_bytes"] <= result["limit_bytes"]
    assert result["peak_rss_bytes"] <= result["limit_bytes"] + result["margin_bytes"]
