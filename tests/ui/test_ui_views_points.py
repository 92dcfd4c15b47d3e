"""Points logged with rerun-sdk in the window's 3D and 2D views: counts following the
cursor, logged colours and radii drawn, large clouds splatted, the camera (orbit, zoom,
fitting the bounds seen so far) and unchanged rows reused.

Views are made as the window makes them (``registry.create_view``: scene from
``build_scene`` at the cursor) and checked against what rerun-sdk's own reader returns and
against the rendered pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from ui_views_support import load_db, write_recording

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.registry import PlannedView, create_view, heuristic_plan
from viewer.ui.views.spatial import view2d_paint
from viewer.ui.views.spatial.raster3d import BACKGROUND as BACKGROUND_3D
from viewer.ui.views.spatial.view2d import BACKGROUND, Spatial2DView
from viewer.ui.views.spatial.view3d import Spatial3DView

BG_2D = (BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue())
BG_3D = ((BACKGROUND_3D >> 16) & 255, (BACKGROUND_3D >> 8) & 255, BACKGROUND_3D & 255)


def _logged(path, entity: str, component: str) -> dict[int, list]:
    """frame -> the logged positions, straight from rerun-sdk's reader."""
    from rerun.chunk import RrdReader

    reader = RrdReader(str(path))
    cells = {}
    for chunk in reader.stream(store=reader.recordings()[0]).to_chunks():
        if chunk.entity_path != entity or chunk.is_static:
            continue
        batch = chunk.to_record_batch()
        frames = batch.column("frame").to_pylist()
        for f, cell in zip(frames, batch.column(component).to_pylist(), strict=True):
            if cell is not None:
                cells[f] = cell
    return cells


def _show(qtbot, view, tc: TimeControl, size: tuple[int, int]):
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    return view, tc


def _view(qtbot, cls, db: EntityDb, entities: list[EntityPath], t: int,
          size: tuple[int, int] = (400, 300)):
    """A view of ``entities`` at time ``t`` made like the window makes it."""
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    planned = PlannedView((cls.__name__, "test"), cls, list(entities), "test")
    return _show(qtbot, create_view(planned, db, tc), tc, size)


def _planned_view(qtbot, db: EntityDb, cls, t: int, size: tuple[int, int] = (400, 300)):
    """The window's default view of kind ``cls`` for ``db`` (scene-layer heuristics)."""
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    (planned,) = [v for v in heuristic_plan(db).views if v.cls is cls]
    return _show(qtbot, create_view(planned, db, tc), tc, size)


def point_count(view, entity: EntityPath) -> int:
    ed = view.scene.entities.get(entity)
    return 0 if ed is None else sum(len(b.positions) for b in ed.points)


def _batch(view, entity: EntityPath):
    (batch,) = view.scene.entities[entity].points
    return batch


def _rgb(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    c = image.pixelColor(int(x), int(y))
    return c.red(), c.green(), c.blue()


def test_3d_points_count_follows_cursor(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "points.rrd", tmp_path)
    cloud = EntityPath.parse("/world/cloud")
    logged = _logged(data_dir / "points.rrd", "/world/cloud", "Points3D:positions")
    frames = sorted(logged)
    view, tc = _planned_view(qtbot, db, Spatial3DView, frames[0])
    assert cloud in view.entities
    assert point_count(view, cloud) == len(logged[frames[0]])
    assert view.prepared.n_points == sum(point_count(view, e) for e in view.scene.entities)
    # Frames 1..3, then after the last logged frame (latest-at keeps the last cloud).
    for t, f in [(f, f) for f in frames[1:4]] + [(frames[-1] + 100, frames[-1])]:
        redraws = view.redraw_count
        tc.set_time(t)
        qtbot.waitUntil(lambda r=redraws: view.redraw_count > r, timeout=1000)
        assert point_count(view, cloud) == len(logged[f])
        np.testing.assert_allclose(_batch(view, cloud).positions, logged[f], rtol=1e-6)


def test_2d_points_count_and_positions(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "points.rrd", tmp_path)
    kp = EntityPath.parse("/image/keypoints")
    logged = _logged(data_dir / "points.rrd", "/image/keypoints", "Points2D:positions")
    f = sorted(logged)[len(logged) // 2]
    view, _ = _planned_view(qtbot, db, Spatial2DView, f)
    assert point_count(view, kp) == len(logged[f])
    np.testing.assert_allclose(_batch(view, kp).positions, logged[f], rtol=1e-6)


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


def test_3d_points_draws_logged_colours_and_ui_radii(qtbot, known_points):
    p = EntityPath.parse("/world/p")
    view, tc = _view(qtbot, Spatial3DView, known_points, [p], 5)
    assert point_count(view, p) == 3
    np.testing.assert_array_equal(_batch(view, p).colors[:, :3], [[255, 0, 0]] * 3)
    tc.set_time(10)
    qtbot.waitUntil(lambda: point_count(view, p) == 5, timeout=1000)
    batch = _batch(view, p)
    np.testing.assert_allclose(batch.radii, -8.0)  # 8 UI points at any distance
    image = view.grab().toImage()
    proj = view.camera.project(batch.positions, view.width(), view.height())
    for i, (x, y) in enumerate(proj.xy):
        # The nearest point whose disc (8 px radius) covers the centre shows there.
        d = np.hypot(*(proj.xy - (x, y)).T)
        covering = np.flatnonzero(d <= 7.5)
        top = covering[np.argmin(proj.depth[covering])]
        assert _rgb(image, x, y) == tuple(int(c) for c in batch.colors[top][:3]), i
    # The blue point (1, 1, 1): its disc is 17 pixels wide (2 * 8 + 1); no other disc
    # reaches 10 pixels from its centre.
    x, y = proj.xy[4]
    others = np.delete(proj.xy, 4, axis=0)
    assert np.hypot(*(others - (x, y)).T).min() > 20
    assert _rgb(image, x + 7, y) == (0, 0, 255) and _rgb(image, x, y - 7) == (0, 0, 255)
    assert _rgb(image, x + 10, y) == BG_3D and _rgb(image, x, y + 10) == BG_3D


def test_3d_points_orbit_and_zoom(qtbot, known_points):
    view, _ = _view(qtbot, Spatial3DView, known_points, [EntityPath.parse("/world/p")], 10)
    positions = _batch(view, EntityPath.parse("/world/p")).positions
    before_xy = view.camera.project(positions, view.width(), view.height()).xy
    before_pixels = view.grab().toImage()
    yaw, distance = view.camera.yaw, view.camera.distance
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(160, 110))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(160, 110))
    assert view.camera.yaw != yaw
    assert not view.auto_fit
    after_xy = view.camera.project(positions, view.width(), view.height()).xy
    assert not np.allclose(np.sort(before_xy, axis=0), np.sort(after_xy, axis=0))
    assert view.grab().toImage() != before_pixels  # the rendered picture moved too
    event = QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)
    assert view.camera.distance == pytest.approx(distance * 0.85 ** 2)
    view.reset_view()
    assert view.auto_fit and view.camera.distance == pytest.approx(distance)


