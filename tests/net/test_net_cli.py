"""``viewer ingest --serve`` end to end: a real process receiving a live stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.net.demo_stream import demo_messages
from viewer.net.sender import LiveSender

REPO = Path(__file__).resolve().parents[2]


def _start_cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "viewer", "ingest", "--serve", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("web_mode", [False, True], ids=["threaded", "web"])
def test_net_cli_ingest_serve_receives_a_stream(web_mode):
    args = ["--port", "0", "--idle-exit", "1.5", "--json"] + (["--web-mode"] if web_mode else [])
    proc = _start_cli(*args)
    try:
        line = proc.stderr.readline()
        assert "listening for rerun-sdk streams on 127.0.0.1:" in line, line
        address = line.strip().rsplit(" ", 1)[-1]
        with LiveSender(address) as sender:
            stats = sender.send(demo_messages(chunks=60, rows_per_chunk=7, recording_id="cli"))
        assert stats.messages == 61
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    report = json.loads(out)
    [store] = report["stores"]
    assert store["recording_id"] == "cli"
    assert {p: e["rows"] for p, e in store["entities"].items()} == {
        f"/demo/signal_{k}": 105 for k in range(4)
    }
    assert report["errors"] == []


def test_net_cli_ingest_serve_busy_port_exits_with_a_clear_message():
    first = _start_cli("--port", "0", "--idle-exit", "30")
    try:
        line = first.stderr.readline()
        port = line.strip().rsplit(":", 1)[-1]
        assert port.isdigit(), line
        second = _start_cli("--port", port, "--idle-exit", "0.1")
        out, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use — another viewer? use --port" in err
        assert "add_port" not in err and len(err.strip().splitlines()) == 1  # no gRPC core log
    finally:
        first.kill()
        first.communicate()
