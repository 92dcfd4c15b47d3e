"""A real rerun-sdk process streams into the window: the store is marked live, the cursor
follows the newest data, and the source shows "finished" when the SDK disconnects."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from viewer.ingest import IngestHub
from viewer.log.messages import StoreKind
from viewer.net.server import LiveServer
from viewer.ui.main_window import MainWindow
from viewer.ui.recordings_panel import source_status
from viewer.ui.settings import AppSettings

rerun = pytest.importorskip("rerun")

SCRIPT = """
import sys, time
import rerun as rr
rec = rr.RecordingStream("ui_live_test", recording_id="live")
rec.connect_grpc(sys.argv[1])
for i in range(60):
    rec.set_time("frame", sequence=i)
    rec.log("plots/value", rr.Scalars(float(i)))
    rec.flush()
    time.sleep(0.02)
sys.stdin.readline()  # stay connected until the test has looked
rec.disconnect()
"""


def _live_window(qtbot, tmp_path, script: str):  # noqa: ANN202
    """(hub, server, window, SDK process running ``script`` against the window's server)."""
    hub = IngestHub()
    server = LiveServer(hub, "127.0.0.1", 0).start()
    window = MainWindow(hub, AppSettings(tmp_path / "s.ini"), listen_url=server.url,
                        restore_geometry=False)
    qtbot.addWidget(window)
    window.show()
    hub.start()
    env = dict(os.environ, HOME=str(tmp_path), RERUN_TELEMETRY="0",
               XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"),
               XDG_CACHE_HOME=str(tmp_path / "e"))
    proc = subprocess.Popen([sys.executable, "-c", script, server.url], env=env,
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return hub, server, window, proc


def test_ui_window_live_stream_is_followed_and_marked(qtbot, tmp_path):
    hub, server, window, proc = _live_window(qtbot, tmp_path, SCRIPT)
    try:
        assert server.url in window.server_label.text()
        qtbot.waitUntil(lambda: any(s.recording_id == "live" for s in window.stores), timeout=20000)
        sid = next(s for s in window.stores if s.recording_id == "live")
        qtbot.waitUntil(lambda: window.active == sid, timeout=5000)  # made active in a turn
        ui = window.stores[sid]
        assert sid.kind == StoreKind.RECORDING and ui.live
        assert ui.time_control.follow and window.time_panel.follow_button.isChecked()
        [source] = hub.sources()
        assert source_status(source) == "connected"
        # Follow: the cursor tracks the newest frame while data arrives.
        qtbot.waitUntil(lambda: ui.db.time_range("frame") == (0, 59), timeout=20000)
        qtbot.waitUntil(lambda: ui.time_control.time == 59, timeout=5000)
        # The SDK disconnects: the source is shown as finished, the data stays.
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0, proc.stderr.read()
        qtbot.waitUntil(lambda: source.finished, timeout=10000)
        assert hub.run_until_idle(10)
        item = window.recordings_panel.source_item(source)
        assert item is not None
        qtbot.waitUntil(lambda: item.text(1) == "finished", timeout=3000)
        assert sid in window.stores
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        server.stop()
        hub.shutdown()
        window.cleanup()


BLUEPRINT_SCRIPT = """
import sys
import rerun as rr
import rerun.blueprint as rrb
rec = rr.RecordingStream("ui_live_bp", recording_id="live-bp")
rec.connect_grpc(sys.argv[1])
for i in range(20):
    rec.set_time("frame", sequence=i)
    rec.log("plots/a", rr.Scalars(float(i)))
    rec.log("plots/b", rr.Scalars(float(-i)))
    rec.log("logs", rr.TextLog(f"step {i}"))
rec.flush()
sys.stdin.readline()  # the test has seen the heuristic layout
rec.send_blueprint(rrb.Blueprint(rrb.TimeSeriesView(origin="/plots", name="Only a",
                                                    contents=["+ $origin/**", "- /plots/b"])))
rec.flush()
sys.stdin.readline()
rec.disconnect()
"""


def test_ui_window_blueprint_sent_live_relays_out_the_window(qtbot, tmp_path):
    """rr.send_blueprint over rr.connect_grpc(): the window leaves its heuristic layout
    for the blueprint's views, names and contents as soon as it arrives."""
    hub, server, window, proc = _live_window(qtbot, tmp_path, BLUEPRINT_SCRIPT)

    def shown() -> dict[str, list[str]]:
        host = window.views_area.host(window.active) if window.active else None
        if host is None:
            return {}
        window.views_area.flush_pending()
        return {v.title: sorted(map(str, v.entities)) for v in host.all_views()}

    try:
        qtbot.waitUntil(lambda: window.active is not None
                        and window.active.recording_id == "live-bp", timeout=20000)
        qtbot.waitUntil(lambda: "/plots/b" in sum(shown().values(), [])
                        and "/logs" in sum(shown().values(), []), timeout=20000)
        proc.stdin.write("\n")
        proc.stdin.flush()
        qtbot.waitUntil(lambda: shown() == {"Only a": ["/plots/a"]}, timeout=20000)
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        server.stop()
        hub.shutdown()
        window.cleanup()