def test_2d_points_colours_and_scene_radii(qtbot, known_points):
    p = EntityPath.parse("/flat/p")
    view, tc = _view(qtbot, Spatial2DView, known_points, [p], 0, size=(300, 300))
    assert point_count(view, p) == 3
    tc.set_time(10)
    qtbot.waitUntil(lambda: point_count(view, p) == 5, timeout=1000)
    np.testing.assert_allclose(_batch(view, p).radii, 0.5)  # positive: scene units

    def colour(x: float, y: float) -> tuple[int, int, int]:
        pos = view.image_to_widget(x, y)
        return _rgb(view.grab().toImage(), pos.x(), pos.y())

    # Radius 0.5 image pixels whatever the zoom: 0.35 from the centre is inside the disc,
    # 0.7 is outside (the neighbour at (7, 7) is 2.8 away).
    for zoom in (1.0, 3.0):
        view.zoom_at(view.image_to_widget(5, 5), zoom)
        assert colour(5, 5) == (0, 255, 0)
        assert colour(5.35, 5) == (0, 255, 0) and colour(5, 4.65) == (0, 255, 0)
        assert colour(5.7, 5) == BG_2D and colour(5, 5.7) == BG_2D


def test_points_view_skips_work_when_row_unchanged(qtbot, known_points):
    """The scene build reuses an entity's draw while its rows are the same."""
    p = EntityPath.parse("/flat/p")
    view, tc = _view(qtbot, Spatial2DView, known_points, [p], 10)
    drawn = view.scene.entities[p]
    tc.set_time(11)  # same latest-at row as frame 10
    view.redraw_now()
    assert view.scene.entities[p] is drawn
    tc.set_time(3)
    view.redraw_now()
    assert view.scene.entities[p] is not drawn and point_count(view, p) == 3


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


def test_2d_points_large_cloud_is_splatted_with_colours(qtbot, tmp_path, monkeypatch):
    n = 3000
    assert n > view2d_paint.SPLAT_MIN_POINTS
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, size=(n, 2)).astype(np.float32)
    colors = rng.integers(0, 256, size=(n, 3)).astype(np.uint8)

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("big", rr.Points2D(xy, colors=colors, radii=-3.0))

    db = write_recording(tmp_path / "big2d.rrd", tmp_path, log)
    big = EntityPath.parse("/big")
    splatted = []
    original = view2d_paint._splat_points
    monkeypatch.setattr(view2d_paint, "_splat_points",
                        lambda painter, pts, *a: (splatted.append(len(pts)),
                                                  original(painter, pts, *a)))
    view, _ = _view(qtbot, Spatial2DView, db, [big], 0)
    assert point_count(view, big) == n
    image = view.grab().toImage()
    assert splatted and splatted[-1] == n
    # The last point drawn is on top of any overlap: its centre pixel has its colour.
    pos = view.image_to_widget(float(xy[-1, 0]), float(xy[-1, 1]))
    assert _rgb(image, pos.x(), pos.y()) == tuple(int(v) for v in colors[-1])


def test_views_fit_the_bounds_seen_so_far(qtbot, known_points):
    """Scrubbing back to a smaller cloud keeps the framing; user zoom stops the following."""
    p3, p2 = EntityPath.parse("/world/p"), EntityPath.parse("/flat/p")
    v3, tc3 = _view(qtbot, Spatial3DView, known_points, [p3], 10)
    distance = v3.camera.distance
    tc3.set_time(0)  # 3 points inside the 5-point cloud's box
    qtbot.waitUntil(lambda: point_count(v3, p3) == 3, timeout=1000)
    assert v3.camera.distance == distance
    v3.reset_view()  # R / double-click on empty space: fit what is shown now
    assert v3.camera.distance < distance

    v2, tc2 = _view(qtbot, Spatial2DView, known_points, [p2], 0)
    x0, y0, x1, y1 = v2.visible_space()
    assert x0 <= 0 and y0 <= 0 and x1 >= 10 and y1 >= 10
    v2.zoom_at(QPointF(100, 100), 2.0)  # the user zooms: the view stops following
    camera = (v2.camera.scale, v2.camera.offset_x, v2.camera.offset_y)
    tc2.set_time(10)
    qtbot.waitUntil(lambda: point_count(v2, p2) == 5, timeout=1000)
    assert (v2.camera.scale, v2.camera.offset_x, v2.camera.offset_y) == camera
