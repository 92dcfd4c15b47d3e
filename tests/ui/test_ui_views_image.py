"""Images logged with rerun-sdk (raw and encoded) shown by the window's 2D view.

Each view is made as the window makes it (``registry.create_view``: the scene layer decodes
raw buffers, the view turns encoded blobs into QImages and paints), then checked against
the logged arrays: the decoded pixels, the painted widget, the hover report.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage
from ui_views_support import load_db, write_recording

from viewer.scene import colors
from viewer.scene import images as scene_images
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.registry import PlannedView, create_view
from viewer.ui.views.selection import PIXEL_FORMAT_NAMES, format_value
from viewer.ui.views.spatial.image_decode import ImageDecodeError, encoded_to_qimage
from viewer.ui.views.spatial.view2d import BACKGROUND, Spatial2DView

BG = np.array([BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue()])


def _rgb_pattern(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _encode(pixels: np.ndarray, fmt: str) -> bytes:
    h, w, _ = pixels.shape
    image = QImage(np.ascontiguousarray(pixels).data, w, h, 3 * w, QImage.Format.Format_RGB888)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, fmt, 100)
    return bytes(data.data())


@pytest.fixture
def images_db(tmp_path, qapp):
    rgb = _rgb_pattern(12, 16, 1)
    grey16 = (np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300)
    depth = np.linspace(0.5, 4.0, 12 * 16, dtype=np.float32).reshape(12, 16)
    rgba = np.dstack([rgb, np.full((12, 16), 200, np.uint8)])
    png = _encode(rgb, "PNG")

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("cam/rgb", rr.Image(rgb))
        rec.log("cam/bgr", rr.Image(rgb[..., ::-1].copy(), color_model="BGR"))
        rec.log("cam/rgba", rr.Image(rgba))
        rec.log("cam/grey16", rr.Image(grey16))
        rec.log("cam/depth", rr.DepthImage(depth))
        rec.log("cam/png", rr.EncodedImage(contents=png, media_type="image/png"))
        rec.log("cam/bad", rr.Image.from_fields(
            buffer=np.zeros(10, np.uint8).tobytes(),
            format=rr.components.ImageFormat(width=10, height=10, color_model="RGB",
                                             channel_datatype="U8")))
        rec.set_time("frame", sequence=5)
        rec.log("cam/rgb", rr.Image(_rgb_pattern(12, 16, 2)))

    db = write_recording(tmp_path / "img.rrd", tmp_path, log)
    return db, {"rgb": rgb, "grey16": grey16, "depth": depth, "rgba": rgba}


def _view(qtbot, db, entity: str, t: int, size: tuple[int, int] = (320, 240)):
    """A 2D view of one entity at time ``t``, made like the window makes it."""
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    e = EntityPath.parse(entity)
    planned = PlannedView(("Spatial2DView", entity), Spatial2DView, [e], entity)
    view = create_view(planned, db, tc)
    qtbot.addWidget(view)
    view.resize(*size)
    view.redraw_now()
    return view, tc


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes())
    return arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].reshape(
        image.height(), image.width(), 4).copy()  # `image` owns the memory: copy


def _grab(view: Spatial2DView) -> np.ndarray:
    return _pixels(view.grab().toImage())


def _painted(view: Spatial2DView, grabbed: np.ndarray, px: int, py: int) -> np.ndarray:
    """The widget pixel at the centre of image pixel (px, py)."""
    p = view.image_to_widget(px + 0.5, py + 0.5)
    return grabbed[int(p.y()), int(p.x()), :3].astype(int)


@pytest.mark.parametrize("entity", ["/cam/rgb", "/cam/bgr", "/cam/png"])
def test_colour_images_show_logged_pixels(qtbot, images_db, entity):
    db, arrays = images_db
    view, _ = _view(qtbot, db, entity, 0)
    assert view.errors() == []
    (drawn,) = view.images
    np.testing.assert_array_equal(_pixels(drawn.image)[..., :3], arrays["rgb"])
    # 16x12 into 320x240: 20 widget pixels per image pixel, every one painted as logged.
    painted = _grab(view)[10::20, 10::20, :3]
    np.testing.assert_array_equal(painted, arrays["rgb"])


def test_rgba_keeps_alpha_and_blends_over_the_background(qtbot, images_db):
    db, arrays = images_db
    view, _ = _view(qtbot, db, "/cam/rgba", 0)
    np.testing.assert_array_equal(_pixels(view.images[0].image), arrays["rgba"])
    grabbed = _grab(view)
    for px, py in ((0, 0), (9, 4), (15, 11)):
        expected = np.round(arrays["rgb"][py, px].astype(float) * 200 / 255 + BG * 55 / 255)
        assert np.abs(_painted(view, grabbed, px, py) - expected).max() <= 1


def test_grey_u16_is_shown_over_its_data_range(qtbot, images_db):
    """Rerun's range for an image whose values do not fit 0..255: the finite min..max."""
    db, arrays = images_db
    view, _ = _view(qtbot, db, "/cam/grey16", 0)
    grey = view.images[0].layer.rgba[..., 0].astype(int)
    src = arrays["grey16"].astype(np.float64)
    expected = np.round((src - src.min()) / (src.max() - src.min()) * 255)
    assert np.abs(grey - expected).max() <= 1


