"""``viewer ingest``: the real pipeline headless, same summary as ``viewer inspect``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_helpers import DATA_DIR
from test_ingest_parity import _direct

from viewer.store.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
FILES = ["blueprint.rrd", "two_recordings.rrd", "scalars.rrd"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _expected_stores() -> list:
    stores = []
    for name in FILES:
        stores.extend(summarize(_direct(name))["stores"])
    return stores


@pytest.mark.parametrize("web", [False, True])
def test_ingest_cmd_json_matches_direct_summary(web):
    args = ["ingest", "--json", *(str(DATA_DIR / f) for f in FILES)]
    if web:
        args.append("--web-mode")
    proc = _run(*args)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == []
    assert report["stores"] == _expected_stores()
    stats = report["stats"]
    rows = sum(e["rows"] for s in report["stores"] for e in s["entities"].values())
    assert stats["rows"] == rows
    assert stats["messages"] > len(report["stores"])
    for key in ("ui_frame_ms", "ui_ingest_ms"):
        assert set(stats[key]) == {"p50", "p99", "max"}
        assert 0 <= stats[key]["p50"] <= stats[key]["p99"] <= stats[key]["max"]
    assert stats["ui_ingest_ms"]["max"] > 0
    assert stats["peak_rss_bytes"] > 10_000_000 and stats["wall_s"] > 0


@pytest.mark.skipif(importlib.util.find_spec("viewer.commands.inspect") is None,
                    reason="viewer inspect not written yet")
def test_ingest_cmd_stores_equal_inspect_stores():
    files = [str(DATA_DIR / f) for f in FILES]
    ingest = _run("ingest", "--json", *files)
    inspect = _run("inspect", "--json", *files)
    assert ingest.returncode == inspect.returncode == 0, ingest.stderr + inspect.stderr
    assert json.loads(ingest.stdout)["stores"] == json.loads(inspect.stdout)["stores"]


def test_ingest_cmd_unreadable_file_exits_1_and_keeps_the_rest(tmp_path):
    missing = tmp_path / "nope.rrd"
    proc = _run("ingest", "--json", str(DATA_DIR / "static.rrd"), str(missing))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [e["source"] for e in report["errors"]] == [str(missing)]
    assert report["stores"] == summarize(_direct("static.rrd"))["stores"]


def test_ingest_cmd_usage_error_exits_2():
    assert _run("ingest").returncode == 2
    assert _run("ingest", "--no-such-flag", str(DATA_DIR / "static.rrd")).returncode == 2
