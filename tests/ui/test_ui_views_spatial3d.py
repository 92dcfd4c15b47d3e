"""Spatial3DView offscreen: it paints its scene (grab), picks and focuses on double-click,
orbits, pans and zooms, follows the scene's up axis, draws labels, previews while dragging
and repaints in full after."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from viewer.scene.draw import EntityDraw, Label, PointBatch, Scene, TriangleBatch
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial import view3d
from viewer.ui.views.spatial.raster3d import BACKGROUND
from viewer.ui.views.spatial.view3d import Spatial3DView

RED = (255, 0, 0, 255)
GREEN = (0, 255, 0, 255)
_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
_FACES = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]


def _box(name: str, center, half, color) -> EntityDraw:
    ed = EntityDraw(EntityPath.parse(name))
    verts = np.asarray(center, float) + _CORNERS * half
    tris = [(a, b, c) for a, b, c, d in _FACES] + [(a, c, d) for a, b, c, d in _FACES]
    ed.triangles.append(TriangleBatch(ed.entity, "Boxes3D", verts, np.array(tris),
                                      np.tile(np.array(color, np.uint8), (8, 1))))
    return ed


def _scene(*draws: EntityDraw, up: str = "+Z") -> Scene:
    return Scene(dims=3, origin=EntityPath.root(), entities={d.entity: d for d in draws}, up=up)


def _two_boxes() -> Scene:
    return _scene(_box("/left", [0.0, -3.0, 0.0], 0.5, RED), _box("/right", [0.0, 3.0, 0.0],
                                                                  0.5, GREEN))


def _view(qtbot, scene: Scene) -> Spatial3DView:
    view = Spatial3DView(EntityDb.__new__(EntityDb), [], TimeControl())
    view.scene_source = lambda: scene
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    return view


def _look_from_plus_x(view: Spatial3DView) -> None:
    """Eye on +X at the origin's height: screen x follows +Y, up is +Z."""
    cam = view.camera
    cam.yaw, cam.pitch, cam.target = 0.0, 0.0, np.zeros(3)
    view.update()


def _widget_pos(view: Spatial3DView, p) -> QPoint:
    xy = view.camera.project(np.array([p], float), view.width(), view.height()).xy[0]
    return QPoint(int(xy[0]), int(xy[1]))


def _color_at(image, pos: QPoint) -> tuple[int, int, int]:
    c = image.pixelColor(pos)
    return c.red(), c.green(), c.blue()


def test_view_renders_its_scene_offscreen(qtbot):
    view = _view(qtbot, _two_boxes())
    _look_from_plus_x(view)
    image = view.grab().toImage()
    left, right = _widget_pos(view, [0.5, -3.0, 0.0]), _widget_pos(view, [0.5, 3.0, 0.0])
    assert left.x() < view.width() // 2 < right.x()
    r, g, b = _color_at(image, left)
    assert r > 200 and g < 40 and b < 40
    r, g, b = _color_at(image, right)
    assert g > 200 and r < 40 and b < 40
    bg = ((BACKGROUND >> 16) & 255, (BACKGROUND >> 8) & 255, BACKGROUND & 255)
    assert _color_at(image, QPoint(view.width() // 2, 5)) == bg
    assert view.accepts.__func__ is Spatial3DView.accepts.__func__


def test_view_fits_the_scene_until_the_user_moves(qtbot):
    view = _view(qtbot, _two_boxes())
    assert view.auto_fit
    np.testing.assert_allclose(view.camera.target, [0.0, 0.0, 0.0], atol=1e-9)
    lo, hi = np.array([-0.5, -3.5, -0.5]), np.array([0.5, 3.5, 0.5])
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])
    xy = view.camera.project(corners, view.width(), view.height()).xy
    # every corner inside the view, and the tightest one near an edge (a snug fit)
    inside = np.minimum(np.minimum(xy[:, 0], view.width() - xy[:, 0]) / view.width(),
                        np.minimum(xy[:, 1], view.height() - xy[:, 1]) / view.height())
    assert inside.min() > 0.0 and inside.min() < 0.1
    yaw, distance = view.camera.yaw, view.camera.distance
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(150, 110))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(150, 110))
    assert view.camera.yaw != yaw and not view.auto_fit
    event = QWheelEvent(QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)
    assert view.camera.distance < distance
    target = view.camera.target.copy()
    qtbot.mousePress(view, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(130, 100))
    qtbot.mouseRelease(view, Qt.MouseButton.MiddleButton, pos=QPoint(130, 100))
    assert not np.allclose(view.camera.target, target)
    # A bigger scene no longer moves the camera; reset follows it again.
    bigger = _scene(_box("/left", [0.0, -30.0, 0.0], 0.5, RED))
    view.scene_source = lambda: bigger
    view.redraw_now()
    assert view.camera.distance < distance
    qtbot.keyClick(view, Qt.Key.Key_R)  # fits what is shown now
    assert view.auto_fit
    np.testing.assert_allclose(view.camera.target, [0.0, -30.0, 0.0], atol=1e-9)


