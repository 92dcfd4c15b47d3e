"""MapView on GeoPoints / GeoLineStrings written by rerun-sdk: points land at their
longitude / latitude, distances true near the data's latitude, lines drawn, the offline
note shown, Clear and metre radii."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage
from ui_views_support import write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.map.map_view import MapView

# (lat, lon) as Rerun takes them.
CITIES = [[59.33, 18.07], [48.86, 2.35], [51.51, -0.13]]
RED, CYAN = (255, 0, 0), (0, 255, 255)


def _log(rr, rec):
    rec.set_time("frame", sequence=0)
    rec.log("cities", rr.GeoPoints(lat_lon=CITIES, radii=rr.Radius.ui_points(6), colors=RED))
    rec.log("route", rr.GeoLineStrings(lat_lon=[[[50.0, 5.0], [56.0, 15.0]]],
                                       radii=rr.Radius.ui_points(3), colors=CYAN))
    rec.log("big", rr.GeoPoints(lat_lon=[[55.0, 10.0]], radii=50_000.0, colors=[0, 0, 255]))
    rec.set_time("frame", sequence=3)
    rec.log("route", rr.Clear(recursive=False))


@pytest.fixture
def map_db(tmp_path):
    return write_recording(tmp_path / "map.rrd", tmp_path, _log)


def _view(qtbot, db, entities, t=0):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = MapView(db, [EntityPath.parse(e) for e in entities], tc)
    qtbot.addWidget(view)
    view.resize(600, 450)
    view.show()
    view.redraw_now()
    view.plot_item.getViewBox().autoRange(padding=0.1)
    return view, tc


def _pixel(view: MapView, lon: float, lat: float) -> tuple[int, int]:
    scene = view.plot_item.getViewBox().mapViewToScene(QPointF(lon, lat))
    p = view.plot_widget.mapTo(view, view.plot_widget.mapFromScene(scene))
    return p.x(), p.y()


def _rgb(img: QImage, xy: tuple[int, int]) -> tuple[int, int, int]:
    c = QColor(img.pixel(*xy))
    return c.red(), c.green(), c.blue()


def test_points_land_at_longitude_latitude(qtbot, map_db):
    view, _ = _view(qtbot, map_db, ["/cities", "/route"])
    np.testing.assert_allclose(view.scene_data.lon_lat, np.array(CITIES)[:, ::-1])
    img = view.grab().toImage()
    for lat, lon in CITIES:
        assert _rgb(img, _pixel(view, lon, lat)) == RED
    stockholm, paris = _pixel(view, 18.07, 59.33), _pixel(view, 2.35, 48.86)
    assert stockholm[0] > paris[0] and stockholm[1] < paris[1]  # east and north
    # The route's midpoint is drawn (a line, not only its ends), away from any city.
    r, g, b = _rgb(img, _pixel(view, 7.5, 51.5))  # (a grid line may cross it faintly)
    assert r < 80 and g > 200 and b > 200
    # Background between cities stays dark.
    assert max(_rgb(img, _pixel(view, 15.0, 50.0))) < 80


def test_aspect_keeps_distances_true_near_the_data(qtbot, map_db):
    view, _ = _view(qtbot, map_db, ["/cities"])
    (x0, y0), (x1, y1) = _pixel(view, 0.0, 50.0), _pixel(view, 10.0, 60.0)
    per_lon, per_lat = abs(x1 - x0) / 10.0, abs(y1 - y0) / 10.0
    mid_lat = (59.33 + 48.86) / 2
    assert per_lon / per_lat == pytest.approx(math.cos(math.radians(mid_lat)), rel=0.03)


def test_offline_note_is_visible(qtbot, map_db):
    view, _ = _view(qtbot, map_db, ["/cities"])
    assert view.note.isVisible()
    assert "not downloaded" in view.note.text()


def test_clear_removes_the_line(qtbot, map_db):
    view, tc = _view(qtbot, map_db, ["/route"])
    assert len(view.scene_data.lines) == 1
    tc.set_time(3)
    view.redraw_now()
    assert view.scene_data.lines == []
    assert not any(item.isVisible() for item in view.line_items)


def test_metre_radius_scales_with_zoom(qtbot, map_db):
    view, _ = _view(qtbot, map_db, ["/big"])
    vb = view.plot_item.getViewBox()
    vb.setRange(yRange=(54.0, 56.0), padding=0)
    size = view.points_item.data["size"][0]
    # 50 km is 0.449 degrees of latitude: a diameter of 0.898 of the 2-degree view height.
    expected = 2 * 50_000 / 111_320 * vb.height() / (vb.viewRange()[1][1] - vb.viewRange()[1][0])
    assert size == pytest.approx(expected, rel=1e-6)
    vb.setRange(yRange=(53.0, 57.0), padding=0)
    assert view.points_item.data["size"][0] == pytest.approx(size / 2, rel=0.02)


def test_accepts_geo_entities(map_db):
    assert MapView.accepts(map_db, EntityPath.parse("/cities"))
    assert MapView.accepts(map_db, EntityPath.parse("/route"))
    assert not MapView.accepts(map_db, EntityPath.parse("/none"))
