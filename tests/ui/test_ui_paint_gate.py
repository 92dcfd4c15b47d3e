"""Threaded mode: a window's paint holds the background threads (the UI gate), also when it
comes outside a frame tick, as the platform's update request for the window does."""

from __future__ import annotations

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from viewer.ingest import IngestHub, IngestSettings


class _Probe(QWidget):
    """Records, at each paint, whether background threads could run."""

    def __init__(self, hub: IngestHub) -> None:
        super().__init__()
        self.hub = hub
        self.gate_open_at_paint: list[bool] = []

    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001 (Qt API)
        self.gate_open_at_paint.append(self.hub.state.ui_gate.is_set())
        QPainter(self).fillRect(self.rect(), self.palette().window())


def test_paints_close_the_ui_gate_until_they_ran(qtbot):
    hub = IngestHub(IngestSettings(web_mode=False))
    probe = _Probe(hub)
    qtbot.addWidget(probe)
    probe.resize(200, 100)
    probe.show()
    qtbot.waitExposed(probe)
    try:
        hub.start()
        qtbot.waitUntil(lambda: hub.state.ui_gate.is_set(), timeout=2000)  # idle: open
        for _ in range(3):
            before = len(probe.gate_open_at_paint)
            probe.update()  # a paint outside any frame tick
            qtbot.waitUntil(lambda b=before: len(probe.gate_open_at_paint) > b, timeout=2000)
        assert probe.gate_open_at_paint[-3:] == [False, False, False]
        qtbot.waitUntil(lambda: hub.state.ui_gate.is_set(), timeout=2000)  # open again after
    finally:
        hub.shutdown()
    assert hub.state.ui_gate.is_set()


def test_web_mode_has_no_gate_to_close(qtbot):
    hub = IngestHub(IngestSettings(web_mode=True))
    probe = _Probe(hub)
    qtbot.addWidget(probe)
    probe.show()
    qtbot.waitExposed(probe)
    try:
        hub.start()
        before = len(probe.gate_open_at_paint)
        probe.update()
        qtbot.waitUntil(lambda: len(probe.gate_open_at_paint) > before, timeout=2000)
        assert probe.gate_open_at_paint[-1] is True
    finally:
        hub.shutdown()
