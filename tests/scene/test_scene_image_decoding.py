"""viewer.scene.images on every colour model x channel datatype rerun-sdk writes: the enum
numbers it stores, the values decoded back, and clear errors for buffers that do not fit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from viewer.scene import images
from viewer.scene.images import ImageDecodeError, ImageFormat, buffer_bytes, decode_values
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

MODELS = {"L": (images.COLOR_L, 1), "RGB": (images.COLOR_RGB, 3),
          "RGBA": (images.COLOR_RGBA, 4), "BGR": (images.COLOR_BGR, 3),
          "BGRA": (images.COLOR_BGRA, 4)}
DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
          np.float16, np.float32, np.float64]


def _pattern(shape: tuple[int, ...], dt: type) -> np.ndarray:
    """Distinct values spanning the type's sign (so a wrong dtype or byte order shows)."""
    n = int(np.prod(shape))
    values = np.arange(n, dtype=np.int64) * 7 - 20
    if np.dtype(dt).kind == "u":
        values = values + 20
    return values.astype(dt).reshape(shape)


def test_every_model_and_datatype_decodes_to_what_was_logged(rrd) -> None:
    logged: dict[str, np.ndarray] = {}

    def log(rec) -> None:
        import rerun as rr

        for model, (_, channels) in MODELS.items():
            for dt in DTYPES:
                shape = (2, 3) if channels == 1 else (2, 3, channels)
                pixels = logged[f"{model}/{np.dtype(dt).name}"] = _pattern(shape, dt)
                rec.log(f"{model}/{np.dtype(dt).name}", rr.Image(pixels, color_model=model),
                        static=True)

    db = rrd(log)
    q = LatestAt(db, None, None)
    for name, pixels in logged.items():
        e = EntityPath.parse(name)
        fmt = ImageFormat.from_cell(q.cell(e, "Image:format"))
        code, channels = MODELS[name.split("/")[0]]
        # The enum numbers are the ones the SDK stores.
        assert fmt.color_model == code, name
        assert images.DTYPES[fmt.channel_datatype] == pixels.dtype.newbyteorder("<"), name
        assert (fmt.width, fmt.height, fmt.channels) == (3, 2, channels)
        values = decode_values(buffer_bytes(q.cell(e, "Image:buffer")), fmt)
        # BGR(A) comes back as RGB(A): channels 0 and 2 swap, alpha stays last.
        expected = pixels[..., [2, 1, 0, 3][:channels]] if name.startswith("BGR") else pixels
        assert values.dtype == pixels.dtype, name
        np.testing.assert_array_equal(values, expected, err_msg=name)


def test_alpha_of_rgba_and_bgra_reaches_the_drawn_rgba(rrd) -> None:
    import rerun as rr

    rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 128], [70, 80, 90, 255]]] * 2, np.uint8)
    db = rrd(lambda rec: (rec.log("rgba", rr.Image(rgba), static=True),
                          rec.log("bgra", rr.Image(rgba[..., [2, 1, 0, 3]].copy(),
                                                   color_model="BGRA"), static=True)))
    q = LatestAt(db, None, None)
    for name in ("/rgba", "/bgra"):
        e = EntityPath.parse(name)
        values = decode_values(buffer_bytes(q.cell(e, "Image:buffer")),
                               ImageFormat.from_cell(q.cell(e, "Image:format")))
        np.testing.assert_array_equal(images.values_to_rgba(values), rgba, err_msg=name)


def test_bad_buffers_and_formats_give_clear_errors() -> None:
    with pytest.raises(ImageDecodeError, match="has 10 bytes.*needs 300"):
        decode_values(np.zeros(10, np.uint8), ImageFormat(10, 10, None, 2, 6))
    with pytest.raises(ImageDecodeError, match="needs 800"):  # 10x10 grey, 8 bytes each
        decode_values(np.zeros(100, np.uint8), ImageFormat(10, 10, None, 1, 12))
    with pytest.raises(ImageDecodeError, match="unsupported color model 9"):
        decode_values(np.zeros(100, np.uint8), ImageFormat(10, 10, None, 9, 6))
    with pytest.raises(ImageDecodeError, match="unsupported channel datatype 99"):
        decode_values(np.zeros(100, np.uint8), ImageFormat(10, 10, None, 1, 99))
    with pytest.raises(ImageDecodeError, match="unsupported pixel format 999"):
        decode_values(np.zeros(100, np.uint8), ImageFormat(10, 10, 999, None, None))
    with pytest.raises(ImageDecodeError, match="NV12 needs even sizes, got 3x2"):
        decode_values(np.zeros(100, np.uint8), ImageFormat(3, 2, images.NV12))
    with pytest.raises(ImageDecodeError, match="YUY2 buffer has 10 bytes, needs 16"):
        decode_values(np.zeros(10, np.uint8), ImageFormat(4, 2, images.YUY2))
    with pytest.raises(ImageDecodeError, match="bad image format"):
        ImageFormat.from_cell(pa.array([{"width": None, "height": 2}]))


def test_enum_numbers_are_the_sdks(rerun_home) -> None:
    import rerun as rr

    ours = {"NV12": images.NV12, "YUY2": images.YUY2, "Y8_FullRange": images.Y8_FULL,
            "Y8_LimitedRange": images.Y8_LIMITED, "Y_U_V12_LimitedRange": images.YUV12_LIMITED,
            "Y_U_V12_FullRange": images.YUV12_FULL, "Y_U_V16_LimitedRange": images.YUV16_LIMITED,
            "Y_U_V16_FullRange": images.YUV16_FULL, "Y_U_V24_LimitedRange": images.YUV24_LIMITED,
            "Y_U_V24_FullRange": images.YUV24_FULL}
    assert ours == {name: rr.PixelFormat[name].value for name in ours}
    assert {m: c for m, (c, _) in MODELS.items()} == {c.name: c.value for c in rr.ColorModel}
    assert {np.dtype(dt).name: code for code, dt in images.DTYPES.items()} == {
        np.dtype(dt).name: _sdk_dtype_code(rr, dt) for dt in DTYPES}


def _sdk_dtype_code(rr, dt: type) -> int:  # noqa: ANN001
    """The ChannelDatatype number rerun-sdk uses for a numpy dtype."""
    name = {"uint": "U", "int": "I", "float": "F"}
    kind = np.dtype(dt).name.rstrip("0123456789")
    return rr.ChannelDatatype[f"{name[kind]}{np.dtype(dt).itemsize * 8}"].value
