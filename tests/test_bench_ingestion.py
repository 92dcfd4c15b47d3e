"""``scripts/bench_ingestion.py --tiny``: every suite runs and writes sane CSV, markdown and plots."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bench_ingestion.py"
REQUIRED = ["suite", "mode", "decode_threads", "capacity", "msg_rows", "stores", "merge_max_rows",
            "rows", "rows_per_s", "mb_per_s", "frame_p50_ms", "frame_p99_ms", "frame_max_ms",
            "ui_ingest_p50_ms", "ui_ingest_p99_ms", "ui_ingest_max_ms", "worker_busy",
            "peak_inbox_msgs", "peak_queue_mb", "peak_rss_mb", "latency_p50_ms", "latency_p99_ms"]
TRIPLES = [("frame_p50_ms", "frame_p99_ms", "frame_max_ms"),
           ("ui_ingest_p50_ms", "ui_ingest_p99_ms", "ui_ingest_max_ms"),
           ("apply_p50_ms", "apply_p99_ms", "apply_max_ms")]


def test_bench_ingestion_tiny(tmp_path):
    rows_per_store = 1500
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), HOME=str(home),
               XDG_CONFIG_HOME=str(home / "c"), XDG_CACHE_HOME=str(home / "ca"),
               RERUN_TELEMETRY="0")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--tiny", "--rows", str(rows_per_store),
         "--out-dir", str(out), "--data-dir", str(tmp_path / "data"), "--ui-load-ms", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr

    with (out / "ingestion.csv").open() as f:
        reader = csv.DictReader(f)
        assert set(REQUIRED) <= set(reader.fieldnames or [])
        rows = list(reader)
    suites = {r["suite"] for r in rows}
    assert suites == {"matrix", "decode", "merge", "budget", "bytes"}
    for r in rows:
        assert r["ok"] == "True", r
        stores = int(r["stores"])
        # every row of every store file arrived, whatever the settings
        assert int(r["rows"]) == rows_per_store * stores
        nums = {k: float(v) for k, v in r.items()
                if k not in ("suite", "mode", "ok") and v != ""}
        assert all(v >= 0 for v in nums.values()), r
        for a, b, c in TRIPLES:
            assert nums[a] <= nums[b] + 1e-9 <= nums[c] + 2e-9, (a, r)
        assert nums["latency_p50_ms"] <= nums["latency_p99_ms"] + 1e-9
        assert nums["rows_per_s"] > 0 and nums["mb_per_s"] > 0 and nums["wall_s"] > 0
        assert nums["peak_rss_mb"] >= nums["base_rss_mb"] > 10
        assert 1 <= nums["peak_inbox_msgs"] <= int(r["capacity"])
        assert nums["chunks_applied"] >= 1
    merges = {int(r["merge_max_rows"]): int(r["chunks_applied"]) for r in rows
              if r["suite"] == "merge"}
    # one entity, 100-row chunks: merging really joins chunks
    assert merges[0] == rows_per_store // 100 and merges[1024] < merges[0]
    modes = {(r["mode"], int(r["decode_threads"])) for r in rows}
    assert {("threaded", 0), ("threaded", 1), ("web", 1)} <= modes

    md = (out / "ingestion.md").read_text()
    for heading in ("## Matrix", "## Decode concurrency", "## Merge threshold",
                    "## Frame budgets", "## Byte bound"):
        assert heading in md
    assert md.count("\n| threaded |") + md.count("\n| web |") >= 8
    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} >= {"ingestion_ui_blocking_vs_capacity.png",
                                      "ingestion_throughput_vs_stores.png",
                                      "ingestion_memory_vs_capacity.png"}
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
