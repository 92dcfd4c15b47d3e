"""Over the memory limit the window says what was dropped and the overlay shows usage."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))

from memory_files import write_big_file  # noqa: E402

from viewer.ingest import IngestHub, IngestSettings  # noqa: E402
from viewer.ui.main_window import MainWindow  # noqa: E402
from viewer.ui.memory_notice import MemoryNotices  # noqa: E402
from viewer.ui.settings import AppSettings  # noqa: E402

LIMIT = 8 << 20


def test_ui_window_memory_limit_notice_and_overlay(qtbot, tmp_path):
    big = write_big_file(tmp_path / "big.rrd", 3 * LIMIT)
    hub = IngestHub(IngestSettings(memory_limit_bytes=LIMIT))
    w = MainWindow(hub, AppSettings(tmp_path / "s.ini"), restore_geometry=False)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    hub.start()
    try:
        w.set_overlay_visible(True)
        w.open_paths([str(big)])
        qtbot.waitUntil(hub.is_idle, timeout=20_000)
        qtbot.waitUntil(lambda: bool(w._memory_notices.shown), timeout=5_000)
        notice = w._memory_notices.shown[0]
        assert notice.startswith("Dropped ") and "memory limit" in notice
        assert any("Memory limit" in n.title for n in w.notifications.notifications)
        w.overlay.refresh()
        assert w.overlay.numbers["memory_limit_bytes"] == LIMIT
        assert 0 < w.overlay.numbers["memory_used_bytes"] <= LIMIT * 1.2
        assert "memory" in w.overlay.text.text() and "dropped" in w.overlay.text.text()
    finally:
        hub.shutdown()
        w.cleanup()


class _Report:
    def __init__(self, chunks: int, stuck: bool = False) -> None:
        from viewer.ingest.memory_governor import EvictionReport, StoreEviction
        from viewer.log.messages import StoreId, StoreKind

        sid = StoreId(StoreKind.RECORDING, "rec", "app")
        stores = (StoreEviction(sid, chunks, chunks * 10, chunks * 1000, {}),) if chunks else ()
        self.report = EvictionReport(stores, LIMIT, LIMIT * 2, LIMIT, stuck)


def test_memory_notices_are_summed_between_intervals(qtbot):
    class _Sink:
        def __init__(self) -> None:
            self.texts: list[str] = []

        def warning(self, _title: str, text: str) -> None:
            self.texts.append(text)

    sink = _Sink()
    notices = MemoryNotices(sink, interval_s=0.3)
    for _ in range(5):
        notices.add(_Report(3).report)
    assert len(sink.texts) == 1 and "Dropped 3 chunks" in sink.texts[0]  # the first at once
    qtbot.waitUntil(lambda: len(sink.texts) == 2, timeout=2000)
    assert "Dropped 12 chunks" in sink.texts[1]  # the other four, summed into one notice
    notices.add(_Report(0, stuck=True).report)
    notices.add(_Report(0, stuck=True).report)
    assert len(sink.texts) == 3 and "reached" in sink.texts[2]  # "stuck" is said once


def test_ui_window_memory_limit_setting_applies_and_is_remembered(qtbot, tmp_path):
    import argparse

    from viewer.ui.app import gui_memory_limit

    hub = IngestHub(IngestSettings(memory_limit_bytes=None))
    settings = AppSettings(tmp_path / "s.ini")
    w = MainWindow(hub, settings, restore_geometry=False)
    qtbot.addWidget(w)
    try:
        assert w.set_memory_limit("500MB")
        assert hub.memory.limit_bytes == 500_000_000
        assert not w.set_memory_limit("2XB")  # a bad value is an error notice, nothing changes
        assert hub.memory.limit_bytes == 500_000_000
        assert any("2XB" in n.text for n in w.notifications.notifications)
        settings.sync()
        again = AppSettings(tmp_path / "s.ini")
        no_flag = argparse.Namespace(memory_limit=None, memory_limit_bytes=123)
        assert gui_memory_limit(no_flag, again) == 500_000_000  # the saved choice
        flag = argparse.Namespace(memory_limit="1GB", memory_limit_bytes=10**9)
        assert gui_memory_limit(flag, again) == 10**9  # the flag wins
    finally:
        hub.shutdown()
        w.cleanup()
