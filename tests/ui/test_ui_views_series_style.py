"""Series styling written by rerun-sdk: SeriesLines widths in pixels, hidden series not
drawn, SeriesPoints as markers of the logged shape and size with no line between them,
and a style logged later restyles the curve."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _log(rr, rec):
    rec.log("thick", rr.SeriesLines(widths=3, colors=RED, names="thick"), static=True)
    rec.log("thin", rr.SeriesLines(colors=BLUE), static=True)
    rec.log("pair", rr.SeriesLines(colors=[GREEN, BLUE], names=["shown", "hidden"],
                                   visible_series=[True, False]), static=True)
    rec.log("dots", rr.SeriesPoints(markers="cross", marker_sizes=4, colors=GREEN,
                                    names="dots"), static=True)
    for i in range(11):
        rec.set_time("frame", sequence=i)
        rec.log("thick", rr.Scalars(2.3))
        rec.log("thin", rr.Scalars(8.3))
        rec.log("pair", rr.Scalars([5.3, 6.3]))
    for i in (0, 10):  # two distant samples
        rec.set_time("frame", sequence=i)
        rec.log("dots", rr.Scalars(float(i)))


@pytest.fixture
def style_db(tmp_path):
    return write_recording(tmp_path / "style.rrd", tmp_path, _log)


def _view(qtbot, db, entities):
    tc = TimeControl()
    tc.set_timeline("frame")
    view = TimeSeriesView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.redraw_now()
    view.plot_item.getViewBox().setRange(xRange=(-1, 11), yRange=(-1, 11), padding=0)
    view.legend.setVisible(False)
    return view, tc


def _pixel(view, x: float, y: float) -> tuple[int, int]:
    scene = view.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    p = view.plot_widget.mapTo(view, view.plot_widget.mapFromScene(scene))
    return p.x(), p.y()


def _rgb(img: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = QColor(img.pixel(x, y))
    return c.red(), c.green(), c.blue()


def _run_length(img: QImage, x: int, y_mid: int, rgb: tuple[int, int, int]) -> int:
    """Pixels of colour ``rgb`` in column ``x`` within 10 px of ``y_mid``."""
    return sum(_rgb(img, x, y) == rgb for y in range(y_mid - 10, y_mid + 11))


def test_line_width_is_drawn_in_pixels(qtbot, style_db):
    view, _ = _view(qtbot, style_db, ["/thick", "/thin"])
    img = view.grab().toImage()
    x, y_thick = _pixel(view, 5.3, 2.3)  # off the grid lines
    _, y_thin = _pixel(view, 5.3, 8.3)
    assert _run_length(img, x, y_thick, RED) == 3
    assert _run_length(img, x, y_thin, BLUE) == 1  # no width logged: 1 px


def test_hidden_series_is_not_drawn(qtbot, style_db):
    view, _ = _view(qtbot, style_db, ["/pair"])
    pair = EntityPath.parse("/pair")
    assert view.curves[(pair, 0)].isVisible()
    assert not view.curves[(pair, 1)].isVisible()
    assert [view.curves[(pair, i)].name() for i in (0, 1)] == ["shown", "hidden"]
    img = view.grab().toImage()
    x, y5 = _pixel(view, 5.3, 5.3)
    _, y6 = _pixel(view, 5.3, 6.3)
    assert _run_length(img, x, y5, GREEN) == 1
    assert _run_length(img, x, y6, BLUE) == 0


def test_points_are_markers_without_a_connecting_line(qtbot, style_db):
    view, _ = _view(qtbot, style_db, ["/dots"])
    curve = view.curves[(EntityPath.parse("/dots"), 0)]
    assert curve.opts["symbol"] == "x"
    assert curve.opts["symbolSize"] == 8.0  # marker size is a radius in UI points
    assert curve.opts["pen"].style() == Qt.PenStyle.NoPen
    img = view.grab().toImage()
    # Markers at both samples...
    for t in (0.0, 10.0):
        x, y = _pixel(view, t, t)
        greens = [(dx, dy) for dx in range(-6, 7) for dy in range(-6, 7)
                  if _rgb(img, x + dx, y + dy) == GREEN]
        assert greens
        span = max(dx for dx, _ in greens) - min(dx for dx, _ in greens) + 1
        # A cross of radius 4 has its arm ends 4 px out along the diagonals: ~5.7 px wide.
        assert 5 <= span <= 8
    # ... and nothing green along the diagonal between them.
    for t in np.linspace(2.0, 8.0, 13):
        x, y = _pixel(view, t, t)
        assert all(_rgb(img, x + dx, y + dy) != GREEN for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def test_a_later_style_row_restyles_the_curve(qtbot, style_db, tmp_path):
    view, _ = _view(qtbot, style_db, ["/thick"])
    thick = EntityPath.parse("/thick")
    curve = view.curves[(thick, 0)]
    assert curve.opts["pen"].widthF() == 3.0

    def restyle(rr, rec):
        rec.log("thick", rr.SeriesLines(widths=6, colors=BLUE), static=True)

    newer = write_recording(tmp_path / "restyle.rrd", tmp_path, restyle)
    for chunk in newer.chunks_of(thick):
        style_db.add_chunk(chunk)
    view.on_data_changed([thick])
    view.redraw_now()
    assert view.curves[(thick, 0)] is curve
    assert curve.opts["pen"].widthF() == 6.0
    assert curve.opts["pen"].color().getRgb()[:3] == BLUE