def test_double_click_focuses_the_entity_under_the_cursor(qtbot):
    view = _view(qtbot, _two_boxes())
    _look_from_plus_x(view)
    focused = []
    view.focused.connect(focused.append)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=_widget_pos(view, [0.5, 3.0, 0.0]))
    assert focused == [EntityPath.parse("/right")]
    np.testing.assert_allclose(view.camera.target, [0.0, 3.0, 0.0], atol=1e-9)
    assert not view.auto_fit
    # The focused box now fills the middle of the view.
    image = view.grab().toImage()
    r, g, b = _color_at(image, QPoint(view.width() // 2, view.height() // 2))
    assert g > 150 and r < 40
    # Empty space: back to the whole scene.
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert focused[-1] is None and view.auto_fit
    np.testing.assert_allclose(view.camera.target, [0.0, 0.0, 0.0], atol=1e-9)


def test_up_axis_follows_the_scene(qtbot):
    """With +Y up, a point at +Y is drawn above the centre of the screen."""
    ed = EntityDraw(EntityPath.parse("/p"))
    ed.points.append(PointBatch(ed.entity, "Points3D", np.array([[0.0, 0.0, 0.0],
                                                                 [0.0, 2.0, 0.0]]),
                                np.array([RED, GREEN], np.uint8), np.array([-4.0, -4.0])))
    view = _view(qtbot, _scene(ed, up="+Y"))
    np.testing.assert_array_equal(view.camera.up, [0.0, 1.0, 0.0])
    image = view.grab().toImage()
    low, high = _widget_pos(view, [0.0, 0.0, 0.0]), _widget_pos(view, [0.0, 2.0, 0.0])
    assert high.y() < low.y() - 20
    assert _color_at(image, high) == (0, 255, 0) and _color_at(image, low) == (255, 0, 0)


def test_labels_hang_centred_under_their_anchor_nearest_on_top_and_capped(qtbot, monkeypatch):
    ed = EntityDraw(EntityPath.parse("/pts"))
    ed.points.append(PointBatch(ed.entity, "Points3D", np.array([[0.0, -1, 0], [0.0, 1, 0]]),
                                np.array([RED, RED], np.uint8), np.array([-2.0, -2.0])))
    ed.labels = [Label(np.zeros(3), "L2", (255, 255, 255, 255))]
    view = _view(qtbot, _scene(ed))
    _look_from_plus_x(view)
    ((x, y, text, _),) = view.visible_labels()
    anchor = _widget_pos(view, [0.0, 0.0, 0.0])
    assert abs(x - anchor.x()) <= 1 and abs(y - anchor.y()) <= 1 and text == "L2"
    image = view.grab().toImage()

    def lightness(x0: float, x1: float, y0: float, y1: float) -> list[int]:
        return [image.pixelColor(int(x) + dx, int(y) + dy).lightness()
                for dx in range(int(x0), int(x1)) for dy in range(int(y0), int(y1))]

    # The text: white glyphs centred under the anchor, its top 5 px below it.
    assert max(lightness(-8, 8, 6, 20)) > 200
    # Nothing bright beside the anchor (where labels used to go) or above it.
    assert max(lightness(9, 40, -8, 4)) < 150
    assert max(lightness(-20, 20, -20, -3)) < 150
    # Rerun's half-transparent grey box starts 5 - 4 = 1 px below the anchor.
    box = image.pixelColor(int(x), int(y) + 2)
    bg = ((BACKGROUND >> 16) & 255, (BACKGROUND >> 8) & 255, BACKGROUND & 255)
    expected = [0.5 * c + 0.5 * b for c, b in zip((0x2C, 0x2B, 0x2B), bg, strict=True)]
    assert np.abs(np.array([box.red(), box.green(), box.blue()]) - expected).max() <= 2

    # Farthest first (the nearest is painted on top); at most MAX_LABELS of them.
    ed.labels = [Label(np.array([x_, y_, 0.0]), f"L{i}", (255, 255, 255, 255))
                 for i, (x_, y_) in enumerate([(-0.5, -1), (0.5, -0.5), (0.0, 0), (-0.2, 0.5),
                                               (0.3, 1)])]
    view = _view(qtbot, _scene(ed))
    _look_from_plus_x(view)
    assert [t for _, _, t, _ in view.visible_labels()] == ["L0", "L3", "L2", "L4", "L1"]
    monkeypatch.setattr(view3d, "MAX_LABELS", 3)
    assert [t for _, _, t, _ in view.visible_labels()] == ["L0", "L2", "L1"]


def test_drag_previews_then_repaints_in_full(qtbot, monkeypatch):
    n = 20_000
    rng = np.random.default_rng(0)
    ed = EntityDraw(EntityPath.parse("/cloud"))
    ed.points.append(PointBatch(ed.entity, "Points3D", rng.normal(size=(n, 3)),
                                np.tile(np.array(RED, np.uint8), (n, 1)), np.full(n, -2.5)))
    view = _view(qtbot, _scene(ed))
    view.grab()
    assert not view.last_paint_preview
    monkeypatch.setattr(view3d, "PREVIEW_ABOVE_S", 0.0)  # any scene counts as heavy
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(140, 100))
    view.grab()
    assert view.last_paint_preview
    preview = view.frame(preview=True)
    assert (preview.width, preview.height) == (160, 120)
    # The mouse rests (still pressed): the full frame comes back after the settle delay.
    qtbot.waitUntil(lambda: not view.wants_preview(), timeout=2000)
    view.grab()
    assert not view.last_paint_preview
    qtbot.mouseMove(view, QPoint(150, 100))
    assert view.wants_preview()
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(150, 100))
    assert not view.wants_preview()  # released: full at once
    view.grab()
    assert not view.last_paint_preview


