"""viewer.scene.images: raw buffers decoded by the ImageFormat rerun-sdk writes."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.scene import colors
from viewer.scene.images import (
    ImageDecodeError,
    ImageFormat,
    buffer_bytes,
    class_ids_to_rgba,
    colormapped_rgba,
    decode_values,
    value_range,
    values_to_rgba,
)
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath


def logged(rrd, image) -> tuple[np.ndarray, ImageFormat]:
    """(buffer bytes, format) of ``image`` as rerun-sdk writes it, read back from a file."""
    db = rrd(lambda rec: rec.log("img", image, static=True))
    q = LatestAt(db, None, None)
    e = EntityPath.parse("img")
    arch = next(c.split(":")[0] for c in db.components(e) if c.endswith(":buffer"))
    return buffer_bytes(q.cell(e, f"{arch}:buffer")), ImageFormat.from_cell(
        q.cell(e, f"{arch}:format"))


@pytest.mark.parametrize(("shape", "model"), [((3, 5), None), ((3, 5, 3), None),
                                              ((3, 5, 4), None), ((3, 5, 3), "BGR")])
def test_u8_images_decode_to_what_was_logged(rrd, shape, model) -> None:
    import rerun as rr

    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    buf, fmt = logged(rrd, rr.Image(pixels, color_model=model))
    values = decode_values(buf, fmt)
    expected = pixels[..., ::-1] if model == "BGR" else pixels
    assert values.dtype == np.uint8 and (values == expected).all()
    rgba = values_to_rgba(values)
    assert rgba.shape == (3, 5, 4)
    if len(shape) == 2:
        assert (rgba[..., 0] == pixels).all() and (rgba[..., 2] == pixels).all()
    else:
        assert (rgba[..., :3] == expected[..., :3]).all()


def test_wide_and_float_images_keep_their_values_and_scale_for_display(rrd) -> None:
    import rerun as rr

    grey = np.array([[0, 1000], [40000, 65535]], np.uint16)
    buf, fmt = logged(rrd, rr.Image(grey))
    values = decode_values(buf, fmt)
    assert values.dtype == np.uint16 and (values == grey).all()
    assert values_to_rgba(values)[..., 0].tolist() == [[0, 4], [156, 255]]
    rgb = np.array([[[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]]] * 2, np.float32)
    buf, fmt = logged(rrd, rr.Image(rgb))
    values = decode_values(buf, fmt)
    assert values.dtype == np.float32 and values.tolist() == rgb.tolist()
    assert values_to_rgba(values)[0, 0].tolist() == [0, 128, 255, 255]


def test_value_range_follows_rerun() -> None:
    assert value_range(np.array([0.2, 0.9])) == (0.0, 1.0)
    assert value_range(np.array([3, 200], np.int32)) == (0.0, 255.0)
    assert value_range(np.array([3, 4000], np.uint16)) == (3.0, 4000.0)
    assert value_range(np.array([0.5, 3.0])) == (0.0, 255.0)
    assert value_range(np.array([7, 7], np.int32)) == (0.0, 255.0)
    assert value_range(np.array([700, 700], np.int32)) == (699.0, 701.0)
    assert value_range(np.array([-2.0, 6.0, np.nan])) == (-2.0, 6.0)


def test_nv12_and_yuy2_decode_to_rgb(rrd) -> None:
    import rerun as rr

    w, h = 4, 2
    # limited range: Y 16 is black, 235 white; neutral chroma 128
    y = np.array([[16, 235, 16, 235], [235, 16, 235, 16]], np.uint8)
    uv = np.full((1, 2, 2), 128, np.uint8)
    buf, fmt = logged(rrd, rr.Image(bytes=np.concatenate([y.ravel(), uv.ravel()]).tobytes(),
                                    width=w, height=h, pixel_format=rr.PixelFormat.NV12))
    assert fmt.pixel_format == 26
    rgb = decode_values(buf, fmt)
    assert rgb.shape == (2, 4, 3)
    assert rgb[..., 0].tolist() == [[0, 255, 0, 255], [255, 0, 255, 0]]
    assert (rgb[..., 0] == rgb[..., 2]).all()
    yuy2 = np.array([[16, 128, 235, 128] * 2] * 2, np.uint8)  # Y0 U Y1 V
    buf, fmt = logged(rrd, rr.Image(bytes=yuy2.tobytes(), width=w, height=h,
                                    pixel_format=rr.PixelFormat.YUY2))
    assert decode_values(buf, fmt)[0, :, 1].tolist() == [0, 255, 0, 255]


def test_short_buffers_and_unknown_formats_raise() -> None:
    with pytest.raises(ImageDecodeError, match="bytes"):
        decode_values(np.zeros(10, np.uint8), ImageFormat(4, 4, color_model=2, channel_datatype=6))
    with pytest.raises(ImageDecodeError, match="pixel format"):
        decode_values(np.zeros(64, np.uint8), ImageFormat(4, 4, pixel_format=128))
    with pytest.raises(ImageDecodeError, match="no pixels"):
        decode_values(np.zeros(4, np.uint8), ImageFormat(0, 4))


def test_colormapped_and_class_coloured_rgba() -> None:
    depth = np.array([[0.0, 5.0], [10.0, 20.0]])
    rgba = colormapped_rgba(depth, 0.0, 10.0,
                            lambda t: colors.colormap("viridis", t).reshape(*t.shape, 4))
    assert rgba.reshape(-1, 4).tolist() == colors.colormap(
        "viridis", np.array([0.0, 0.5, 1.0, 1.0])).tolist()
    ids = np.array([[0, 3], [3, 0]], np.uint8)
    table = {0: (0, 0, 0, 0), 3: (1, 2, 3, 255)}
    out = class_ids_to_rgba(ids, lambda c: table[c])
    assert out.tolist() == [[[0, 0, 0, 0], [1, 2, 3, 255]], [[1, 2, 3, 255], [0, 0, 0, 0]]]


@pytest.mark.parametrize(("fmt_name", "planes", "expected"), [
    # full range: Y is used as is; I420 chroma is one sample per 2x2 block
    ("Y_U_V12_FullRange", [[0, 255, 0, 255, 255, 0, 255, 0], [128, 128], [128, 128]],
     [[0, 255, 0, 255], [255, 0, 255, 0]]),
    # limited range 4:4:4: Y 16 -> 0, 235 -> 255
    ("Y_U_V24_LimitedRange", [[16, 235] * 4, [128] * 8, [128] * 8],
     [[0, 255, 0, 255], [0, 255, 0, 255]]),
    ("Y_U_V16_FullRange", [[10, 20, 30, 40] * 2, [128] * 4, [128] * 4],
     [[10, 20, 30, 40], [10, 20, 30, 40]]),
])
def test_planar_yuv_formats(rrd, fmt_name, planes, expected) -> None:
    import rerun as rr

    data = np.concatenate([np.asarray(p, np.uint8) for p in planes]).tobytes()
    buf, fmt = logged(rrd, rr.Image(bytes=data, width=4, height=2,
                                    pixel_format=getattr(rr.PixelFormat, fmt_name)))
    rgb = decode_values(buf, fmt)
    assert rgb.shape == (2, 4, 3)
    assert rgb[..., 1].tolist() == expected  # neutral chroma: grey, R = G = B
    assert (rgb[..., 0] == rgb[..., 2]).all()


def test_y8_limited_range_stretches_16_to_235() -> None:
    y = np.array([16, 235, 125, 0], np.uint8)
    out = decode_values(y, ImageFormat(4, 1, pixel_format=41))
    assert out.tolist() == [[0, 255, 127, 0]]
