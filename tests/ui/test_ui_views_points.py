"""Points2DView and Points3DView on real rerun-sdk data: counts, colours, camera, pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from ui_views_support import load_db, write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial.points2d import Points2DView
from viewer.ui.views.spatial.points3d import Points3DView


def _logged_counts(path, entity: str, component: str) -> dict[int, int]:
    """frame -> number of positions, straight from rerun-sdk's reader."""
    from rerun.chunk import RrdReader

    reader = RrdReader(str(path))
    counts = {}
    for chunk in reader.stream(store=reader.recordings()[0]).to_chunks():
        if chunk.entity_path != entity or chunk.is_static:
            continue
        batch = chunk.to_record_batch()
        frames = batch.column("frame").to_pylist()
        for f, cell in zip(frames, batch.column(component).to_pylist(), strict=True):
            if cell is not None:
                counts[f] = len(cell)
    return counts


def _view(qtbot, kind, db, entities, t):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = kind(db, entities, tc)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    return view, tc


def test_points3d_count_follows_cursor(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "points.rrd", tmp_path)
    cloud = EntityPath.parse("/world/cloud")
    counts = _logged_counts(data_dir / "points.rrd", "/world/cloud", "Points3D:positions")
    frames = sorted(counts)
    view, tc = _view(qtbot, Points3DView, db, [cloud], frames[0])
    assert view.point_count() == counts[frames[0]]
    for f in frames[1:4]:
        tc.set_time(f)
        qtbot.waitUntil(lambda f=f: view.point_count() == counts[f], timeout=1000)
    # Between two logged frames latest-at keeps the earlier one.
    if frames[1] - frames[0] > 1:
        tc.set_time(frames[0] + 1)
        qtbot.waitUntil(lambda: view.point_count() == counts[frames[0]], timeout=1000)


def test_points2d_count_and_positions(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "points.rrd", tmp_path)
    kp = EntityPath.parse("/image/keypoints")
    counts = _logged_counts(data_dir / "points.rrd", "/image/keypoints", "Points2D:positions")
    f = sorted(counts)[len(counts) // 2]
    view, _ = _view(qtbot, Points2DView, db, [kp], f)
    assert view.point_count(kp) == counts[f]
    item = view.items[kp]
    assert len(item.data) == counts[f]


@pytest.fixture
def known_points(tmp_path):
    """Two frames: 3 red points at frame 0, 5 green/blue points at frame 10; radii given."""
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("world/p", rr.Points3D([[0, 0, 0], [1, 0, 0], [0, 1, 0]],
                                       colors=[255, 0, 0], radii=0.05))
        rec.log("flat/p", rr.Points2D([[0, 0], [10, 0], [0, 10]], colors=[255, 0, 0]))
        rec.set_time("frame", sequence=10)
        pts = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]
        rec.log("world/p", rr.Points3D(pts, colors=[[0, 255, 0]] * 4 + [[0, 0, 255]],
                                       radii=-8.0))
        rec.log("flat/p", rr.Points2D([[0, 0], [10, 0], [0, 10], [5, 5], [7, 7]],
                                      colors=[[0, 255, 0]] * 5, radii=[0.5]))

    return write_recording(tmp_path / "known.rrd", tmp_path, log)


def test_points3d_draws_logged_colours(qtbot, known_points):
    p = EntityPath.parse("/world/p")
    view, tc = _view(qtbot, Points3DView, known_points, [p], 5)
    assert view.point_count() == 3
    np.testing.assert_array_equal(view.rgba[:, :3], [[255, 0, 0]] * 3)
    tc.set_time(10)
    qtbot.waitUntil(lambda: view.point_count() == 5, timeout=1000)
    xy, rgba, diam = view.projected()
    assert len(xy) == 5
    np.testing.assert_allclose(diam, 16.0)  # radius -8 = 8 UI points
    image = view.canvas.grab().toImage()
    # The nearest point (last after the far-to-near sort) is drawn on top: its colour shows.
    x, y = (int(round(v)) for v in xy[-1])
    color = image.pixelColor(x, y)
    expected = rgba[-1]
    assert (color.red(), color.green(), color.blue()) == tuple(int(c) for c in expected[:3])


def test_points3d_orbit_and_zoom(qtbot, known_points):
    view, _ = _view(qtbot, Points3DView, known_points, [EntityPath.parse("/world/p")], 10)
    before_xy, _, _ = view.projected()
    yaw, distance = view.camera.yaw, view.camera.distance
    canvas = view.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(canvas, QPoint(160, 110))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(160, 110))
    assert view.camera.yaw != yaw
    assert not view.auto_fit
    after_xy, _, _ = view.projected()
    assert not np.allclose(np.sort(before_xy, axis=0), np.sort(after_xy, axis=0))
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(event)
    assert view.camera.distance < distance
    view.fit_camera()
    assert view.auto_fit


