"""Raw image buffers to numpy: decoded values (for hover) and RGBA (for drawing).

An ``Image:format`` cell is a struct (width, height, pixel_format, color_model,
channel_datatype). Either ``pixel_format`` is set (a packed camera format such as NV12) or
``color_model`` + ``channel_datatype`` describe interleaved channels. The enum numbers are
those rerun-sdk 0.41 writes. Everything here is numpy only, so the scene layer and a future
Qt wrapper share one decoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# ColorModel
COLOR_L, COLOR_RGB, COLOR_RGBA, COLOR_BGR, COLOR_BGRA = 1, 2, 3, 4, 5
CHANNELS = {COLOR_L: 1, COLOR_RGB: 3, COLOR_RGBA: 4, COLOR_BGR: 3, COLOR_BGRA: 4}

# ChannelDatatype -> little-endian numpy dtype
DTYPES: dict[int, np.dtype] = {
    6: np.dtype("u1"), 7: np.dtype("i1"), 8: np.dtype("<u2"), 9: np.dtype("<i2"),
    10: np.dtype("<u4"), 11: np.dtype("<i4"), 12: np.dtype("<u8"), 13: np.dtype("<i8"),
    33: np.dtype("<f2"), 34: np.dtype("<f4"), 35: np.dtype("<f8"),
}
U8 = 6

# PixelFormat
YUV12_LIMITED, NV12, YUY2, Y8_FULL = 20, 26, 27, 30
YUV24_LIMITED, YUV24_FULL, Y8_LIMITED, YUV12_FULL = 39, 40, 41, 44
YUV16_LIMITED, YUV16_FULL = 49, 50
_FULL_RANGE = {Y8_FULL, YUV24_FULL, YUV12_FULL, YUV16_FULL}


class ImageDecodeError(ValueError):
    """An image that cannot be decoded; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageFormat:
    width: int
    height: int
    pixel_format: int | None = None
    color_model: int | None = None
    channel_datatype: int | None = None

    @classmethod
    def from_cell(cls, cell: pa.Array) -> ImageFormat:
        """The first (only) instance of an ``*:format`` cell."""
        if cell is None or len(cell) == 0:
            raise ImageDecodeError("image has no format")
        d = cell[0].as_py()
        try:
            return cls(int(d["width"]), int(d["height"]), d.get("pixel_format"),
                       d.get("color_model"), d.get("channel_datatype"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ImageDecodeError(f"bad image format {d!r}: {exc}") from exc

    @property
    def dtype(self) -> np.dtype:
        code = U8 if self.channel_datatype is None else self.channel_datatype
        dt = DTYPES.get(code)
        if dt is None:
            raise ImageDecodeError(f"unsupported channel datatype {code}")
        return dt

    @property
    def channels(self) -> int:
        model = COLOR_L if self.color_model is None else self.color_model
        n = CHANNELS.get(model)
        if n is None:
            raise ImageDecodeError(f"unsupported color model {model}")
        return n


def buffer_bytes(cell: pa.Array) -> np.ndarray:
    """The uint8 bytes of the first blob of a ``list<uint8>`` cell (no copy)."""
    if cell is None or len(cell) == 0:
        raise ImageDecodeError("image has no buffer")
    blob = cell[0].values
    return blob.to_numpy(zero_copy_only=False).view(np.uint8)


def decode_values(buffer: np.ndarray, fmt: ImageFormat) -> np.ndarray:
    """Channel values in their own dtype: (h, w) or (h, w, c). Packed YUV formats give RGB u8."""
    w, h = fmt.width, fmt.height
    if w <= 0 or h <= 0:
        raise ImageDecodeError(f"image has no pixels ({w}x{h})")
    data = np.asarray(buffer, dtype=np.uint8).reshape(-1)
    if fmt.pixel_format is not None:
        return _decode_pixel_format(data, fmt)
    dtype, channels = fmt.dtype, fmt.channels
    need = w * h * channels * dtype.itemsize
    if data.size < need:
        raise ImageDecodeError(f"image buffer has {data.size} bytes, {w}x{h}x{channels} "
                               f"{dtype.name} needs {need}")
    values = data[:need].view(dtype)
    if channels == 1:
        return values.reshape(h, w)
    values = values.reshape(h, w, channels)
    if fmt.color_model in (COLOR_BGR, COLOR_BGRA):
        values = values[..., [2, 1, 0, 3][:channels]]
    return values


def shown_range(lo: float, hi: float, is_float: bool) -> tuple[float, float]:
    """Rerun's rule for the range data of finite extent ``lo..hi`` is shown over (images and
    tensors alike): float data within 0..1 -> 0..1; any data within 0..255 -> 0..255;
    constant data c -> c-1..c+1; else lo..hi (a u16 image reaching 57 300 spans that)."""
    if is_float and lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if lo >= 0.0 and hi <= 255.0:
        return 0.0, 255.0
    if lo == hi:
        return lo - 1.0, hi + 1.0
    return lo, hi


def value_range(values: np.ndarray) -> tuple[float, float]:
    """The range a colour image's values are shown over (`shown_range` of its finite data)."""
    if values.dtype == np.uint8:
        return 0.0, 255.0
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return 0.0, 1.0
    return shown_range(float(finite.min()), float(finite.max()), values.dtype.kind == "f")


def to_u8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linearly map lo..hi to 0..255 (clamped; NaN -> 0)."""
    if values.dtype == np.uint8 and lo == 0.0 and hi == 255.0:
        return values
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    out = (values.astype(np.float32) - np.float32(lo)) * np.float32(scale)
    out = np.nan_to_num(out, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def values_to_rgba(values: np.ndarray) -> np.ndarray:
    """Decoded colour/grey values -> (h, w, 4) uint8 RGBA."""
    u8 = to_u8(values, *value_range(values))
    h, w = u8.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    if u8.ndim == 2:
        out[..., 0] = out[..., 1] = out[..., 2] = u8
        out[..., 3] = 255
    elif u8.shape[2] == 3:
        out[..., :3] = u8
        out[..., 3] = 255
    else:
        out[...] = u8[..., :4]
    return out


def colormapped_rgba(
    values: np.ndarray, lo: float, hi: float, colormap: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Scalar values -> RGBA through ``colormap`` (0..1 floats -> (..., 4) uint8) over lo..hi.

    NaN and non-positive-range pixels map to the colormap's start; they stay opaque."""
    span = hi - lo
    t = (values.astype(np.float32) - np.float32(lo)) / np.float32(span if span > 0 else 1.0)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    return np.asarray(colormap(t), dtype=np.uint8)


def class_ids_to_rgba(
    ids: np.ndarray, color_of: Callable[[int], tuple[int, int, int, int]]
) -> np.ndarray:
    """Segmentation class ids -> RGBA by a per-class lookup (one call per distinct id)."""
    uniq, inverse = np.unique(ids.reshape(-1), return_inverse=True)
    table = np.array([color_of(int(c)) for c in uniq], dtype=np.uint8).reshape(-1, 4)
    return table[inverse].reshape(*ids.shape[:2], 4)


def _yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, full: bool) -> np.ndarray:
    """BT.601 YUV -> RGB u8; limited range scales Y from 16..235 and chroma from 16..240."""
    yf = y.astype(np.float32)
    uf = u.astype(np.float32) - 128.0
    vf = v.astype(np.float32) - 128.0
    if not full:
        yf = (yf - 16.0) * (255.0 / 219.0)
        uf = uf * (255.0 / 224.0)
        vf = vf * (255.0 / 224.0)
    r = yf + 1.402 * vf
    g = yf - 0.344136 * uf - 0.714136 * vf
    b = yf + 1.772 * uf
    return np.clip(np.stack([r, g, b], axis=-1) + 0.5, 0, 255).astype(np.uint8)


def _need(data: np.ndarray, n: int, what: str) -> None:
    if data.size < n:
        raise ImageDecodeError(f"{what} buffer has {data.size} bytes, needs {n}")


def _decode_pixel_format(data: np.ndarray, fmt: ImageFormat) -> np.ndarray:
    w, h, pf = fmt.width, fmt.height, fmt.pixel_format
    full = pf in _FULL_RANGE
    if pf in (Y8_FULL, Y8_LIMITED):
        _need(data, w * h, "Y8")
        y = data[: w * h].reshape(h, w)
        if full:
            return y
        return np.clip((y.astype(np.float32) - 16.0) * (255.0 / 219.0) + 0.5, 0, 255).astype(
            np.uint8)
    if pf == NV12:
        if w % 2 or h % 2:
            raise ImageDecodeError(f"NV12 needs even sizes, got {w}x{h}")
        _need(data, w * h * 3 // 2, "NV12")
        y = data[: w * h].reshape(h, w)
        uv = data[w * h : w * h * 3 // 2].reshape(h // 2, w // 2, 2)
        uv = uv.repeat(2, axis=0).repeat(2, axis=1)
        return _yuv_to_rgb(y, uv[..., 0], uv[..., 1], full=False)
    if pf == YUY2:
        if w % 2:
            raise ImageDecodeError(f"YUY2 needs an even width, got {w}")
        _need(data, w * h * 2, "YUY2")
        quad = data[: w * h * 2].reshape(h, w // 2, 4)
        y = quad[..., [0, 2]].reshape(h, w)
        return _yuv_to_rgb(y, quad[..., 1].repeat(2, axis=1), quad[..., 3].repeat(2, axis=1),
                           full=False)
    if pf in (YUV24_LIMITED, YUV24_FULL):
        _need(data, w * h * 3, "Y_U_V24")
        planes = data[: w * h * 3].reshape(3, h, w)
        return _yuv_to_rgb(planes[0], planes[1], planes[2], full)
    if pf in (YUV16_LIMITED, YUV16_FULL):
        if w % 2:
            raise ImageDecodeError(f"Y_U_V16 needs an even width, got {w}")
        n = w * h
        _need(data, n * 2, "Y_U_V16")
        y = data[:n].reshape(h, w)
        u = data[n : n + n // 2].reshape(h, w // 2).repeat(2, axis=1)
        v = data[n + n // 2 : 2 * n].reshape(h, w // 2).repeat(2, axis=1)
        return _yuv_to_rgb(y, u, v, full)
    if pf in (YUV12_LIMITED, YUV12_FULL):
        if w % 2 or h % 2:
            raise ImageDecodeError(f"Y_U_V12 needs even sizes, got {w}x{h}")
        n, q = w * h, w * h // 4
        _need(data, n + 2 * q, "Y_U_V12")
        y = data[:n].reshape(h, w)
        u = data[n : n + q].reshape(h // 2, w // 2).repeat(2, axis=0).repeat(2, axis=1)
        v = data[n + q : n + 2 * q].reshape(h // 2, w // 2).repeat(2, axis=0).repeat(2, axis=1)
        return _yuv_to_rgb(y, u, v, full)
    raise ImageDecodeError(f"unsupported pixel format {pf}")
