"""Colours: Rerun's packed ``0xRRGGBBAA``, default colours, colormaps (vectorized numpy).

Default colours follow Rerun's scheme: hue steps by the golden ratio (``h = id * 0.618...``,
wrapped), saturation 0.85 and value 0.5, all in *linear* RGB, then encoded to sRGB. A class
id without an annotated colour gets the colour of its id; an entity gets the colour of a
16-bit hash of its path (stable across runs; Rerun's own path hash is not reproducible
here, so the exact hues differ, but each path keeps its own colour).

Colormaps take values already normalized to [0, 1] (clamped; NaN becomes transparent).
Grayscale and CyanToYellow are exact formulas. Viridis, Inferno, Magma, Plasma and Turbo
are piecewise-linear through 17 control points (the published palette colours at evenly
spaced positions) sampled into a 256-entry table; that stays within 7 sRGB steps of the
full maps (mean under 1.5). Rerun draws these with polynomial fits, which differ from the
published maps by a few steps too (most at the ends).
"""

from __future__ import annotations

import hashlib
import math
from functools import cache, lru_cache

import numpy as np
import pyarrow as pa

from viewer.store.entity_path import EntityPath

RGBA = tuple[int, int, int, int]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0

#: Rerun's Colormap enum values (as written by rerun-sdk, e.g. ``DepthImage:colormap``).
COLORMAPS: dict[int, str] = {
    1: "grayscale",
    2: "inferno",
    3: "magma",
    4: "plasma",
    5: "turbo",
    6: "viridis",
    7: "cyan_to_yellow",
}

# 17 control points each, evenly spaced over [0, 1] (sRGB hex).
_POINTS: dict[str, tuple[str, ...]] = {
    "viridis": ("440154", "48186a", "472d7b", "424086", "3b528b", "33638d", "2c728e", "26828e",
                "21918c", "1f9f88", "27ad81", "3dbc74", "5cc863", "81d34d", "aadc32", "d5e21a",
                "fde725"),
    "inferno": ("000004", "0b0724", "210c4a", "3d0965", "57106e", "71196e", "8a226a", "a32c61",
                "bc3754", "d04545", "e35933", "f1711f", "f98c0a", "fcaa0f", "f9c932", "f2e865",
                "fcffa4"),
    "magma": ("000004", "0a0822", "1d1147", "36106b", "51127c", "6a1c81", "832681", "9c2e7f",
              "b73779", "cf4070", "e55064", "f4695c", "fb8761", "fea571", "fec287", "fde0a1",
              "fcfdbf"),
    "plasma": ("0d0887", "310597", "4c02a1", "6600a7", "7e03a8", "9511a1", "aa2395", "bc3587",
               "cc4778", "d9586a", "e56b5d", "f07f4f", "f89441", "fdab33", "fdc328", "f9dd25",
               "f0f921"),
    "turbo": ("30123b", "4040a2", "466be3", "4294ff", "28bceb", "18ddc2", "32f298", "6dfe62",
              "a4fc3c", "cbed34", "ecd13a", "fdae35", "fb8122", "ec530f", "d23105", "ac1701",
              "7a0403"),
}
_LUT_SIZE = 256


def _srgb_u8(linear: np.ndarray) -> np.ndarray:
    """Linear [0, 1] to sRGB bytes (the standard transfer curve, rounded)."""
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(
        linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1.0 / 2.4) - 0.055
    )
    return np.floor(encoded * 255.0 + 0.5).astype(np.uint8)


def _hsv_to_linear_rgb(h: np.ndarray, s: float, v: float) -> np.ndarray:
    h = np.mod(h, 1.0)
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    p = np.full_like(h, v * (1.0 - s))
    q = v * (1.0 - f * s)
    t = v * (1.0 - (1.0 - f) * s)
    vv = np.full_like(h, v)
    sector = sector.astype(np.int64) % 6
    r = np.choose(sector, [vv, q, p, p, t, vv])
    g = np.choose(sector, [t, vv, vv, q, p, p])
    b = np.choose(sector, [p, p, t, vv, vv, q])
    return np.stack([r, g, b], axis=-1)


def auto_colors(ids: np.ndarray) -> np.ndarray:
    """(n, 4) uint8: Rerun's default colour for each 16-bit id (class ids, path hashes)."""
    ids = np.asarray(ids, dtype=np.int64).ravel() & 0xFFFF
    # Rerun computes the hue in 32-bit floats; so do we, for the same rounding.
    hue = (ids.astype(np.float32) * np.float32(_GOLDEN)).astype(np.float64)
    rgb = _srgb_u8(_hsv_to_linear_rgb(hue, 0.85, 0.5))
    out = np.empty((len(ids), 4), dtype=np.uint8)
    out[:, :3] = rgb
    out[:, 3] = 255
    return out


@lru_cache(maxsize=4096)
def class_color(class_id: int) -> RGBA:
    """Rerun's default colour for a class id that has no annotated colour."""
    r, g, b, a = auto_colors(np.array([class_id]))[0]
    return int(r), int(g), int(b), int(a)