def test_points2d_colours_and_scene_radii(qtbot, known_points):
    p = EntityPath.parse("/flat/p")
    view, tc = _view(qtbot, Points2DView, known_points, [p], 0)
    assert view.point_count(p) == 3
    tc.set_time(10)
    qtbot.waitUntil(lambda: view.point_count(p) == 5, timeout=1000)
    item = view.items[p]
    assert not item.opts["pxMode"]  # positive radii are scene units
    np.testing.assert_allclose(item.data["size"], 1.0)
    brush = item.data["brush"][0]
    assert brush.color().getRgb()[:3] == (0, 255, 0)


def test_points_view_skips_work_when_row_unchanged(qtbot, known_points, monkeypatch):
    p = EntityPath.parse("/flat/p")
    view, tc = _view(qtbot, Points2DView, known_points, [p], 10)
    calls = []
    item = view.items[p]
    original = item.setData
    monkeypatch.setattr(item, "setData", lambda *a, **k: (calls.append(1), original(*a, **k)))
    tc.set_time(11)  # same latest-at row as frame 10
    view.redraw_now()
    assert calls == []
    tc.set_time(3)
    view.redraw_now()
    assert calls == [1] and view.point_count(p) == 3


def test_splat_draws_discs_in_order():
    from viewer.ui.views.spatial.splat import pack_rgb32, splat

    buf = np.zeros((20, 30), np.uint32)
    xy = np.array([[10.5, 10.5], [12.5, 10.5], [0.5, 0.5], [25.5, 5.5]])
    rgba = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [9, 9, 9, 255]],
                    np.uint8)
    colors = pack_rgb32(rgba)
    splat(buf, xy, colors, np.array([7.0, 7.0, 3.0, 1.0]))
    assert buf[10, 8] == colors[0]  # radius 3: red covers x 7..13, green x 9..15
    assert buf[10, 10] == colors[1] and buf[10, 12] == colors[1]  # later (nearer) wins
    assert buf[10, 7] == colors[0] and buf[10, 6] == 0  # radius 3 around x=10
    assert buf[0, 0] == colors[2] and buf[1, 1] == colors[2]  # clipped at the border
    assert buf[5, 25] == colors[3] and buf[5, 26] == 0 and buf[6, 25] == 0  # one pixel
    # Mixed sizes keep the given order: the big far disc does not cover the small near one.
    buf[:] = 0
    splat(buf, np.array([[10.5, 10.5], [10.5, 10.5]]), colors[:2], np.array([9.0, 1.0]))
    assert buf[10, 10] == colors[1] and buf[10, 11] == colors[0]


def test_points2d_large_cloud_is_splatted_with_colours(qtbot, tmp_path):
    from PySide6.QtCore import QPointF

    n = 3000
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, size=(n, 2)).astype(np.float32)
    colors = rng.integers(0, 256, size=(n, 3)).astype(np.uint8)

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("big", rr.Points2D(xy, colors=colors, radii=-3.0))

    db = write_recording(tmp_path / "big2d.rrd", tmp_path, log)
    big = EntityPath.parse("/big")
    view, _ = _view(qtbot, Points2DView, db, [big], 0)
    assert view.point_count(big) == n
    assert len(view.items[big].data) == 0 and len(view.splat_items[big].xy) == n
    view.plot_item.vb.autoRange(padding=0.05)
    view.plot_item.showGrid(x=False, y=False)  # grid lines are drawn over the points
    image = view.plot_widget.grab().toImage()
    # The last point drawn is on top of any overlap: its centre pixel has its colour.
    vb = view.plot_item.vb
    scene = vb.mapViewToScene(QPointF(float(xy[-1, 0]), float(xy[-1, 1])))
    pos = view.plot_widget.mapFromScene(scene)
    c = image.pixelColor(pos.x(), pos.y())
    assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in colors[-1])


def test_views_fit_the_bounds_seen_so_far(qtbot, known_points):
    """Scrubbing back to a smaller cloud keeps the framing; user zoom stops the following."""
    p3, p2 = EntityPath.parse("/world/p"), EntityPath.parse("/flat/p")
    v3, tc3 = _view(qtbot, Points3DView, known_points, [p3], 10)
    distance = v3.camera.distance
    tc3.set_time(0)  # 3 points inside the 5-point cloud's box
    qtbot.waitUntil(lambda: v3.point_count() == 3, timeout=1000)
    assert v3.camera.distance == distance
    v3.fit_camera()  # double-click: fit what is shown now
    assert v3.camera.distance < distance

    v2, tc2 = _view(qtbot, Points2DView, known_points, [p2], 0)
    x_range = v2.plot_item.getViewBox().viewRange()[0]
    assert x_range[0] <= 0 and x_range[1] >= 10
    v2.plot_item.getViewBox().sigRangeChangedManually.emit([True, True])
    v2.plot_item.getViewBox().setRange(xRange=(100, 200), padding=0)
    tc2.set_time(10)
    qtbot.waitUntil(lambda: v2.point_count(p2) == 5, timeout=1000)
    assert v2.plot_item.getViewBox().viewRange()[0][0] >= 99
