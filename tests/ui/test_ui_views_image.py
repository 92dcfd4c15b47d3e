"""ImageView and image decoding on images logged with rerun-sdk (raw and encoded)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
from PySide6.QtGui import QImage
from ui_views_support import load_db, write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.spatial.image import ImageView
from viewer.ui.views.spatial.image_decode import ImageDecodeError, ImageFormat, raw_to_array


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
        rec.set_time("frame", sequence=5)
        rec.log("cam/rgb", rr.Image(_rgb_pattern(12, 16, 2)))

    db = write_recording(tmp_path / "img.rrd", tmp_path, log)
    return db, {"rgb": rgb, "grey16": grey16, "depth": depth, "rgba": rgba}


def _view(qtbot, db, entity, t):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = ImageView(db, [EntityPath.parse(entity)], tc)
    qtbot.addWidget(view)
    view.resize(320 + 40, 240 + 60)
    view.redraw_now()
    return view, tc


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes())
    return arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].reshape(
        image.height(), image.width(), 4).copy()  # `image` owns the memory: copy


@pytest.mark.parametrize("entity", ["/cam/rgb", "/cam/bgr", "/cam/png"])
def test_colour_images_show_logged_pixels(qtbot, images_db, entity):
    db, arrays = images_db
    view, _ = _view(qtbot, db, entity, 0)
    np.testing.assert_array_equal(_pixels(view.current_image())[..., :3], arrays["rgb"])


def test_rgba_keeps_alpha(qtbot, images_db):
    db, arrays = images_db
    view, _ = _view(qtbot, db, "/cam/rgba", 0)
    np.testing.assert_array_equal(_pixels(view.current_image()), arrays["rgba"])


@pytest.mark.parametrize(("entity", "key"), [("/cam/grey16", "grey16"), ("/cam/depth", "depth")])
def test_grey_non_u8_is_normalised(qtbot, images_db, entity, key):
    db, arrays = images_db
    view, _ = _view(qtbot, db, entity, 0)
    grey = _pixels(view.current_image())[..., 0].astype(int)
    src = arrays[key].astype(np.float64)
    expected = np.round((src - src.min()) / (src.max() - src.min()) * 255)
    assert np.abs(grey - expected).max() <= 1
    assert grey.min() == 0 and grey.max() == 255


def test_widget_pixel_and_cursor(qtbot, images_db):
    db, arrays = images_db
    view, tc = _view(qtbot, db, "/cam/rgb", 0)
    view.show()
    qtbot.waitExposed(view)
    grabbed = view.canvas.grab().toImage()
    rect = view.canvas.image_rect()
    assert abs(rect.width() / rect.height() - 16 / 12) < 0.02  # aspect ratio kept
    for px, py in ((0, 0), (7, 5), (15, 11)):
        center = QPointF(rect.left() + (px + 0.5) * rect.width() / 16,
                         rect.top() + (py + 0.5) * rect.height() / 12)
        assert view.widget_to_pixel(center) == (px, py)
        c = grabbed.pixelColor(int(center.x()), int(center.y()))
        assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in arrays["rgb"][py, px])
    # Frame 5 has a new image; frames 1..4 keep the one from frame 0 without decoding again.
    decodes = view.decode_count
    tc.set_time(3)
    view.redraw_now()
    assert view.decode_count == decodes
    tc.set_time(5)
    view.redraw_now()
    assert view.decode_count == decodes + 1
    np.testing.assert_array_equal(_pixels(view.current_image())[..., :3], _rgb_pattern(12, 16, 2))


def test_fixture_file_images(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "images.rrd", tmp_path)
    for entity in ("/camera/rgb", "/camera/grey", "/camera/png", "/camera/jpeg"):
        view, _ = _view(qtbot, db, entity, 0)
        image = view.current_image()
        assert image is not None and (image.width(), image.height()) == (64, 48), entity


def test_bad_buffers_give_clear_errors():
    with pytest.raises(ImageDecodeError, match="needs 300"):
        raw_to_array(np.zeros(10, np.uint8), ImageFormat(10, 10, None, 2, 6))
    with pytest.raises(ImageDecodeError, match="color model 9"):
        raw_to_array(np.zeros(100, np.uint8), ImageFormat(10, 10, None, 9, 6))
    with pytest.raises(ImageDecodeError, match="pixel format 999"):
        raw_to_array(np.zeros(100, np.uint8), ImageFormat(10, 10, 999, None, None))


def test_pixel_formats_logged_by_the_sdk(qtbot, tmp_path):
    """NV12, YUY2 and Y8 buffers (enum values as rerun-sdk writes them) decode to grey."""
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
    limited = np.clip(np.round((y.astype(float) - 16) * 1.164), 0, 255)
    for entity, expected in (("/nv12", limited), ("/yuy2", limited), ("/y8", y)):
        view, _ = _view(qtbot, db, entity, 0)
        rgb = _pixels(view.current_image())[..., :3].astype(int)
        for c in range(3):
            assert np.abs(rgb[..., c] - expected).max() <= 1, entity


def test_enum_values_match_what_the_sdk_stores(tmp_path):
    from viewer.ui.views.spatial import image_decode as d

    models = {"L": (d.COLOR_L, 1), "RGB": (d.COLOR_RGB, 3), "RGBA": (d.COLOR_RGBA, 4),
              "BGR": (d.COLOR_BGR, 3), "BGRA": (d.COLOR_BGRA, 4)}
    dtypes = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
              np.float16, np.float32, np.float64]

    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        for model, (_, channels) in models.items():
            for dt in dtypes:
                shape = (2, 3) if channels == 1 else (2, 3, channels)
                rec.log(f"{model}/{np.dtype(dt).name}",
                        rr.Image(np.zeros(shape, dt), color_model=model))

    db = write_recording(tmp_path / "enums.rrd", tmp_path, log)
    for model, (code, _) in models.items():
        for dt in dtypes:
            res = db.latest_at(EntityPath.parse(f"/{model}/{np.dtype(dt).name}"),
                               "Image:format", "frame", 0)
            fmt = ImageFormat.from_dict(res.value[0].as_py())
            assert fmt.color_model == code
            assert d.CHANNEL_DTYPES[fmt.channel_datatype] == np.dtype(dt).newbyteorder("<")
