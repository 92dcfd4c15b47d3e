"""Turn Rerun image components into QImages.

``Image:format`` is a struct (width, height, pixel_format, color_model, channel_datatype).
The enum values below were read back from files written by rerun-sdk 0.41.0 (one image per
color model × datatype, see tests/ui/test_ui_views_image.py). Raw buffers are decoded with
numpy; encoded blobs (PNG, JPEG, ...) with Qt's image readers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QImage

# Rerun ColorModel
COLOR_L, COLOR_RGB, COLOR_RGBA, COLOR_BGR, COLOR_BGRA = 1, 2, 3, 4, 5
COLOR_MODEL_NAMES = {1: "L", 2: "RGB", 3: "RGBA", 4: "BGR", 5: "BGRA"}
_CHANNELS = {COLOR_L: 1, COLOR_RGB: 3, COLOR_RGBA: 4, COLOR_BGR: 3, COLOR_BGRA: 4}

# Rerun ChannelDatatype -> little-endian numpy dtype
CHANNEL_DTYPES: dict[int, np.dtype] = {
    6: np.dtype("u1"), 7: np.dtype("i1"), 8: np.dtype("<u2"), 9: np.dtype("<i2"),
    10: np.dtype("<u4"), 11: np.dtype("<i4"), 12: np.dtype("<u8"), 13: np.dtype("<i8"),
    33: np.dtype("<f2"), 34: np.dtype("<f4"), 35: np.dtype("<f8"),
}
CHANNEL_DTYPE_NAMES = {6: "U8", 7: "I8", 8: "U16", 9: "I16", 10: "U32", 11: "I32", 12: "U64",
                       13: "I64", 33: "F16", 34: "F32", 35: "F64"}

# Rerun PixelFormat (only the ones we decode)
PIXEL_NV12, PIXEL_YUY2, PIXEL_Y8_FULL, PIXEL_Y8_LIMITED = 26, 27, 30, 41
PIXEL_FORMAT_NAMES = {26: "NV12", 27: "YUY2", 30: "Y8_FullRange", 41: "Y8_LimitedRange"}


class ImageDecodeError(ValueError):
    """An image that cannot be shown; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    width: int
    height: int
    pixel_format: int | None = None
    color_model: int | None = None
    channel_datatype: int | None = None

    @classmethod
    def from_dict(cls, d: dict) -> ImageFormat:
        try:
            return cls(int(d["width"]), int(d["height"]), d.get("pixel_format"),
                       d.get("color_model"), d.get("channel_datatype"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ImageDecodeError(f"bad image format {d!r}: {exc}") from exc

    def describe(self) -> str:
        if self.pixel_format is not None:
            kind = PIXEL_FORMAT_NAMES.get(self.pixel_format, f"pixel format {self.pixel_format}")
        else:
            model = COLOR_MODEL_NAMES.get(self.color_model or COLOR_L, f"model {self.color_model}")
            dtype = CHANNEL_DTYPE_NAMES.get(self.channel_datatype or 6,
                                            f"type {self.channel_datatype}")
            kind = f"{model} {dtype}"
        return f"{self.width}×{self.height} {kind}"


def _to_u8_grey(plane: np.ndarray) -> np.ndarray:
    """Normalise a grey plane of any dtype to 0..255 by its finite min/max."""
    if plane.dtype == np.uint8:
        return plane
    values = plane.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(plane.shape, np.uint8)
    lo = float(values[finite].min())
    hi = float(values[finite].max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    out = np.where(finite, (values - lo) * scale, 0.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _to_u8_color(pixels: np.ndarray) -> np.ndarray:
    """Scale colour channels to 0..255: integers by their type's range, floats as 0..1."""
    if pixels.dtype == np.uint8:
        return pixels
    if np.issubdtype(pixels.dtype, np.integer):
        info = np.iinfo(pixels.dtype)
        scaled = (pixels.astype(np.float64) - max(info.min, 0)) * (255.0 / info.max)
    else:
        scaled = np.nan_to_num(pixels.astype(np.float64), nan=0.0) * 255.0
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def _yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV to RGB (what cameras emit for NV12/YUY2)."""
    yf = (y.astype(np.float32) - 16.0) * 1.164
    uf = u.astype(np.float32) - 128.0
    vf = v.astype(np.float32) - 128.0
    rgb = np.stack([yf + 1.596 * vf, yf - 0.392 * uf - 0.813 * vf, yf + 2.017 * uf], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _qimage(pixels: np.ndarray, fmt: QImage.Format) -> QImage:
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    image = QImage(pixels.data, w, h, pixels.strides[0], fmt)
    return image.copy()  # own the memory: the numpy array goes away


def raw_to_array(buffer: np.ndarray, fmt: ImageFormat) -> np.ndarray:
    """Decode a raw buffer to uint8 pixels of shape (h, w) grey, (h, w, 3) RGB or (h, w, 4)."""
    w, h = fmt.width, fmt.height
    if w <= 0 or h <= 0:
        raise ImageDecodeError(f"image has no pixels ({w}×{h})")
    data = np.asarray(buffer, dtype=np.uint8).ravel()
    if fmt.pixel_format is not None:
        return _decode_pixel_format(data, fmt)
    model = fmt.color_model if fmt.color_model is not None else COLOR_L
    channels = _CHANNELS.get(model)
    if channels is None:
        raise ImageDecodeError(f"unsupported color model {model}")
    dt_code = fmt.channel_datatype if fmt.channel_datatype is not None else 6
    dtype = CHANNEL_DTYPES.get(dt_code)
    if dtype is None:
        raise ImageDecodeError(f"unsupported channel datatype {dt_code}")
    need = w * h * channels * dtype.itemsize
    if data.size < need:
        raise ImageDecodeError(
            f"image buffer has {data.size} bytes, {fmt.describe()} needs {need}")
    pixels = data[:need].view(dtype)
    if channels == 1:
        return _to_u8_grey(pixels.reshape(h, w))
    pixels = _to_u8_color(pixels.reshape(h, w, channels))
    if model in (COLOR_BGR, COLOR_BGRA):
        pixels = pixels[..., [2, 1, 0, 3][:channels]]
    return pixels


def _decode_pixel_format(data: np.ndarray, fmt: ImageFormat) -> np.ndarray:
    w, h, pf = fmt.width, fmt.height, fmt.pixel_format
    if pf in (PIXEL_Y8_FULL, PIXEL_Y8_LIMITED):
        if data.size < w * h:
            raise ImageDecodeError(f"Y8 buffer has {data.size} bytes, needs {w * h}")
        y = data[: w * h].reshape(h, w)
        if pf == PIXEL_Y8_LIMITED:
            y = np.clip((y.astype(np.float32) - 16.0) * (255.0 / 219.0) + 0.5, 0, 255)
            y = y.astype(np.uint8)
        return y
    if pf == PIXEL_NV12:
        need = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
        if data.size < need or w % 2 or h % 2:
            raise ImageDecodeError(f"NV12 {w}×{h} needs even sizes and {need} bytes")
        y = data[: w * h].reshape(h, w)
        uv = data[w * h : w * h + w * h // 2].reshape(h // 2, w // 2, 2)
        u = uv[..., 0].repeat(2, axis=0).repeat(2, axis=1)
        v = uv[..., 1].repeat(2, axis=0).repeat(2, axis=1)
        return _yuv_to_rgb(y, u, v)
    if pf == PIXEL_YUY2:
        need = w * h * 2
        if data.size < need or w % 2:
            raise ImageDecodeError(f"YUY2 {w}×{h} needs an even width and {need} bytes")
        quad = data[:need].reshape(h, w // 2, 4)
        y = quad[..., [0, 2]].reshape(h, w)
        u = quad[..., 1].repeat(2, axis=1)
        v = quad[..., 3].repeat(2, axis=1)
        return _yuv_to_rgb(y, u, v)
    raise ImageDecodeError(f"unsupported pixel format {pf}")


def array_to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (h, w), (h, w, 3) or (h, w, 4) -> QImage (a copy)."""
    if pixels.ndim == 2:
        return _qimage(pixels, QImage.Format.Format_Grayscale8)
    if pixels.shape[2] == 3:
        return _qimage(pixels, QImage.Format.Format_RGB888)
    return _qimage(pixels, QImage.Format.Format_RGBA8888)


def raw_to_qimage(buffer: np.ndarray, fmt: ImageFormat) -> QImage:
    return array_to_qimage(raw_to_array(buffer, fmt))


def encoded_to_qimage(blob: bytes, media_type: str | None = None) -> QImage:
    """Decode PNG/JPEG/... with Qt; the media type is a hint, the bytes decide."""
    hint = None
    if media_type and media_type.startswith("image/"):
        hint = media_type.split("/", 1)[1].upper()
    image = QImage.fromData(blob, hint) if hint else QImage.fromData(blob)
    if image.isNull() and hint:
        image = QImage.fromData(blob)
    if image.isNull():
        raise ImageDecodeError(
            f"cannot decode {len(blob)} bytes of {media_type or 'unknown media type'}")
    return image
