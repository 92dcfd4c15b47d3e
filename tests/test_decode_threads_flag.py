"""``--decode-threads N`` on the window and on ``ingest``: listed in --help, validated (a bad
value is a usage error naming the flag) and passed to the hub, whose report names it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands.cli import DEFAULT_DECODE_THREADS, main
from viewer.commands.inspect import inspect_paths
from viewer.ingest.settings import IngestSettings
from viewer.store.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TWO = DATA / "two_recordings.rrd"  # two recordings: 0 gives each its own thread


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[], ["ingest"]])
def test_help_lists_decode_threads_with_the_settings_default(command, capsys):
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--decode-threads N" in out
    assert "0 for one per recording" in out
    assert f"default {IngestSettings().decode_threads};" in out
    assert IngestSettings().decode_threads == DEFAULT_DECODE_THREADS
    # --stats-json belongs to the window only
    assert ("--stats-json PATH" in out) == (command == [])


@pytest.mark.parametrize("threads", [0, 2])
def test_ingest_json_reports_decode_threads_and_loads_every_row(threads):
    proc = _run("ingest", "--decode-threads", str(threads), "--json", str(TWO))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["stats"]["decode_threads"] == threads
    direct = summarize(inspect_paths([TWO]).dbs.values())["stores"]  # read without threads
    assert len(direct) == 2  # two recordings in the file
    assert report["stores"] == direct
    rows = sum(e["rows"] for s in direct for e in s["entities"].values())
    assert rows > 0 and report["stats"]["rows"] == rows


def test_ingest_text_report_names_decode_threads():
    proc = _run("ingest", "--decode-threads", "0", str(TWO))
    assert proc.returncode == 0, proc.stderr
    assert "decode threads: 0 (0 = one per recording)" in proc.stdout.splitlines()


def test_ingest_without_the_flag_reports_the_default():
    proc = _run("ingest", "--json", str(DATA / "scalars.rrd"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stats"]["decode_threads"] == IngestSettings().decode_threads


@pytest.mark.parametrize("command", [["ingest", str(TWO)], ["--screenshot", "never.png", str(TWO)]])
@pytest.mark.parametrize("value", ["-1", "two", "1.5", ""])
def test_bad_decode_threads_is_a_usage_error(command, value, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--decode-threads", value]) == 2
    err = capsys.readouterr().err
    assert "--decode-threads" in err and "integer >= 0" in err
    assert not (tmp_path / "never.png").exists()


@pytest.mark.parametrize(("settings", "line"), [
    (IngestSettings(decode_threads=0, decode_helper_min_bytes=None),
     "decode threads: 0 (0 = one per recording)"),
    (IngestSettings(decode_threads=1),
     "decode threads: 1 (0 = one per recording); helper process for files of 64 MB or more"),
    (IngestSettings(decode_threads=2, decode_helper_min_bytes=0),
     "decode threads: 2 (0 = one per recording); helper process for every file"),
    (IngestSettings(decode_threads=3, web_mode=True),
     "decode threads: 3 (0 = one per recording), unused in web mode"),
])
def test_overlay_names_the_decode_threads(qtbot, tmp_path, settings, line):
    from viewer.ingest import IngestHub
    from viewer.ui.main_window import MainWindow
    from viewer.ui.settings import AppSettings

    hub = IngestHub(settings)
    window = MainWindow(hub, AppSettings(tmp_path / "s.ini"), restore_geometry=False)
    qtbot.addWidget(window)
    try:
        assert line not in window.overlay.text.text()  # not drawn before it is shown
        window.set_overlay_visible(True)
        assert line in window.overlay.text.text().split("<br>")
    finally:
        window.set_overlay_visible(False)
        hub.shutdown()
