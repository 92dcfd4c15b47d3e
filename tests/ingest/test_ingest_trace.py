"""``--profile trace.json``: a real load writes a valid Chrome trace with the pipeline's scopes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import DATA_DIR

from viewer.tracing import TRACER, Tracer

ROOT = Path(__file__).resolve().parents[2]
MIXED = DATA_DIR / "mixed.rrd"


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), HOME=str(home),
                XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
                XDG_DATA_HOME=str(home / "data"), RERUN_TELEMETRY="0",
                RRD_VIEWER_SETTINGS=str(tmp_path / "settings.ini"))


def _load_trace(path: Path) -> list[dict[str, Any]]:
    """Parse and check the trace-event format (what Perfetto / chrome://tracing need)."""
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    for ev in events:
        assert ev["ph"] in {"X", "C", "i", "M"}, ev
        assert isinstance(ev["name"], str) and ev["name"]
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int)
        if ev["ph"] == "M":
            assert ev["name"] == "thread_name" and ev["args"]["name"]
            continue
        assert isinstance(ev["ts"], float | int) and ev["ts"] >= 0
        if ev["ph"] == "X":
            assert ev["dur"] >= 0
        if ev["ph"] == "C":
            assert ev["args"] and all(isinstance(v, int | float) and v >= 0
                                      for v in ev["args"].values())
    # every thread that recorded something is named
    named = {ev["tid"] for ev in events if ev["ph"] == "M"}
    assert {ev["tid"] for ev in events} <= named
    return events


def _expected_rows() -> int:
    from viewer.log.arrow import decode_arrow_payload
    from viewer.log.messages import ArrowMsg
    from viewer.log.reader import read_rrd
    from viewer.store.chunk import Chunk

    msgs, errors = read_rrd(MIXED)
    assert not errors
    return sum(Chunk.from_record_batch(decode_arrow_payload(m)).num_rows
               for m in msgs if isinstance(m, ArrowMsg))


def _check_pipeline_events(events: list[dict[str, Any]]) -> None:
    names = Counter(ev["name"] for ev in events if ev["ph"] == "X")
    assert names["frame"] >= 1 and names["apply"] >= 1 and names["process"] >= 1
    decodes = [ev for ev in events if ev["ph"] == "X" and ev["name"] == "decode"]
    builds = [ev for ev in events if ev["ph"] == "X" and ev["name"] == "build"]
    # one decode scope per chunk message, carrying its store and size; build scopes (one
    # per chunk built, alone or from a run of messages) carry the rows
    assert len(decodes) == sum(ev["args"]["messages"] for ev in builds)
    assert sum(ev["args"]["rows"] for ev in builds) == _expected_rows()
    assert all(ev["args"]["store"] and ev["args"]["bytes"] > 0 for ev in decodes)
    counters = {ev["name"].split(" ")[0] for ev in events if ev["ph"] == "C"}
    assert {"queue", "memory"} <= counters
    queue = next(ev for ev in events if ev["ph"] == "C" and ev["name"].startswith("queue "))
    assert set(queue["args"]) == {"inbox_msgs", "inbox_bytes", "outbox_items", "outbox_bytes"}
    rss = [ev["args"]["rss_mb"] for ev in events if ev["name"] == "memory"]
    assert all(10 < mb < 100_000 for mb in rss)
    # decode runs on a worker thread, frames and applies on the UI thread
    ui = {ev["tid"] for ev in events if ev["name"] in ("frame", "apply")}
    assert len(ui) == 1


@pytest.mark.parametrize("web", [False, True])
def test_viewer_ingest_profile_writes_trace(tmp_path, web):
    out = tmp_path / "trace.json"
    args = [sys.executable, "-m", "viewer", "ingest", str(MIXED), "--profile", str(out)]
    if web:
        args.append("--web-mode")
    proc = subprocess.run(args, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = _load_trace(out)
    _check_pipeline_events(events)
    names = {ev["name"] for ev in events}
    if web:  # everything on the UI thread: reading in slices inside the frame's web work
        assert {"read slice", "web work"} <= names
        assert len({ev["tid"] for ev in events if ev["ph"] == "X"}) == 1
    else:
        assert "read" in names
        decode_tids = {ev["tid"] for ev in events if ev["name"] == "decode"}
        frame_tids = {ev["tid"] for ev in events if ev["name"] == "frame"}
        assert decode_tids.isdisjoint(frame_tids)


def test_gui_screenshot_profile_writes_trace(tmp_path):
    out = tmp_path / "trace.json"
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "viewer", str(MIXED), "--screenshot", str(shot), "--profile",
         str(out), "--no-serve", "--window-size", "900x600"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file()
    events = _load_trace(out)
    _check_pipeline_events(events)
    names = Counter(ev["name"] for ev in events if ev["ph"] == "X")
    assert names["window frame"] >= 1 and names["redraw"] >= 1
    # the window's frame handler runs inside the frame driver's frame scope
    frames = [ev for ev in events if ev["name"] == "frame"]
    handler = next(ev for ev in events if ev["name"] == "window frame")
    assert any(f["ts"] <= handler["ts"] and handler["ts"] + handler["dur"] <= f["ts"] + f["dur"]
               + 1e-3 for f in frames)


def test_tracer_off_records_nothing_and_in_process_load(tmp_path, qtbot):
    """The process-wide tracer is off by default; `viewer.commands.cli.main` with --profile turns it
    on for the run only and writes the file."""
    from viewer.commands.cli import main

    assert not TRACER.enabled
    before = len(TRACER.events())
    assert main(["ingest", str(MIXED), "--json"]) == 0
    assert len(TRACER.events()) == before  # off: nothing recorded
    out = tmp_path / "t.json"
    assert main(["ingest", str(MIXED), "--profile", str(out)]) == 0
    assert not TRACER.enabled
    _check_pipeline_events(_load_trace(out))


def test_disabled_tracer_is_a_no_op():
    t = Tracer()
    with t.scope("x", "y", {"a": 1}):
        pass
    t.counter("c", {"v": 1.0})
    t.instant("i")
    t.queue_counters([])
    t.sample_memory()
    assert t.events() == []
    t.start()
    with t.scope("x"):
        t.sample_memory()
        t.sample_memory()  # throttled: one RSS sample
    t.stop()
    assert [e["ph"] for e in t.events() if e["ph"] != "M"] == ["C", "X"]


def test_tracer_stops_recording_at_its_event_cap(monkeypatch, tmp_path):
    import json

    from viewer import tracing

    monkeypatch.setattr(tracing, "MAX_EVENTS", 50)
    tracer = tracing.Tracer()
    tracer.start()
    for i in range(200):
        with tracer.scope("work", args={"i": i}):
            pass
    assert tracer.truncated and not tracer.enabled
    out = tmp_path / "t.json"
    tracer.save(out)
    doc = json.loads(out.read_text())
    assert len(doc["traceEvents"]) == 50
    assert doc["otherData"]["truncated"] is True


def test_scope_args_callable_runs_at_the_end_and_only_when_tracing():
    t = Tracer()
    calls = []

    def args() -> dict:
        calls.append(1)
        return {"rows": rows}

    rows = 0
    with t.scope("off", "test", args):  # disabled: the callable is never called
        rows = 5
    assert calls == [] and t.events() == []
    t.start()
    rows = 0
    with t.scope("decode", "test", args):
        rows = 7  # known only inside the scope: still reported
    t.stop()
    (ev,) = [e for e in t.events() if e["ph"] == "X"]
    assert ev["name"] == "decode" and ev["args"] == {"rows": 7} and calls == [1]
