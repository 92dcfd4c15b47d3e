"""BarChartView and the scene's ``bars_at`` on bar charts logged with rerun-sdk: bar
geometry as Rerun lays it out, the logged or default colour, heights in pixels, the time
cursor, Clear, hover."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from ui_views_support import write_recording

from viewer.scene.bar_chart import bars_at
from viewer.scene.colors import entity_color
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.chart.bar_chart import BarChartView

VALUES = [8.0, 4.0, -2.0, 0.0, 6.0]
LATER = [1.0, 3.0]


@pytest.fixture
def bars_db(tmp_path, qapp):
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("bars", rr.BarChart(VALUES, color=[255, 0, 0]))
        rec.log("placed", rr.BarChart(np.array([1, 2, 3], np.int32), abscissa=[10, 12, 14],
                                      widths=[1.5, 0.5]))
        rec.log("short", rr.BarChart([5, 6, 7], abscissa=[0.0, 2.0]))
        with warnings.catch_warnings():  # rerun-sdk warns: bar charts want 1-D values
            warnings.simplefilter("ignore")
            rec.log("grid", rr.BarChart(np.ones((2, 3))))
        rec.log("column", rr.BarChart(np.array([[1.0], [2.0]])))
        rec.set_time("frame", sequence=3)
        rec.log("bars", rr.BarChart(LATER, color=[0, 0, 255]))
        rec.set_time("frame", sequence=6)
        rec.log("bars", rr.Clear(recursive=False))

    return write_recording(tmp_path / "bars.rrd", tmp_path, log)


def test_bars_follow_rerun_layout(bars_db):
    query = LatestAt(bars_db, "frame", 0)
    bars = bars_at(query, EntityPath.parse("/bars"))
    np.testing.assert_array_equal(bars.left, [0, 1, 2, 3, 4])  # abscissa 0..n-1
    np.testing.assert_array_equal(bars.widths, [1, 1, 1, 1, 1])  # width 1
    np.testing.assert_array_equal(bars.values, VALUES)
    np.testing.assert_array_equal(bars.centers, [0.5, 1.5, 2.5, 3.5, 4.5])
    assert bars.color == bars.fill_color == (255, 0, 0, 255)
    placed = bars_at(query, EntityPath.parse("/placed"))
    np.testing.assert_array_equal(placed.left, [10, 12, 14])
    np.testing.assert_array_equal(placed.widths, [1.5, 0.5, 0.5])  # last width repeats
    np.testing.assert_array_equal(placed.values, [1, 2, 3])
    assert placed.color is None and placed.fill_color == entity_color(EntityPath.parse("/placed"))
    short = bars_at(query, EntityPath.parse("/short"))
    np.testing.assert_array_equal(short.values, [5, 6])  # the shorter abscissa wins
    assert bars_at(query, EntityPath.parse("/grid")) is None  # not a vector
    np.testing.assert_array_equal(bars_at(query, EntityPath.parse("/column")).values, [1, 2])


def test_bars_at_the_cursor_and_clear(bars_db):
    entity = EntityPath.parse("/bars")
    assert bars_at(LatestAt(bars_db, "frame", -1), entity) is None
    later = bars_at(LatestAt(bars_db, "frame", 4), entity)
    np.testing.assert_array_equal(later.values, LATER)
    assert later.color == (0, 0, 255, 255)
    assert bars_at(LatestAt(bars_db, "frame", 6), entity) is None


def _view(qtbot, db, entities, t):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = BarChartView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(420, 320)
    view.redraw_now()
    return view, tc


def _grab(view: BarChartView) -> np.ndarray:
    image = view.plot_widget.viewport().grab().toImage().convertToFormat(
        QImage.Format.Format_RGB888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    arr = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return arr.reshape(image.height(), image.width(), 3).copy()


def _to_pixel(view: BarChartView, x: float, y: float) -> tuple[float, float]:
    scene = view.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    p = view.plot_widget.mapFromScene(scene)
    return p.x(), p.y()


def _painted_run(pixels: np.ndarray, column: int, rgb: tuple[int, int, int]) -> tuple[int, int]:
    """First and last row of ``column`` painted in ``rgb``."""
    rows = np.flatnonzero((np.abs(pixels[:, column].astype(int) - rgb) <= 2).all(axis=1))
    assert len(rows), f"no {rgb} pixel in column {column}"
    return int(rows[0]), int(rows[-1])


def test_bar_heights_and_colour_in_pixels(qtbot, bars_db):
    view, _ = _view(qtbot, bars_db, ["/bars"], 0)
    pixels = _grab(view)
    item = view.items[EntityPath.parse("/bars")]
    np.testing.assert_array_equal(item.opts["height"], VALUES)
    np.testing.assert_array_equal(item.opts["x0"], [0, 1, 2, 3, 4])
    _, zero_y = _to_pixel(view, 0.0, 0.0)
    for i, value in enumerate(VALUES):
        if value == 0:
            continue
        cx, top_y = _to_pixel(view, i + 0.5, value)
        first, last = _painted_run(pixels, int(cx), (255, 0, 0))
        if value > 0:
            assert abs(first - top_y) <= 2 and abs(last - zero_y) <= 2, (i, first, last)
        else:
            assert abs(first - zero_y) <= 2 and abs(last - top_y) <= 2, (i, first, last)
    # Between bar 1 (height 4) and the top of bar 0 (height 8) there is no red in bar 1.
    cx, y6 = _to_pixel(view, 1.5, 6.0)
    assert tuple(pixels[int(y6), int(cx)]) != (255, 0, 0)


def test_default_colour_and_the_time_cursor(qtbot, bars_db):
    view, tc = _view(qtbot, bars_db, ["/bars", "/placed"], 0)
    pixels = _grab(view)
    placed_rgb = entity_color(EntityPath.parse("/placed"))[:3]
    cx, y = _to_pixel(view, 12.25, 1.3)  # inside the bar of height 2
    assert tuple(int(c) for c in pixels[int(y), int(cx)]) == placed_rgb
    tc.set_time(4)
    qtbot.waitUntil(lambda: list(view.bars[EntityPath.parse("/bars")].values) == LATER)
    item = view.items[EntityPath.parse("/bars")]
    np.testing.assert_array_equal(item.opts["height"], LATER)
    pixels = _grab(view)
    cx, y = _to_pixel(view, 1.5, 1.5)
    assert tuple(int(c) for c in pixels[int(y), int(cx)]) == (0, 0, 255)
    tc.set_time(6)
    qtbot.waitUntil(lambda: EntityPath.parse("/bars") not in view.bars)
    assert EntityPath.parse("/bars") not in view.items
    assert EntityPath.parse("/placed") in view.items


def test_hover_names_the_bar(qtbot, bars_db):
    view, _ = _view(qtbot, bars_db, ["/bars"], 0)
    view.show()
    qtbot.waitExposed(view)
    _grab(view)
    assert view.bar_at(4.5, 3.0) == (EntityPath.parse("/bars"), 4)
    assert view.bar_at(2.5, -1.0) == (EntityPath.parse("/bars"), 2)
    assert view.bar_at(2.5, 1.0) is None  # above a negative bar
    x, y = _to_pixel(view, 4.5, 3.0)
    QTest.mouseMove(view.plot_widget.viewport(), QPointF(x, y).toPoint())
    qtbot.waitUntil(lambda: view.hover_text.startswith("/bars #4: 6"))


def test_accepts(bars_db):
    assert BarChartView.accepts(bars_db, EntityPath.parse("/bars"))
    assert not BarChartView.accepts(bars_db, EntityPath.parse("/__properties"))
