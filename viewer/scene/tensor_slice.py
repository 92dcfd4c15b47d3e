"""Which 2D slice of an N-D tensor a tensor view shows, and cutting it out.

Rerun's tensor view draws one dimension along the width, one along the height and fixes
every other dimension at an index (a slider each). Defaults, as Rerun picks them:

- width / height by name first (``w``/``width``/``left``/``right`` and ``h``/``height``/
  ``up``/``down``, case-insensitive); a dimension named ``left`` (width) or ``up``
  (height) is drawn reversed;
- otherwise by length: the longest and second-longest dimensions, except that when those
  are the first two the numpy order ``[height, width, ...]`` is assumed;
- a one-dimensional tensor is one row (width = dimension 0);
- every other dimension starts at its middle index (``size // 2``).

A selection the user made is repaired against a new shape (the tensor at the cursor may
have changed) the same way: dimensions clamped, indices clamped, defaults filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

_WIDTH_NAMES = ("w", "width", "right", "left")
_HEIGHT_NAMES = ("h", "height", "up", "down")


@dataclass(frozen=True, slots=True)
class DimSelection:
    """A tensor dimension shown along one image axis; ``invert`` draws it reversed."""

    dim: int
    invert: bool = False


@dataclass(frozen=True, slots=True)
class SliceSelection:
    """Width and height dimensions and the fixed index of every other dimension."""

    width: DimSelection | None
    height: DimSelection | None
    indices: Mapping[int, int] = field(default_factory=dict)

    def slider_dims(self) -> list[int]:
        """The dimensions that get a slider, in dimension order."""
        return sorted(self.indices)


def _lower(name: str | None) -> str:
    return (name or "").lower()


def _longest_two(shape: Sequence[int]) -> tuple[int, int]:
    longest = second = 0
    for i, size in enumerate(shape):
        if size > shape[longest]:
            second, longest = longest, i
        elif size > shape[second]:
            second = i
    return (0, 1) if longest == second else (longest, second)


def default_width_height(shape: Sequence[int], names: Sequence[str | None]) -> tuple[int, int]:
    """(width dim, height dim) for a tensor of two or more dimensions."""
    if len(shape) < 2:
        raise ValueError("a width and a height need at least two dimensions")
    width = height = None
    for i in range(len(shape)):
        name = _lower(names[i] if i < len(names) else None)
        if name in _WIDTH_NAMES:
            width = i
        if name in _HEIGHT_NAMES:
            height = i
    if width is not None and height is not None:
        return width, height
    longest, second = _longest_two(shape)
    if width is not None:
        return width, second if width == longest else longest
    if height is not None:
        return (second if height == longest else longest), height
    if {longest, second} == {0, 1}:
        return 1, 0  # numpy order: [height, width, ...]
    return longest, second


def make_valid(shape: Sequence[int], names: Sequence[str | None],
               width: DimSelection | int | None = None,
               height: DimSelection | int | None = None,
               indices: Mapping[int, int] | None = None) -> SliceSelection:
    """A selection valid for ``shape``: out-of-range dimensions and indices are clamped,
    width and height never coincide (height gives way), missing parts get the defaults."""
    ndim = len(shape)
    w = DimSelection(width) if isinstance(width, int) else width
    h = DimSelection(height) if isinstance(height, int) else height
    if ndim == 0:
        return SliceSelection(None, None, {})
    top = ndim - 1
    if w is not None:
        w = DimSelection(min(max(w.dim, 0), top), w.invert)
    if h is not None:
        h = DimSelection(min(max(h.dim, 0), top), h.invert)
    if w is not None and h is not None and w.dim == h.dim:
        h = None
    if ndim >= 2 and (w is None or h is None):
        dw, dh = default_width_height(shape, names)
        if w is not None and dh == w.dim:
            dh = dw  # the default height is the chosen width: take the other default
        elif h is not None and dw == h.dim:
            dw = dh
        if w is None:
            w = DimSelection(dw, _lower(names[dw] if dw < len(names) else None) == "left")
        if h is None:
            h = DimSelection(dh, _lower(names[dh] if dh < len(names) else None) == "up")
    elif ndim == 1 and w is None and h is None:
        w = DimSelection(0)
    shown = {s.dim for s in (w, h) if s is not None}
    given = dict(indices or {})
    fixed = {}
    for dim in range(ndim):
        if dim in shown:
            continue
        size = int(shape[dim])
        index = given.get(dim, size // 2)
        fixed[dim] = min(max(int(index), 0), max(size - 1, 0))
    return SliceSelection(w, h, fixed)


def default_selection(shape: Sequence[int], names: Sequence[str | None]) -> SliceSelection:
    return make_valid(shape, names)


def slice_2d(array: np.ndarray, selection: SliceSelection) -> np.ndarray:
    """The (height, width) slice of ``array`` the selection shows (a view, no copy).

    A one-dimensional tensor gives one row (width only) or one column (height only)."""
    if array.ndim == 0:
        raise ValueError("a tensor with no dimensions has no 2D slice")
    index: list[object] = [slice(None)] * array.ndim
    for dim, i in selection.indices.items():
        index[dim] = int(i)
    cut = array[tuple(index)]
    # The remaining axes are width and height in dimension order.
    w, h = selection.width, selection.height
    if w is not None and h is not None:
        out = cut if h.dim < w.dim else cut.T
    elif w is not None:
        out = cut.reshape(1, -1)
    elif h is not None:
        out = cut.reshape(-1, 1)
    else:
        raise ValueError("the selection shows no dimension")
    if h is not None and h.invert:
        out = out[::-1, :]
    if w is not None and w.invert:
        out = out[:, ::-1]
    return out


def tensor_index(selection: SliceSelection, shape: Sequence[int], row: int,
                 col: int) -> tuple[int, ...]:
    """The full tensor index of pixel (``row``, ``col``) of the drawn slice (reversed axes
    already applied), for hover read-outs."""
    idx = [0] * len(shape)
    for dim, i in selection.indices.items():
        idx[dim] = int(i)
    w, h = selection.width, selection.height
    if w is not None:
        size = int(shape[w.dim])
        idx[w.dim] = size - 1 - col if w.invert else col
    if h is not None:
        size = int(shape[h.dim])
        idx[h.dim] = size - 1 - row if h.invert else row
    return tuple(idx)