def test_real_recording_through_build_scene(qtbot, tmp_path):
    """rerun-sdk writes a solid box, a transform chain and a point at its end; the scene
    layer builds the draw list; the view puts each where the transforms say."""
    from ui_views_support import write_recording

    from viewer.scene.build import build_scene
    from viewer.scene.transforms import TransformResolver

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("world/box", rr.Boxes3D(centers=[[0, -2, 0]], half_sizes=[[0.5, 0.5, 0.5]],
                                        colors=[255, 0, 0], fill_mode="solid"))
        rec.log("world/a", rr.Transform3D(translation=[0, 1, 0]))
        rec.log("world/a/b", rr.Transform3D(translation=[0, 1, 0.5]))
        rec.log("world/a/b/p", rr.Points3D([[0, 0, 0]], colors=[0, 255, 0], radii=-6.0))

    db = write_recording(tmp_path / "real3d.rrd", tmp_path, log)
    entities = [EntityPath.parse(p) for p in ("/world/box", "/world/a", "/world/a/b",
                                              "/world/a/b/p")]
    assert all(Spatial3DView.accepts(db, e) for e in entities)
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(0)
    view = Spatial3DView(db, entities, tc, origin=EntityPath.root())
    resolver = TransformResolver(db)
    view.scene_source = lambda: build_scene(db, view.origin, view.entities, 3, tc.timeline,
                                            tc.time, resolver)
    qtbot.addWidget(view)
    view.resize(320, 240)
    view.show()
    qtbot.waitExposed(view)
    view.redraw_now()
    _look_from_plus_x(view)
    image = view.grab().toImage()
    r, g, b = _color_at(image, _widget_pos(view, [0.5, -2.0, 0.0]))
    assert r > 200 and g < 40 and b < 40
    # The point sits at the composed translation (0, 2, 0.5), not at its own origin.
    assert _color_at(image, _widget_pos(view, [0.0, 2.0, 0.5]))[1] > 200
    assert view.entity_at(QPointF(_widget_pos(view, [0.0, 2.0, 0.5]))) == entities[3]


