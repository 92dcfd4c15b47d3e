"""Tensor values to colours: the value range a tensor is shown over and the colormapping.

The range is ``Tensor:value_range`` when logged, else Rerun's heuristic over the finite
values of the whole tensor (not just the slice, so moving a slider keeps the scale):
floats all within 0..1 -> 0..1; anything within 0..255 -> 0..255; a constant tensor ->
value +- 1; otherwise min..max. A value maps to ``t = clamp((v - lo) / (hi - lo), 0, 1)``,
then ``t ** gamma``, then the colormap (``viewer.scene.colors``); an empty range maps
everything to the colormap's start and NaN is transparent.
"""

from __future__ import annotations

import numpy as np

from viewer.scene.colors import COLORMAPS, colormap
from viewer.scene.images import shown_range

#: The colormap a tensor view starts with (Rerun's default for tensors).
DEFAULT_COLORMAP = "viridis"


def finite_range(array: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, None if there are none."""
    if array.size == 0:
        return None
    if array.dtype.kind == "f":
        lo, hi = array.min(), array.max()
        if np.isfinite(lo) and np.isfinite(hi):  # the common case: no copy of the finite part
            return float(lo), float(hi)
        finite = array[np.isfinite(array)]
        if finite.size == 0:
            return None
        return float(finite.min()), float(finite.max())
    return float(array.min()), float(array.max())


def _dtype_range(dtype: np.dtype) -> tuple[float, float]:
    if dtype.kind == "f":
        info = np.finfo(dtype)
        return float(info.min), float(info.max)
    iinfo = np.iinfo(dtype)
    return float(iinfo.min), float(iinfo.max)


def value_range(array: np.ndarray, logged: tuple[float, float] | None = None
                ) -> tuple[float, float]:
    """The (lo, hi) the tensor's colours span: the logged range, else the heuristic."""
    if logged is not None:
        return float(logged[0]), float(logged[1])
    found = finite_range(array)
    lo, hi = found if found is not None else _dtype_range(array.dtype)
    return shown_range(lo, hi, array.dtype.kind == "f")


def normalize(values: np.ndarray, lo: float, hi: float, gamma: float = 1.0) -> np.ndarray:
    """Values -> t in 0..1 (float64): linear over lo..hi, clamped, then ** gamma; NaN stays
    NaN (drawn transparent), +-inf clamp to the ends."""
    span = hi - lo
    t = (values.astype(np.float64) - lo) / (span if span > 0 else 1.0)
    t = np.clip(t, 0.0, 1.0)
    if gamma != 1.0:
        t = t ** gamma
    return t


def colormap_names() -> list[str]:
    """The colormaps a tensor can be shown with (canonical names, Rerun's enum order)."""
    return list(COLORMAPS.values())


def colormapped(values: np.ndarray, lo: float, hi: float, colormap_name: str = DEFAULT_COLORMAP,
                gamma: float = 1.0) -> np.ndarray:
    """A 2D slice -> (h, w, 4) uint8 RGBA, C-contiguous (ready for a QImage)."""
    rgba = colormap(colormap_name, normalize(values, lo, hi, gamma))
    return np.ascontiguousarray(rgba.reshape(values.shape + (4,)))