def test_grey_u16_is_grey_and_hover_reports_the_logged_value(qtbot, images_db):
    db, arrays = images_db
    view, _ = _view(qtbot, db, "/cam/grey16", 0)
    rgba = view.images[0].layer.rgba
    assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all()
    assert (rgba[..., 3] == 255).all()
    assert (np.diff(rgba[..., 0].astype(int).ravel()) >= 0).all()  # brighter with the value
    assert rgba[0, 0, 0] == 0
    text = view.hover_at(view.image_to_widget(7.5, 3.5))
    assert text.splitlines() == ["pixel x 7  y 3", f"/cam/grey16: L {3 * 16 * 300 + 7 * 300}"]


def test_depth_is_colormapped_from_zero_to_its_farthest_and_hovered_in_metres(
        qtbot, images_db):
    """A float depth image (metres, meter 1): Rerun's default turbo colormap over 0..max."""
    db, arrays = images_db
    view, _ = _view(qtbot, db, "/cam/depth", 0)
    rgba = view.images[0].layer.rgba
    depth = arrays["depth"]
    turbo = colors.colormap(5, np.array([depth[0, 0] / depth.max(), 1.0], np.float32))
    np.testing.assert_array_equal(rgba[0, 0], turbo[0])  # 0.5 m of 4 m: 1/8 of the map
    np.testing.assert_array_equal(rgba[-1, -1], turbo[1])  # the farthest: the map's end
    text = view.hover_at(view.image_to_widget(15.5, 11.5))
    assert text.splitlines()[1] == "/cam/depth: depth 4 m"


def test_widget_pixel_hover_and_cursor(qtbot, images_db):
    db, arrays = images_db
    view, tc = _view(qtbot, db, "/cam/rgb", 0, (360, 300))
    view.show()
    qtbot.waitExposed(view)
    top_left, bottom_right = view.image_to_widget(0, 0), view.image_to_widget(16, 12)
    w, h = bottom_right.x() - top_left.x(), bottom_right.y() - top_left.y()
    assert abs(w / h - 16 / 12) < 1e-9  # aspect ratio kept
    grabbed = _grab(view)
    for px, py in ((0, 0), (7, 5), (15, 11)):
        rgb = arrays["rgb"][py, px]
        np.testing.assert_array_equal(_painted(view, grabbed, px, py), rgb)
        text = view.hover_at(view.image_to_widget(px + 0.5, py + 0.5))
        assert text.splitlines() == [f"pixel x {px}  y {py}",
                                     f"/cam/rgb: RGB {rgb[0]}, {rgb[1]}, {rgb[2]}"]
    # Frame 5 has a new image; frames 1..4 keep the one from frame 0 without converting it.
    conversions = view.image_cache.conversions
    tc.set_time(3)
    view.redraw_now()
    assert view.image_cache.conversions == conversions
    # The hover report follows the cursor's image under a still mouse.
    view.hover_at(view.image_to_widget(7.5, 5.5))
    tc.set_time(5)
    view.redraw_now()
    assert view.image_cache.conversions == conversions + 1
    new = _rgb_pattern(12, 16, 2)
    np.testing.assert_array_equal(_pixels(view.images[0].image)[..., :3], new)
    assert view.hover_text.splitlines()[1] == f"/cam/rgb: RGB {', '.join(map(str, new[5, 7]))}"