@lru_cache(maxsize=65536)
def entity_color(entity: EntityPath) -> RGBA:
    """A stable default colour per entity path (Rerun's scheme over a hash of the path)."""
    digest = hashlib.blake2b(str(entity).encode("utf-8"), digest_size=8).digest()
    return class_color(int.from_bytes(digest, "little") % 0xFFFF)


def unpack_rgba(
    cell_or_array: pa.Array | np.ndarray | list | int, fill: RGBA = (255, 255, 255, 255)
) -> np.ndarray:
    """(n, 4) uint8 from Rerun's ``0xRRGGBBAA`` u32 colours; nulls become ``fill``."""
    if isinstance(cell_or_array, pa.ChunkedArray):
        cell_or_array = cell_or_array.combine_chunks()
    if isinstance(cell_or_array, pa.Array):
        arr = cell_or_array
        while pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type) or \
                pa.types.is_fixed_size_list(arr.type):
            arr = arr.flatten()
        mask = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
        values = arr.fill_null(0).to_numpy(zero_copy_only=False) if mask is not None else \
            arr.to_numpy(zero_copy_only=False)
    else:
        values = np.atleast_1d(np.asarray(cell_or_array))
        mask = None
    packed = np.ascontiguousarray(values.astype(np.uint32, copy=False).ravel())
    out = packed.astype(">u4").view(np.uint8).reshape(-1, 4).copy()
    if mask is not None and mask.any():
        out[mask] = fill
    return out


def pack_rgba(rgba: np.ndarray) -> np.ndarray:
    """The inverse of ``unpack_rgba``: (n, 4) uint8 to ``0xRRGGBBAA`` u32."""
    rgba = np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8).reshape(-1, 4))
    return rgba.view(">u4").ravel().astype(np.uint32)


# ------------------------------------------------------------------ colormaps


def _grayscale(t: np.ndarray) -> np.ndarray:
    g = np.floor(t * 255.0 + 0.5)
    return np.stack([g, g, g], axis=-1)


def _cyan_to_yellow(t: np.ndarray) -> np.ndarray:
    """Cyan through grey to yellow: red rises and blue falls linearly, green is parabolic."""
    s = t * 2.0 - 1.0
    quarter = 255.0 / 4.0
    r = np.maximum((1.0 + 3.0 * s) * quarter, 0.0)
    g = (1.0 + 3.0 * s * s) * quarter
    b = np.maximum((1.0 - 3.0 * s) * quarter, 0.0)
    return np.floor(np.stack([r, g, b], axis=-1))


_FORMULAS = {"grayscale": _grayscale, "cyan_to_yellow": _cyan_to_yellow}


def _from_points(points: tuple[str, ...], t: np.ndarray) -> np.ndarray:
    rgb = np.array([[int(p[i : i + 2], 16) for i in (0, 2, 4)] for p in points], dtype=np.float64)
    xs = np.linspace(0.0, 1.0, len(points))
    return np.stack([np.interp(t, xs, rgb[:, c]) for c in range(3)], axis=-1).round()


@cache
def colormap_lut(name: str) -> np.ndarray:
    """(256, 4) uint8 table of a colormap by canonical name (see ``COLORMAPS``)."""
    t = np.linspace(0.0, 1.0, _LUT_SIZE)
    if name == "grayscale":
        rgb = _grayscale(t)
    elif name == "cyan_to_yellow":
        rgb = _cyan_to_yellow(t)
    elif name in _POINTS:
        rgb = _from_points(_POINTS[name], t)
    else:
        raise ValueError(f"unknown colormap {name!r}")
    lut = np.empty((_LUT_SIZE, 4), dtype=np.uint8)
    lut[:, :3] = np.clip(rgb, 0, 255)
    lut[:, 3] = 255
    lut.flags.writeable = False
    return lut


def colormap_name(which: object) -> str:
    """Canonical name from a name ("Turbo", "cyan_to_yellow", "CyanToYellow"), an enum
    value as stored (5) or a rerun-sdk ``Colormap`` member."""
    value = getattr(which, "value", which)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        name = COLORMAPS.get(int(value))
        if name is None:
            raise ValueError(f"unsupported colormap value {int(value)}")
        return name
    if isinstance(value, str):
        key = value.replace("_", "").replace("-", "").replace(" ", "").lower()
        for name in COLORMAPS.values():
            if name.replace("_", "") == key:
                return name
    raise ValueError(f"unknown colormap {which!r}")


def colormap(which: object, values01: np.ndarray) -> np.ndarray:
    """(n, 4) uint8: ``values01`` (any shape, flattened; clamped to [0, 1]) through a colormap."""
    name = colormap_name(which)
    v = np.asarray(values01, dtype=np.float64).ravel()
    nan = np.isnan(v)
    t = np.clip(np.where(nan, 0.0, v), 0.0, 1.0)
    if name in _FORMULAS:  # exact, no table
        out = np.empty((len(v), 4), dtype=np.uint8)
        out[:, :3] = np.clip(_FORMULAS[name](t), 0, 255)
        out[:, 3] = 255
    else:
        out = colormap_lut(name)[np.floor(t * (_LUT_SIZE - 1) + 0.5).astype(np.intp)]
    if nan.any():
        out[nan] = 0
    return out
