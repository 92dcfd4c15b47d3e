"""``--stats-json PATH``: the window's frame statistics from the first frame until every
file given was applied (with --screenshot: until the picture was saved), written as JSON
after a screenshot and at exit (also on SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from viewer.ingest import IngestHub
from viewer.ui.app import LoadStatsRecorder

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
KEYS = {"ui_frame_ms", "ui_ingest_ms", "frames", "load_s", "loaded"}


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), RERUN_TELEMETRY="0",
                XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"),
                XDG_DATA_HOME=str(tmp_path / "data"),
                RRD_VIEWER_SETTINGS=str(tmp_path / "settings.ini"))


def _check_sane(stats: dict, elapsed_s: float) -> None:
    assert set(stats) >= KEYS
    assert stats["frames"] > 0
    for key in ("ui_frame_ms", "ui_ingest_ms"):
        assert set(stats[key]) == {"p50", "p99", "max"}
        assert 0 <= stats[key]["p50"] <= stats[key]["p99"] <= stats[key]["max"]
    if stats["frames"] >= 2:  # intervals need two frames (a tiny file loads in one)
        assert stats["ui_frame_ms"]["p50"] > 0
    assert stats["ui_ingest_ms"]["max"] > 0  # something was applied on the UI thread
    assert 0 < stats["load_s"] < elapsed_s


def test_screenshot_writes_the_load_statistics(tmp_path):
    out, shot = tmp_path / "sub" / "out.json", tmp_path / "shot.png"
    code = "import sys; from viewer.commands.cli import main; sys.exit(main(sys.argv[1:]))"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, str(DATA / "mixed.rrd"), "--screenshot",
                           str(shot), "--stats-json", str(out), "--window-size", "800x500",
                           "--no-serve", "--decode-threads", "0"],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file()
    stats = json.loads(out.read_text())
    _check_sane(stats, elapsed)
    assert stats["loaded"] is True and stats["decode_threads"] == 0  # the flag reached the hub
    # until the picture was saved: the screenshot waits >= 0.4 s for redraws after loading,
    # i.e. >= ~24 frames of 16 ms; frames and load time agree with the frame interval
    assert stats["load_s"] >= 0.4 and stats["frames"] >= 20
    assert 8 < stats["ui_frame_ms"]["p50"] < 50  # the frame timer ticks every ~16 ms
    assert stats["frames"] <= stats["load_s"] * 1000 / 10 + 2  # never faster than 100 Hz


def _catches(pid: int, sig: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    line = next((ln for ln in status.splitlines() if ln.startswith("SigCgt:")), "")
    return bool(line) and bool(int(line.split()[1], 16) >> (sig - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_sigterm_writes_the_statistics_at_exit(tmp_path):
    out = tmp_path / "out.json"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "viewer", "--no-serve", "--stats-json", str(out),
                             str(DATA / "scalars.rrd")], cwd=ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _catches(proc.pid, signal.SIGTERM) and proc.poll() is None:
            assert time.monotonic() < deadline, "the window never installed its handler"
            time.sleep(0.05)
        assert not out.exists()  # written at exit, not before
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, err
    _check_sane(json.loads(out.read_text()), elapsed)


def test_recorder_freezes_when_every_file_is_applied(qtbot, tmp_path):
    """The numbers stop at the load, not at exit: frames after it do not count."""
    hub = IngestHub()
    recorder = LoadStatsRecorder(hub, tmp_path / "s.json")
    assert hub.stats is recorder.stats  # rings big enough for the whole load
    try:
        hub.start()
        recorder.watch([hub.open_file(DATA / "scalars.rrd")])
        qtbot.waitUntil(lambda: recorder.result is not None, timeout=20_000)
        frozen = dict(recorder.result)
        qtbot.waitUntil(lambda: hub.stats.frames >= frozen["frames"] + 5, timeout=5_000)
        assert recorder.write()
    finally:
        hub.shutdown()
    written = json.loads((tmp_path / "s.json").read_text())
    assert written == frozen and written["loaded"] is True
    assert written["frames"] < hub.stats.frames
    rows = sum(db.num_rows for db in hub.dbs().values())
    assert rows > 0 and hub.stats.rows_applied == rows  # everything was applied by then
