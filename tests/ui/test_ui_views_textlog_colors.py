"""TextLog colours written by rerun-sdk colour the row text (drawn, pixel-checked); the
level column is as wide as its longest level, so no level is cut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QStyle
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.text.textlog import TextLogView

AZURE = (0, 128, 255)
LONG_LEVEL = "NOTICE-FROM-SUBSYSTEM"


def _log(rr, rec):
    rec.set_time("frame", sequence=1)
    rec.log("log", rr.TextLog("azure text row", level=rr.TextLogLevel.INFO, color=AZURE))
    rec.set_time("frame", sequence=2)
    rec.log("log", rr.TextLog("plain text row", level=rr.TextLogLevel.CRITICAL))
    rec.set_time("frame", sequence=3)
    rec.log("log", rr.TextLog("custom level row", level=LONG_LEVEL, color=[255, 0, 0]))
    rec.log("fixed", rr.TextLog("static azure", color=AZURE), static=True)


@pytest.fixture
def log_view(qtbot, tmp_path):
    db = write_recording(tmp_path / "colors.rrd", tmp_path, _log)
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TextLogView(db, [EntityPath.parse("/fixed"), EntityPath.parse("/log")], tc)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    view.redraw_now()
    return view


def _row(view, text):
    m = view.model
    return next(r for r in range(m.rowCount()) if m.index(r, 3).data() == text)


def _azure_pixels(view, row) -> int:
    img = view.grab().toImage()
    rect = view.table_view.visualRect(view.model.index(row, 3))
    origin = view.table_view.viewport().mapTo(view, rect.topLeft())
    count = 0
    for x in range(origin.x(), origin.x() + min(rect.width(), 200)):
        for y in range(origin.y(), origin.y() + rect.height()):
            c = QColor(img.pixel(x, y))
            if c.blue() > 180 and c.red() < 80 and 90 < c.green() < 170:
                count += 1
    return count


def test_color_is_the_row_text_colour(log_view):
    m = log_view.model
    azure, plain = _row(log_view, "azure text row"), _row(log_view, "plain text row")
    brush = m.index(azure, 3).data(Qt.ItemDataRole.ForegroundRole)
    assert brush.color().getRgb() == (*AZURE, 255)
    assert m.index(plain, 3).data(Qt.ItemDataRole.ForegroundRole) is None
    static = _row(log_view, "static azure")
    assert m.index(static, 3).data(Qt.ItemDataRole.ForegroundRole).color().getRgb() == \
        (*AZURE, 255)
    red = _row(log_view, "custom level row")
    assert m.index(red, 3).data(Qt.ItemDataRole.ForegroundRole).color().getRgb() == \
        (255, 0, 0, 255)
    # Drawn: the azure row's text has azure pixels, the plain row's none.
    assert _azure_pixels(log_view, azure) > 10
    assert _azure_pixels(log_view, plain) == 0


def test_level_column_fits_the_longest_level(log_view):
    header = log_view.table_view.horizontalHeader()
    metrics = log_view.table_view.fontMetrics()
    style = log_view.table_view.style()
    margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                    log_view.table_view) + 1)
    for level in ("CRITICAL", LONG_LEVEL):
        room = header.sectionSize(2) - margin
        assert metrics.horizontalAdvance(level) <= room
        assert metrics.elidedText(level, Qt.TextElideMode.ElideRight, room) == level
