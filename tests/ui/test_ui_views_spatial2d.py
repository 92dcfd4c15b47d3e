"""Spatial2DView: 2D scenes (pixel space, y down) painted offscreen and checked pixel by pixel.

Scenes are built by hand here (the scene layer that builds them from a store is separate),
with values chosen so every expected colour can be computed by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from ui_views_support import load_db, write_recording

from viewer.scene.draw import (
    EntityDraw,
    ImageLayer,
    Label,
    LineBatch,
    PointBatch,
    Scene,
    TriangleBatch,
)
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial.view2d import BACKGROUND, Spatial2DView
from viewer.ui.views.spatial.view2d_paint import LABEL_BACKGROUND, SPLAT_MIN_POINTS

BG = (BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue())
ORIGIN = EntityPath.parse("/cam")


def _scene(*draws: EntityDraw) -> Scene:
    return Scene(dims=2, origin=ORIGIN, entities={d.entity: d for d in draws})


def _image(path: str, rgba: np.ndarray, archetype: str = "Image", **kw) -> EntityDraw:
    ed = EntityDraw(EntityPath.parse(path))
    ed.images.append(ImageLayer(ed.entity, archetype, rgba, **kw))
    return ed


def _solid(h: int, w: int, rgb: tuple[int, int, int], alpha: int = 255) -> np.ndarray:
    out = np.empty((h, w, 4), np.uint8)
    out[...] = (*rgb, alpha)
    return out


def _box(path: str, x0: float, y0: float, x1: float, y1: float, rgba, radius: float,
         **kw) -> EntityDraw:
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
    ed = EntityDraw(EntityPath.parse(path))
    ed.lines.append(LineBatch(ed.entity, "Boxes2D",
                              np.stack([corners, np.roll(corners, -1, axis=0)], axis=1),
                              np.tile(np.array(rgba, np.uint8), (4, 1)), np.full(4, radius),
                              **kw))
    return ed


def _points(path: str, xy, rgba, radius: float, **kw) -> EntityDraw:
    xy = np.asarray(xy, float)
    ed = EntityDraw(EntityPath.parse(path))
    ed.points.append(PointBatch(ed.entity, "Points2D", xy,
                                np.tile(np.array(rgba, np.uint8), (len(xy), 1)),
                                np.full(len(xy), radius), **kw))
    return ed


def _view(qtbot, scene: Scene, w: int = 400, h: int = 300) -> Spatial2DView:
    view = Spatial2DView(None, [], TimeControl(), origin=ORIGIN)
    qtbot.addWidget(view)
    view.scene_source = lambda: scene
    view.resize(w, h)
    view.redraw_now()
    return view


def _grab(view: Spatial2DView) -> np.ndarray:
    """The view as painted, (h, w, 4) RGBA."""
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].reshape(
        image.height(), image.width(), 4).copy()


def _at(pixels: np.ndarray, view: Spatial2DView, x: float, y: float) -> tuple[int, int, int]:
    """Colour of the widget pixel showing image-space point (x, y)."""
    p = view.image_to_widget(x, y)
    return tuple(int(c) for c in pixels[int(p.y()), int(p.x()), :3])


def _wheel(view: Spatial2DView, pos: QPointF, notches: float) -> None:
    event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(0, 0), QPoint(0, int(120 * notches)),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)


def test_image_fills_the_view_with_its_colours(qtbot):
    rng = np.random.default_rng(3)
    rgba = np.dstack([rng.integers(0, 256, (3, 4, 3), dtype=np.uint8),
                      np.full((3, 4), 255, np.uint8)])
    view = _view(qtbot, _scene(_image("/cam/rgb", rgba)), 400, 300)
    # 4×3 pixels into 400×300: 100 widget pixels per image pixel, nothing left over.
    expected = np.repeat(np.repeat(rgba[..., :3], 100, axis=0), 100, axis=1)
    np.testing.assert_array_equal(_grab(view)[..., :3], expected)


def test_wider_view_keeps_the_aspect_ratio_and_centres_the_image(qtbot):
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(3, 4, (250, 10, 10)))), 500, 300)
    pixels = _grab(view)
    assert view.image_to_widget(0, 0) == QPointF(50, 0)
    assert view.image_to_widget(4, 3) == QPointF(450, 300)
    assert tuple(pixels[150, 25, :3]) == BG and tuple(pixels[150, 475, :3]) == BG
    assert tuple(pixels[150, 250, :3]) == (250, 10, 10)


def test_box_lines_draw_at_the_mapped_pixels_and_scale_with_zoom(qtbot):
    green = (0, 255, 0, 255)
    # No image: the view fits the box's bounds (padded by 5 % of 100 = 5 each side).
    view = _view(qtbot, _scene(_box("/cam/box", 0, 0, 100, 100, green, radius=2.0)), 330, 330)
    assert view.visible_space() == (-5.0, -5.0, 105.0, 105.0)
    assert view.camera.scale == pytest.approx(3.0)
    pixels = _grab(view)
    for x, y in ((50, 0), (100, 50), (50, 100), (0, 50), (0, 0), (100, 100)):
        assert _at(pixels, view, x, y) == (0, 255, 0), (x, y)
    # Radius 2 image pixels = 4 px wide in the image = 12 widget pixels at scale 3: a point
    # 1.5 image px inside the edge is on the line, 3 image px inside is not.
    assert _at(pixels, view, 50, 1.5) == (0, 255, 0)
    for x, y in ((50, 3), (50, 50), (50, -3.5), (103.5, 50)):
        assert _at(pixels, view, x, y) == BG, (x, y)
    # Zoom ×2 about the left edge: the line is 24 widget px wide, 3 image px inside still is not.
    view.zoom_at(view.image_to_widget(0, 50), 2.0)
    assert view.camera.scale == pytest.approx(6.0)
    pixels = _grab(view)
    assert _at(pixels, view, 1.5, 50) == (0, 255, 0)
    assert _at(pixels, view, 3, 50) == BG


def test_negative_radius_is_ui_points_at_any_zoom(qtbot):
    red = (255, 0, 0, 255)
    view = _view(qtbot, _scene(_box("/cam/box", 0, 0, 100, 100, red, radius=-3.0)), 330, 330)

    def stroke_width() -> int:
        pixels = _grab(view)
        col = int(view.image_to_widget(50, 0).x())
        return int((pixels[:, col, :3] == (255, 0, 0)).all(axis=1).sum()) // 2  # two edges

    assert stroke_width() == pytest.approx(6, abs=1)
    view.zoom_at(view.image_to_widget(50, 50), 0.5)
    assert stroke_width() == pytest.approx(6, abs=1)


def test_points_are_drawn_over_the_image_in_draw_order(qtbot):
    image = _image("/cam/rgb", _solid(10, 10, (200, 0, 0)))
    above = _points("/cam/above", [[2.5, 2.5]], (0, 0, 255, 255), radius=1.0)
    below = _points("/cam/below", [[7.5, 7.5]], (0, 255, 0, 255), radius=1.0, draw_order=-1.0)
    view = _view(qtbot, _scene(above, image, below), 300, 300)  # scene order is not draw order
    pixels = _grab(view)
    assert _at(pixels, view, 2.5, 2.5) == (0, 0, 255)
    assert _at(pixels, view, 3.3, 2.5) == (0, 0, 255)  # radius 1 image px: 30 widget px
    assert _at(pixels, view, 3.7, 2.5) == (200, 0, 0)
    assert _at(pixels, view, 7.5, 7.5) == (200, 0, 0)  # under the image: hidden


def test_many_points_are_splatted_as_discs(qtbot):
    n = SPLAT_MIN_POINTS + 500
    xs = np.arange(n) % 50 * 2.0 + 1.0
    ys = np.arange(n) // 50 * 2.0 + 1.0
    ed = _points("/cam/cloud", np.stack([xs, ys], axis=1), (255, 255, 0, 255), radius=-2.0)
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(120, 100, (0, 0, 90))), ed), 300, 360)
    pixels = _grab(view)
    assert _at(pixels, view, 1.0, 1.0) == (255, 255, 0)
    assert _at(pixels, view, 99.0, ys[-1]) == (255, 255, 0)
    assert _at(pixels, view, 2.0, 2.0) == (0, 0, 90)  # between four discs of 4 px at 3 px/px
    assert _at(pixels, view, 50.0, 115.0) == (0, 0, 90)  # below the last row


def test_segmentation_blends_at_its_opacity(qtbot):
    red = _solid(4, 4, (200, 0, 0))
    base = _image("/cam/rgb", red, values=red[..., :3])
    seg_rgba = _solid(4, 4, (0, 0, 0), alpha=0)
    seg_rgba[1:3, 1:3] = (0, 0, 255, 255)
    classes = np.zeros((4, 4), np.uint8)
    classes[1:3, 1:3] = 7
    seg = _image("/cam/seg", seg_rgba, "SegmentationImage", values=classes, opacity=0.5,
                 draw_order=1.0, class_labels={7: "car"})
    view = _view(qtbot, _scene(base, seg), 200, 200)
    pixels = _grab(view)
    blended = np.array(_at(pixels, view, 1.5, 1.5))
    assert np.abs(blended - (100, 0, 128)).max() <= 2
    assert _at(pixels, view, 0.5, 0.5) == (200, 0, 0)  # class 0 is transparent
    text = view.hover_at(view.image_to_widget(2.5, 1.5))
    assert text.splitlines() == ["pixel x 2  y 1", "/cam/seg: class 7 car", "/cam/rgb: RGB 200, 0, 0"]


def test_hover_reports_depth_in_metres(qtbot):
    # Logged in millimetres (meter 1000); the scene layer hands over metres.
    depth_mm = np.arange(12, dtype=np.uint16).reshape(3, 4) * 250
    grey = np.repeat((depth_mm // 12).astype(np.uint8)[..., None], 3, axis=2)
    rgba = np.dstack([grey, np.full((3, 4), 255, np.uint8)])
    metres = depth_mm.astype(np.float32) / np.float32(1000.0)
    view = _view(qtbot, _scene(_image("/cam/depth", rgba, "DepthImage", values=metres,
                                      meter=1000.0)), 400, 300)
    view.show()
    qtbot.waitExposed(view)
    target = view.image_to_widget(1.5, 2.5)  # pixel (1, 2): 9 * 250 mm
    qtbot.mouseMove(view, target.toPoint())
    qtbot.waitUntil(lambda: view.hover_text.startswith("pixel x 1  y 2"))
    assert view.hover_text.splitlines()[1] == "/cam/depth: depth 2.25 m (raw 2250)"
    assert view._hover_label.isVisible()
    assert "depth 0 m" in view.hover_at(view.image_to_widget(0.2, 0.2))


def test_hover_reports_colour_of_a_colour_image_and_space_off_images(qtbot):
    rgba = _solid(2, 2, (10, 20, 30))
    rgba[1, 0] = (40, 50, 60, 255)
    view = _view(qtbot, _scene(_image("/cam/rgb", rgba, values=rgba[..., :3])), 200, 200)
    assert view.hover_at(view.image_to_widget(0.5, 1.5)).splitlines() == [
        "pixel x 0  y 1", "/cam/rgb: RGB 40, 50, 60"]
    view.zoom_at(QPointF(100, 100), 0.5)  # now there is space around the image
    assert view.hover_at(view.image_to_widget(-0.5, 1.25)) == "x -0.5  y 1.2"


def test_zoom_keeps_the_pixel_under_the_cursor(qtbot):
    rng = np.random.default_rng(5)
    rgba = np.dstack([rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
                      np.full((30, 40), 255, np.uint8)])
    view = _view(qtbot, _scene(_image("/cam/rgb", rgba)), 400, 300)
    cursor = QPointF(123.0, 87.0)
    before = view.widget_to_image(cursor)
    colour = tuple(int(c) for c in _grab(view)[87, 123, :3])
    scale = view.camera.scale
    _wheel(view, cursor, 2.0)
    assert view.camera.scale == pytest.approx(scale * 1.44)
    after = view.widget_to_image(cursor)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()))
    assert tuple(int(c) for c in _grab(view)[87, 123, :3]) == colour
    px, py = int(before.x()), int(before.y())
    assert colour == tuple(int(c) for c in rgba[py, px, :3])
    # A neighbour 5 image pixels away is now further from the cursor than before.
    assert view.image_to_widget(before.x() + 5, before.y()).x() - 123 == pytest.approx(
        5 * scale * 1.44)


def test_drag_pans_and_double_click_fits_again(qtbot):
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(3, 4, (0, 200, 0)))), 400, 300)
    view.show()
    qtbot.waitExposed(view)
    _wheel(view, QPointF(200, 150), 1.0)
    origin = view.image_to_widget(0, 0)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(230, 140))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(230, 140))
    moved = view.image_to_widget(0, 0)
    assert (moved.x() - origin.x(), moved.y() - origin.y()) == pytest.approx((30, -10))
    assert not view.camera.auto_fit
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    assert view.camera.auto_fit
    assert view.image_to_widget(0, 0) == QPointF(0, 0)
    assert view.image_to_widget(4, 3) == QPointF(400, 300)


def test_label_is_drawn_below_its_anchor_on_a_dark_background(qtbot):
    ed = _box("/cam/box", 10, 10, 90, 50, (255, 255, 0, 255), radius=-1.0)
    ed.labels.append(Label(np.array([50.0, 50.0]), "box one", (255, 255, 0, 255)))
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(100, 100, (255, 255, 255))), ed),
                 300, 300)
    pixels = _grab(view)
    anchor = view.image_to_widget(50, 50)
    # The background starts 5 - 4 = 1 px under the anchor; its corners are rounded.
    y_in = int(anchor.y()) + 3
    row = pixels[y_in, int(anchor.x()) - 30: int(anchor.x()) + 30, :3].astype(int)
    bg = np.array([LABEL_BACKGROUND.red(), LABEL_BACKGROUND.green(), LABEL_BACKGROUND.blue()])
    a = LABEL_BACKGROUND.alphaF()
    expected = np.round(bg * a + 255 * (1 - a))  # over the white image
    assert (np.abs(row - expected).max(axis=1) <= 2).sum() >= 40
    # The text is in the label's colour, in the middle of the background.
    block = pixels[int(anchor.y()) + 5: int(anchor.y()) + 20,
                   int(anchor.x()) - 25: int(anchor.x()) + 25, :3].astype(int)
    yellowish = (block[..., 0] > 150) & (block[..., 1] > 150) & (block[..., 2] < 80)
    assert yellowish.sum() >= 10
    assert _at(pixels, view, 50, 80) == (255, 255, 255)  # far below the label: the image


def test_encoded_image_from_a_recording_is_decoded_and_hovered(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "images.rrd", tmp_path)
    png = EntityPath.parse("/camera/png")
    blob = db.latest_at(png, "EncodedImage:blob", "frame", 0).value
    data = bytes(np.asarray(blob[0].values.to_numpy(zero_copy_only=False), np.uint8))
    ed = EntityDraw(png)
    ed.images.append(ImageLayer(png, "EncodedImage", None, encoded=data, media_type="image/png"))
    view = _view(qtbot, _scene(ed), 640, 480)
    assert view.visible_space() == (0.0, 0.0, 64.0, 48.0)
    decoded = view.images[0].image
    pixels = _grab(view)
    for x, y in ((0, 0), (31, 20), (63, 47)):
        c = decoded.pixelColor(x, y)
        assert _at(pixels, view, x + 0.5, y + 0.5) == (c.red(), c.green(), c.blue())
    c = decoded.pixelColor(31, 20)
    assert view.hover_at(view.image_to_widget(31.5, 20.5)).splitlines()[1].endswith(
        f"{c.red()}, {c.green()}, {c.blue()}")
    # The same blob at the next redraw is not decoded again.
    conversions = view.image_cache.conversions
    view.redraw_now()
    assert view.image_cache.conversions == conversions


def test_undecodable_image_shows_its_error_and_the_rest_still_draws(qtbot):
    bad = EntityDraw(EntityPath.parse("/cam/bad"))
    bad.images.append(ImageLayer(bad.entity, "EncodedImage", None, encoded=b"not a png",
                                 media_type="image/png"))
    pts = _points("/cam/p", [[0, 0], [10, 10]], (255, 0, 255, 255), radius=-4.0)
    view = _view(qtbot, _scene(bad, pts), 300, 300)
    assert view.errors() and "/cam/bad" in view.errors()[0]
    pixels = _grab(view)
    assert _at(pixels, view, 10, 10) == (255, 0, 255)
    red_text = (pixels[..., 0] > 200) & (pixels[..., 1] < 160) & (pixels[..., 2] < 160)
    assert red_text[:60].sum() > 20  # the error is written at the top


def test_accepts_the_2d_archetypes_rerun_sdk_writes(qtbot, tmp_path):
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("img", rr.SegmentationImage(np.zeros((2, 2), np.uint8)))
        rec.log("boxes", rr.Boxes2D(mins=[[0, 0]], sizes=[[1, 1]]))
        rec.log("strips", rr.LineStrips2D([[[0, 0], [1, 1]]]))
        rec.log("arrows", rr.Arrows2D(origins=[[0, 0]], vectors=[[1, 1]]))
        rec.log("scalar", rr.Scalars([1.0]))
        rec.log("points3d", rr.Points3D([[0, 0, 0]]))

    db = write_recording(tmp_path / "kinds.rrd", tmp_path, log)
    accepted = {str(e) for e in db.entities() if Spatial2DView.accepts(db, e)}
    assert accepted == {"/img", "/boxes", "/strips", "/arrows"}


def test_moving_the_cursor_redraws_from_the_scene_source(qtbot):
    """The view asks its ``scene_source`` again when the time cursor moves (the source, not
    the view, knows how scenes are built): the picture follows the cursor."""
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(0)
    colours = {0: (200, 0, 0), 1: (0, 0, 200)}
    view = Spatial2DView(None, [], tc, origin=ORIGIN)
    qtbot.addWidget(view)
    view.scene_source = lambda: _scene(_image("/cam/rgb", _solid(3, 4, colours[tc.time])))
    view.resize(200, 150)
    view.redraw_now()
    assert tuple(_grab(view)[75, 100, :3]) == (200, 0, 0)
    redraws = view.redraw_count
    tc.set_time(1)
    qtbot.waitUntil(lambda: view.redraw_count > redraws)
    assert tuple(_grab(view)[75, 100, :3]) == (0, 0, 200)
    assert view.title == "/cam"


def test_triangles_fill_in_their_first_vertex_colour(qtbot):
    """2D triangles (e.g. arrow heads) are filled; here one over the image, one under it."""
    ed = EntityDraw(EntityPath.parse("/cam/arrows"))
    verts = np.array([[10.0, 10.0], [90.0, 10.0], [10.0, 90.0], [90.0, 90.0]])
    colors = np.array([[255, 128, 0, 255], [0, 0, 0, 255], [0, 0, 0, 255], [9, 9, 9, 255]],
                      np.uint8)
    ed.triangles.append(TriangleBatch(ed.entity, "Arrows2D", verts, np.array([[0, 1, 2]]),
                                      colors, draw_order=5.0))
    ed.triangles.append(TriangleBatch(ed.entity, "Arrows2D", verts, np.array([[3, 2, 1]]),
                                      colors, draw_order=-5.0))
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(100, 100, (40, 40, 40))), ed), 200, 200)
    pixels = _grab(view)
    assert _at(pixels, view, 30, 30) == (255, 128, 0)
    assert _at(pixels, view, 70, 70) == (40, 40, 40)  # drawn before the image: covered


def test_an_image_is_placed_by_its_entity_transform(qtbot):
    """An image entity with a 2D transform (scale 2, then translate (8, 4)) lands where the
    transform puts its pixel (0, 0); the view fits the union with an unplaced image."""
    base = _image("/cam/base", _solid(20, 20, (0, 0, 120)))
    small = _solid(3, 4, (250, 250, 0))
    small[2, 3] = (0, 250, 250, 255)
    placed = _image("/cam/placed", small, values=small[..., :3], draw_order=1.0)
    placed.transform = np.array([[2.0, 0, 0, 8.0], [0, 2.0, 0, 4.0], [0, 0, 1, 0], [0, 0, 0, 1]])
    view = _view(qtbot, _scene(base, placed), 400, 400)
    assert view.visible_space() == (0.0, 0.0, 20.0, 20.0)
    pixels = _grab(view)
    assert _at(pixels, view, 9.0, 5.0) == (250, 250, 0)  # its pixel (0, 0)
    assert _at(pixels, view, 15.0, 9.0) == (0, 250, 250)  # its pixel (3, 2) spans 14..16, 8..10
    assert _at(pixels, view, 7.0, 5.0) == (0, 0, 120)
    assert _at(pixels, view, 17.0, 9.0) == (0, 0, 120)
    assert view.hover_at(view.image_to_widget(15.0, 9.0)).splitlines() == [
        "pixel x 3  y 2", "/cam/placed: RGB 0, 250, 250", "/cam/base at pixel x 15  y 9: RGBA 0, 0, 120, 255"]
    placed.transform[0, 3] = 30.0  # now it sticks out on the right: the space grows
    view.redraw_now()
    assert view.visible_space() == (0.0, 0.0, 38.0, 20.0)


def test_fitted_space_grows_with_moving_data_and_double_click_forgets_it(qtbot):
    """Without an image the view fits the data's bounds; points that move keep the space
    of earlier frames (no jumping while scrubbing) until a reset."""
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(0)
    view = Spatial2DView(None, [], tc, origin=ORIGIN)
    qtbot.addWidget(view)
    where = {0: [[0.0, 0.0], [10.0, 10.0]], 1: [[100.0, 0.0], [110.0, 10.0]]}
    view.scene_source = lambda: _scene(_points("/cam/p", where[tc.time], (255, 0, 0, 255), -2.0))
    view.resize(300, 300)
    view.redraw_now()
    assert view.visible_space() == (-0.5, -0.5, 10.5, 10.5)
    tc.set_time(1)
    view.redraw_now()
    assert view.visible_space() == (-0.5, -0.5, 110.5, 10.5)
    view.reset_view()
    assert view.visible_space() == (99.5, -0.5, 110.5, 10.5)


def test_zoom_out_stops_at_five_times_the_space(qtbot):
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(30, 40, (9, 9, 9)))), 400, 300)
    fit = view.camera.scale
    for _ in range(20):
        _wheel(view, QPointF(200, 150), -1.0)
    assert view.camera.scale == pytest.approx(fit / 5)
    _wheel(view, QPointF(200, 150), 1.0)
    assert view.camera.scale == pytest.approx(fit / 5 * 1.2)


def _buffer(db, entity: EntityPath, component: str, t: int) -> np.ndarray:
    cell = db.latest_at(entity, component, "frame", t).value
    return np.asarray(cell[0].values.to_numpy(zero_copy_only=False), np.uint8)


def test_camera_fixture_image_over_its_depth(qtbot, data_dir, tmp_path):
    """camera.rrd (written by rerun-sdk): the RGB image drawn over the depth image (Rerun's
    draw orders -10 and -20), and hovering gives the logged depth, 1000 + 40 y + 10 x +
    100 f millimetres (meter 1000), in metres."""
    db = load_db(data_dir / "camera.rrd", tmp_path)
    image_e, depth_e = EntityPath.parse("/world/camera/image"), EntityPath.parse("/world/camera/depth")
    rgb = _buffer(db, image_e, "Image:buffer", 2).reshape(48, 64, 3)
    mm = _buffer(db, depth_e, "DepthImage:buffer", 2).view("<u2").reshape(48, 64)
    meter = db.latest_at(depth_e, "DepthImage:meter", "frame", 2).value.to_pylist()[0]
    image = _image(str(image_e), np.dstack([rgb, np.full((48, 64), 255, np.uint8)]),
                   values=rgb, draw_order=-10.0)
    depth = _image(str(depth_e), _solid(48, 64, (0, 0, 0)), "DepthImage",
                   values=mm.astype(np.float32) / np.float32(meter), meter=meter,
                   draw_order=-20.0)
    view = _view(qtbot, _scene(depth, image), 640, 480)
    pixels = _grab(view)
    np.testing.assert_array_equal(pixels[5::10, 5::10, :3], rgb)  # 10 widget px per pixel
    lines = view.hover_at(view.image_to_widget(20.5, 30.5)).splitlines()
    assert lines[0] == "pixel x 20  y 30"
    assert lines[1] == f"/world/camera/image: RGB {', '.join(str(int(v)) for v in rgb[30, 20])}"
    assert lines[2] == "/world/camera/depth: depth 2.6 m (raw 2600)"


def test_translucent_splatted_points_blend_with_the_image(qtbot):
    n = SPLAT_MIN_POINTS + 1
    xy = np.stack([np.arange(n) % 50 * 2.0 + 1.0, np.arange(n) // 50 * 2.0 + 1.0], axis=1)
    ed = _points("/cam/cloud", xy, (0, 0, 255, 128), radius=-2.0)
    view = _view(qtbot, _scene(_image("/cam/rgb", _solid(100, 100, (200, 0, 0))), ed), 300, 300)
    blended = np.array(_at(_grab(view), view, 1.0, 1.0))
    # 50 % blue over red: (200 * 127 / 255, 0, 128) within rounding.
    assert np.abs(blended - (100, 0, 128)).max() <= 2


def _label_glyphs(pixels: np.ndarray, rows: slice, is_color) -> tuple[float, int]:
    """(centre x, top row) of the glyph pixels ``is_color`` picks in ``rows``."""
    block = pixels[rows, :, :3].astype(int)
    ys, xs = np.nonzero(is_color(block[..., 0], block[..., 1], block[..., 2]))
    assert len(xs) >= 10
    return (xs.min() + xs.max() + 1) / 2.0, int(ys.min()) + rows.start


def test_point_and_box_labels_from_a_recording_hang_centred_below_them(qtbot, tmp_path):
    """As Rerun lays them out: a point's label centred under the point, a box's under
    the middle of its bottom edge, the text's top 5 px below the anchor."""
    from viewer.scene.build import build_scene
    from viewer.scene.transforms import TransformResolver

    def log(rr, rec):
        rec.log("img", rr.Image(np.zeros((100, 200, 3), np.uint8)), static=True)
        rec.log("pt", rr.Points2D([[40, 30]], labels=["pt"], colors=[(255, 255, 0)]),
                static=True)
        rec.log("box", rr.Boxes2D(mins=[[100, 20]], sizes=[[60, 40]], labels=["box"],
                                  colors=[(0, 255, 255)]), static=True)

    db = write_recording(tmp_path / "labels.rrd", tmp_path, log)
    scene = build_scene(db, EntityPath.root(), db.entities(), 2, None, None,
                        TransformResolver(db))
    view = Spatial2DView(None, [], TimeControl(), origin=EntityPath.root())
    qtbot.addWidget(view)
    view.scene_source = lambda: scene
    view.resize(400, 200)  # 2 widget px per image pixel
    view.redraw_now()
    pixels = _grab(view)
    pt = view.image_to_widget(40, 30)
    rows = slice(int(pt.y()) + 3, int(pt.y()) + 30)  # below the point's disc
    x, top = _label_glyphs(pixels, rows, lambda r, g, b: (r > 150) & (g > 150) & (b < 100))
    assert abs(x - pt.x()) <= 3 and pt.y() + 5 <= top <= pt.y() + 10
    bottom = view.image_to_widget(130, 60)  # the middle of the box's bottom edge
    rows = slice(int(bottom.y()) + 3, int(bottom.y()) + 30)  # below the box's edge
    x, top = _label_glyphs(pixels, rows, lambda r, g, b: (r < 100) & (g > 150) & (b > 150))
    assert abs(x - bottom.x()) <= 3 and bottom.y() + 5 <= top <= bottom.y() + 10


def test_a_box_label_wraps_to_the_box_width_but_never_below_60_px(qtbot):
    yellow = (255, 255, 0, 255)
    sizes = {}
    for wrap in (0.0, 10.0):  # 10 image px = 20 widget px: wrapped at 60 px
        ed = EntityDraw(EntityPath.parse("/cam/box"))
        ed.labels.append(Label(np.array([100.0, 20.0]), "one two three four", yellow, wrap))
        view = _view(qtbot, _scene(_image("/cam/img", _solid(100, 200, (0, 0, 0))), ed),
                     400, 200)
        block = _grab(view)[:, :, :3].astype(int)
        ys, xs = np.nonzero((block[..., 0] > 150) & (block[..., 1] > 150) & (block[..., 2] < 100))
        sizes[wrap] = (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    (w0, h0), (w1, h1) = sizes[0.0], sizes[10.0]
    assert w0 > 80 and w1 <= 60 and h1 >= 2 * h0  # one long line; several short ones