def test_focusing_one_point_of_a_big_scene_frames_it(qtbot):
    ed = EntityDraw(EntityPath.parse("/far"))
    ed.points.append(PointBatch(ed.entity, "Points3D", np.array([[0.0, 0.0, 0.0],
                                                                 [1000.0, 0.0, 0.0]]),
                                np.array([RED, RED], np.uint8), np.array([-3.0, -3.0])))
    dot = EntityDraw(EntityPath.parse("/dot"))
    dot.points.append(PointBatch(dot.entity, "Points3D", np.array([[500.0, 20.0, 0.0]]),
                                 np.array([GREEN], np.uint8), np.array([-3.0])))
    view = _view(qtbot, _scene(ed, dot))
    assert view.focus_entity(dot.entity)
    np.testing.assert_allclose(view.camera.target, [500.0, 20.0, 0.0])
    assert 10 < view.camera.distance < 200  # framed: 5 % of the scene's radius, not 1e-3
    image = view.grab().toImage()
    r, g, b = _color_at(image, QPoint(view.width() // 2, view.height() // 2))
    assert (r, g, b) == (0, 255, 0)


def test_unchanged_draws_are_not_prepared_again(qtbot):
    """The scene layer hands back the same draw object for an unchanged entity: a redraw
    with the same draws keeps the prepared arrays (and the picture); a changed one does not."""
    left, right = _box("/left", [0.0, -3.0, 0.0], 0.5, RED), _box("/right", [0, 3, 0], 0.5, GREEN)
    view = _view(qtbot, _scene(left, right))
    prepared = view.prepared
    view.scene_source = lambda: _scene(left, right)  # a new Scene of the same draws
    view.redraw_now()
    assert view.prepared is prepared
    moved = _box("/right", [0.0, 5.0, 0.0], 0.5, GREEN)
    view.scene_source = lambda: _scene(left, moved)
    view.redraw_now()
    assert view.prepared is not prepared
    assert view.prepared.bounds[1][1] == 5.5


def test_a_tall_view_fits_the_whole_scene_across(qtbot):
    """The fit backs off for the narrower horizontal field of a tall view (and again when
    the view is resized), so nothing of the scene is cut at the sides."""
    scene = _scene(_box("/a", [0.0, -4.0, 0.0], 0.5, RED), _box("/b", [0.0, 4.0, 0.0], 0.5, GREEN),
                   _box("/c", [-4.0, 0.0, 0.0], 0.5, RED), _box("/d", [4.0, 0.0, 0.0], 0.5, GREEN))
    view = _view(qtbot, scene)
    for size in ((160, 480), (480, 160)):
        view.resize(*size)
        qtbot.waitUntil(lambda size=size: (view.width(), view.height()) == size, timeout=3000)
        image = view.grab().toImage()
        bg = ((BACKGROUND >> 16) & 255, (BACKGROUND >> 8) & 255, BACKGROUND & 255)
        w, h = image.width(), image.height()
        edges = [QPoint(x, y) for x in (0, w - 1) for y in range(0, h, 4)] + \
                [QPoint(x, y) for y in (0, h - 1) for x in range(0, w, 4)]
        assert all(_color_at(image, p) == bg for p in edges), size  # nothing touches an edge
        drawn = [QPoint(x, y) for x in range(0, w, 4) for y in range(0, h, 4)
                 if _color_at(image, QPoint(x, y)) != bg]
        assert drawn  # and the scene is there