def test_fixture_file_images(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "images.rrd", tmp_path)
    for entity in ("/camera/rgb", "/camera/grey", "/camera/png", "/camera/jpeg"):
        view, _ = _view(qtbot, db, entity, 0)
        assert view.errors() == [], entity
        (drawn,) = view.images
        assert drawn.image is not None and drawn.size == (64, 48), entity
        assert view.visible_space() == (0.0, 0.0, 64.0, 48.0)


def test_bad_buffer_is_reported_by_the_view(qtbot, images_db):
    db, _ = images_db
    view, _ = _view(qtbot, db, "/cam/bad", 0)
    assert view.images == []
    (error,) = view.errors()
    assert error.startswith("/cam/bad") and "has 10 bytes" in error and "needs 300" in error


def test_undecodable_blob_raises_the_scene_layers_error():
    assert ImageDecodeError is scene_images.ImageDecodeError  # one type to catch
    with pytest.raises(ImageDecodeError, match="cannot decode 9 bytes of image/png"):
        encoded_to_qimage(b"not a png", "image/png")
    # A wrong hint does not stop the bytes from decoding.
    png = _encode(_rgb_pattern(2, 3, 4), "PNG")
    assert encoded_to_qimage(png, "image/jpeg").size().toTuple() == (3, 2)


def test_pixel_formats_logged_by_the_sdk(qtbot, tmp_path):
    """NV12, YUY2 and Y8 buffers (enum values as rerun-sdk writes them), neutral chroma:
    grey, with limited range Y stretched from 16..235 to 0..255."""
    w, h = 8, 4
    y = np.arange(w * h, dtype=np.uint8).reshape(h, w) + 100
    nv12 = np.concatenate([y.ravel(), np.full(w * h // 2, 128, np.uint8)])
    yuy2 = np.stack([y[:, 0::2], np.full((h, w // 2), 128, np.uint8), y[:, 1::2],
                     np.full((h, w // 2), 128, np.uint8)], axis=-1).ravel()

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        for name, data, fmt in (("nv12", nv12, rr.PixelFormat.NV12),
                                ("yuy2", yuy2, rr.PixelFormat.YUY2),
                                ("y8", y.ravel(), rr.PixelFormat.Y8_FullRange)):
            rec.log(name, rr.Image(bytes=data.tobytes(), width=w, height=h, pixel_format=fmt))

    db = write_recording(tmp_path / "yuv.rrd", tmp_path, log)
    limited = np.clip(np.round((y.astype(float) - 16) * 255 / 219), 0, 255)
    for entity, expected in (("/nv12", limited), ("/yuy2", limited), ("/y8", y)):
        view, _ = _view(qtbot, db, entity, 0)
        rgb = view.images[0].layer.rgba[..., :3].astype(int)
        for c in range(3):
            assert np.abs(rgb[..., c] - expected).max() <= 1, entity
        painted = _painted(view, _grab(view), 5, 2)
        assert np.abs(painted - expected[2, 5]).max() <= 1, entity


def test_selection_panel_names_the_formats_the_sdk_stores(tmp_path):
    """``64×48 RGB U8``-style text for every colour model x datatype and pixel format."""
    dtypes = {"U8": np.uint8, "I16": np.int16, "U32": np.uint32, "F16": np.float16,
              "F64": np.float64}
    models = {"L": 1, "RGB": 3, "RGBA": 4, "BGR": 3, "BGRA": 4}

    sdk_names: dict[int, str] = {}

    def log(rr, rec):
        sdk_names.update({p.value: p.name for p in rr.PixelFormat})
        rec.set_time("frame", sequence=0)
        for model, channels in models.items():
            for name, dt in dtypes.items():
                shape = (2, 3) if channels == 1 else (2, 3, channels)
                rec.log(f"{model}/{name}", rr.Image(np.zeros(shape, dt), color_model=model))
        rec.log("nv12", rr.Image(bytes=bytes(12), width=4, height=2,
                                 pixel_format=rr.PixelFormat.NV12))

    db = write_recording(tmp_path / "fmt.rrd", tmp_path, log)
    for model in models:
        for name in dtypes:
            cell = db.latest_at(EntityPath.parse(f"/{model}/{name}"), "Image:format",
                                "frame", 0).value
            assert format_value("Image:format", cell) == f"3×2 {model} {name}"
    cell = db.latest_at(EntityPath.parse("/nv12"), "Image:format", "frame", 0).value
    assert format_value("Image:format", cell) == "4×2 NV12"
    assert sdk_names == PIXEL_FORMAT_NAMES
