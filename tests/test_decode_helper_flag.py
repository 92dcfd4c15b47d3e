"""``--decode-helper auto|on|off`` on the window and on ``ingest``: listed in --help,
validated, passed to the hub; ``ingest --json`` reports what the helper used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands.cli import main
from viewer.ingest.settings import IngestSettings, settings_overrides
from viewer.log.helper_launch import DEFAULT_MIN_BYTES

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RERUN_TELEMETRY="0", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[], ["ingest"]])
def test_help_lists_decode_helper(command, capsys):
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--decode-helper {auto,on,off}" in out
    assert f"files of {DEFAULT_MIN_BYTES >> 20} MB or more (default)" in out
    assert IngestSettings().decode_helper_min_bytes == DEFAULT_MIN_BYTES


def test_bad_decode_helper_is_a_usage_error(capsys):
    assert main(["ingest", str(DATA / "scalars.rrd"), "--decode-helper", "sometimes"]) == 2
    assert "--decode-helper" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "least"), [("on", 0), ("off", None),
                                              ("auto", DEFAULT_MIN_BYTES)])
def test_the_flag_becomes_the_setting(value, least):
    class Args:
        decode_helper = value

    settings = IngestSettings(**settings_overrides(Args()))
    assert settings.decode_helper_min_bytes == least


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd (Linux)")
def test_ingest_through_the_helper_reports_its_memory_and_loads_the_same():
    on = _run("ingest", "--decode-helper", "on", "--json", str(DATA / "robot.rrd"))
    off = _run("ingest", "--decode-helper", "off", "--json", str(DATA / "robot.rrd"))
    assert on.returncode == 0 and off.returncode == 0, (on.stderr, off.stderr)
    a, b = json.loads(on.stdout), json.loads(off.stdout)
    assert a["stores"] == b["stores"] and not a["errors"]
    assert a["stats"]["helper_private_bytes"] > 0 and a["stats"]["helper_peak_rss_bytes"] > 0
    assert b["stats"]["helper_private_bytes"] == 0
