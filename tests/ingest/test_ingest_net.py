"""Live streams (gRPC handler threads) into the hub, and ``viewer ingest --serve``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from ingest_helpers import DATA_DIR
from test_ingest_cmd import ROOT
from test_ingest_parity import _direct

from viewer.ingest import SourceState
from viewer.store.summary import summarize

net_server = pytest.importorskip("viewer.net.server")
net_sender = pytest.importorskip("viewer.net.sender")


def _stream_in_thread(path, address, errors):
    def run():
        try:
            net_sender.stream_file(path, address)
        except BaseException as exc:  # recorded for the test to assert on
            errors.append(exc)

    t = threading.Thread(target=run, name="test-grpc-client")
    t.start()
    return t


@pytest.mark.parametrize("mode", ["threaded", "web"])
def test_ingest_two_live_streams_build_the_same_stores(make_hub, mode):
    hub = make_hub(mode, queue_max_messages=4)  # small: the gRPC threads feel backpressure
    hub.start()
    server = net_server.LiveServer(hub, "127.0.0.1", 0)
    server.start()
    try:
        errors: list[BaseException] = []
        names = ["scalars.rrd", "two_recordings.rrd"]
        clients = [_stream_in_thread(DATA_DIR / n, server.address, errors) for n in names]
        deadline = time.monotonic() + 30
        while any(c.is_alive() for c in clients) or server.open_stream_count():
            hub.run_until_idle(0.02)
            assert time.monotonic() < deadline
        for c in clients:
            c.join()
        assert hub.run_until_idle(10)
        assert not errors
    finally:
        server.stop()
    streams = [s for s in hub.sources() if s.kind == "stream"]
    assert len(streams) == 2 and all(s.state is SourceState.DONE for s in streams)
    got = {(s["recording_id"]): s for s in summarize(hub.dbs().values())["stores"]}
    want = {s["recording_id"]: s for n in names for s in summarize(_direct(n))["stores"]}
    assert got == want


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ingest_cmd_serve_exits_after_idle_with_the_streamed_data():
    port = _free_port()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "viewer", "ingest", "--serve", "--port", str(port),
         "--idle-exit", "1.5", "--json", str(DATA_DIR / "static.rrd")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()  # "listening ..." once the port is bound
        assert f"127.0.0.1:{port}" in first, first
        t0 = time.monotonic()
        net_sender.stream_file(DATA_DIR / "scalars.rrd", f"127.0.0.1:{port}")
        out, err = proc.communicate(timeout=60)
        assert time.monotonic() - t0 >= 1.0  # it waited for the idle period
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    report = json.loads(out)
    want = summarize(_direct("static.rrd"))["stores"] + summarize(_direct("scalars.rrd"))["stores"]
    assert report["stores"] == want and report["errors"] == []
