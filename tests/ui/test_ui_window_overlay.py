"""The performance overlay measures while data streams in, refreshes once per second,
and the live server's busy port is reported without stopping the app."""

from __future__ import annotations

import argparse
import socket
import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from ui_window_support import StreamFeeder

from viewer.ingest import IngestHub, IngestSettings
from viewer.ui.app import start_server
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings


def _window(qtbot, tmp_path, hub_settings=None, **kwargs) -> MainWindow:
    hub = IngestHub(hub_settings)
    w = MainWindow(hub, AppSettings(tmp_path / "s.ini"), restore_geometry=False, **kwargs)
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    w.activateWindow()
    assert QTest.qWaitForWindowActive(w)  # keyboard shortcuts need the active window
    hub.start()
    return w


def test_ui_window_overlay_numbers_nonzero_while_ingesting_and_refresh_each_second(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    try:
        qtbot.keyClick(w, Qt.Key.Key_F12)
        assert w.overlay.isVisible() and w.overlay_action.isChecked()
        with StreamFeeder(w.hub) as feeder:
            start = w.overlay.refresh_count
            t0 = time.monotonic()
            qtbot.waitUntil(lambda: w.overlay.refresh_count >= start + 2, timeout=6000)
            elapsed = time.monotonic() - t0
            numbers = dict(w.overlay.numbers)
            text = w.overlay.text.text()
        assert feeder.sent > 0
        # Refreshes come once per second (two of them took about two seconds, not less).
        assert 1.5 <= elapsed <= 5.0
        assert numbers["frame_p50_ms"] > 0
        assert numbers["frame_p99_ms"] >= numbers["frame_p50_ms"]
        assert numbers["ingest_ms_per_frame"] > 0
        assert 0 < numbers["busy_fraction"] <= 1.0
        assert numbers["frames_per_s"] > 0
        assert "queue" in text and "busy" in text and "web mode" not in text
        assert len(w.overlay.sparkline.samples) > 10
        # Hidden again with F12: the timer and the dispatcher hooks stop.
        w.set_overlay_visible(False)
        count = w.overlay.refresh_count
        qtbot.wait(1200)
        assert w.overlay.refresh_count == count and not w.overlay.isVisible()
    finally:
        w.hub.shutdown()
        w.cleanup()


def test_ui_window_overlay_says_web_mode(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, IngestSettings(web_mode=True))
    try:
        w.set_overlay_visible(True)
        assert "web mode" in w.overlay.text.text()
    finally:
        w.hub.shutdown()
        w.cleanup()


def test_ui_window_busy_port_is_reported_and_app_keeps_working(qtbot, tmp_path, data_dir):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        hub = IngestHub()
        args = argparse.Namespace(no_serve=False, bind="127.0.0.1", port=port)
        server, url, error = start_server(hub, args)
        assert server is None and url is None
        assert error and str(port) in error
        w = MainWindow(hub, AppSettings(tmp_path / "s.ini"), listen_url=url, server_error=error,
                       restore_geometry=False)
        qtbot.addWidget(w)
        w.show()
        hub.start()
        try:
            assert str(port) in w.server_label.text()
            assert any(str(port) in n.text for n in w.notifications.notifications)
            w.open_paths([data_dir / "scalars.rrd"])
            assert hub.run_until_idle(10)
            qtbot.waitUntil(lambda: w.active is not None, timeout=3000)
        finally:
            hub.shutdown()
            w.cleanup()
    finally:
        blocker.close()


def test_ui_window_overlay_is_opaque_and_painted_over_a_plot(qtbot, tmp_path, data_dir):
    """The overlay covers what is beneath it with its own background (it is opaque, so a
    refresh does not repaint the views under it), and its refreshes repaint no view."""
    from PySide6.QtCore import QEvent, QObject, QPoint
    from PySide6.QtGui import QColor

    w = _window(qtbot, tmp_path)
    try:
        w.open_paths([data_dir / "mixed.rrd"], remember=False)
        assert w.hub.run_until_idle(20)
        qtbot.waitUntil(lambda: w.active is not None, timeout=5000)
        w.views_area.flush_pending()
        w.set_overlay_visible(True)
        qtbot.wait(200)
        assert w.overlay.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

        class PaintCounter(QObject):
            count = 0

            def eventFilter(self, obj, event):  # noqa: N802 (Qt API)
                if event.type() == QEvent.Type.Paint:
                    PaintCounter.count += 1
                return False

        counter = PaintCounter()
        views = [v for h in w.views_area.hosts.values() for v in h.all_views()]
        assert views
        for view in views:
            for child in [view, *view.findChildren(QObject)]:
                if hasattr(child, "installEventFilter"):
                    child.installEventFilter(counter)
        # Views may still be settling (a table growing a scroll bar, a first layout): wait
        # for a quiet spell of 300 ms without any view paint before counting.
        def quiet() -> bool:
            PaintCounter.count = 0
            qtbot.wait(300)
            return PaintCounter.count == 0

        qtbot.waitUntil(quiet, timeout=15000)
        for _ in range(3):
            w.overlay.refresh()
            qtbot.wait(30)
        assert PaintCounter.count == 0  # nothing beneath the overlay was repainted

        # Whatever lies beneath, the overlay's padding shows its own background colour
        # (the palette's here: tests run without the app's style sheet).
        image = w.grab().toImage()
        corner = w.overlay.mapTo(w, QPoint(4, w.overlay.height() - 4))
        own = w.overlay.palette().window().color()
        assert image.pixelColor(corner.x(), corner.y()).rgb() == own.rgb()
        assert own != QColor(0, 0, 0)
    finally:
        w.set_overlay_visible(False)
        w.hub.shutdown()
