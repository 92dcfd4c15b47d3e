"""The bars of a ``BarChart`` entity at a time cursor, as Rerun 0.41 lays them out.

``BarChart:values`` is a TensorData that must be a vector (at most one dimension longer
than 1; anything else is not drawn). Bar ``i`` spans ``abscissa[i] .. abscissa[i] +
widths[i]`` on x and ``0 .. values[i]`` on y. Without ``BarChart:abscissa`` the abscissa is
``0, 1, .. n-1``; without ``BarChart:widths`` every width is 1, and a shorter widths list
repeats its last value. When abscissa and values differ in length, the shorter one sets
the number of bars. ``BarChart:color`` is one colour for all bars; without it the bars take
the entity's default colour (``colors.entity_color``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.scene.colors import RGBA, entity_color
from viewer.scene.query import LatestAt
from viewer.scene.tensor_data import TensorDataError, tensor_from_cell
from viewer.store.entity_path import EntityPath

VALUES = "BarChart:values"
COLOR = "BarChart:color"
ABSCISSA = "BarChart:abscissa"
WIDTHS = "BarChart:widths"
COMPONENTS = (VALUES, COLOR, ABSCISSA, WIDTHS)


@dataclass(slots=True)
class Bars:
    """Bars of one entity: left edges, widths and heights (float64, same length)."""

    entity: EntityPath
    left: np.ndarray
    widths: np.ndarray
    values: np.ndarray
    color: tuple[int, int, int, int] | None
    key: tuple[object, ...]

    @property
    def centers(self) -> np.ndarray:
        return self.left + 0.5 * self.widths

    def __len__(self) -> int:
        return len(self.values)

    @property
    def fill_color(self) -> RGBA:
        """The colour the bars are drawn in: logged, else the entity's default colour."""
        return self.color if self.color is not None else entity_color(self.entity)


def _unpack_rgba(packed: int) -> tuple[int, int, int, int]:
    return ((packed >> 24) & 0xFF, (packed >> 16) & 0xFF, (packed >> 8) & 0xFF, packed & 0xFF)


def _flat_floats(cell: pa.Array) -> np.ndarray:
    while pa.types.is_list(cell.type) or pa.types.is_fixed_size_list(cell.type):
        cell = cell.flatten()
    return np.asarray(cell.to_numpy(zero_copy_only=False), dtype=np.float64)


def _vector(cell: pa.Array | None) -> np.ndarray | None:
    if cell is None or len(cell) == 0:
        return None
    tensor = tensor_from_cell(cell)
    if not tensor.is_vector():
        return None
    return tensor.array.reshape(-1).astype(np.float64)


def bars_at(query: LatestAt, entity: EntityPath) -> Bars | None:
    """The bars of ``entity`` at the query's cursor (Clear honoured); None when it has no
    vector to draw. Raises TensorDataError for a cell that is not a readable TensorData."""
    values_res = query.result(entity, VALUES)
    if values_res is None:
        return None
    values = _vector(values_res.value)
    if values is None:
        return None
    abscissa_res = query.result(entity, ABSCISSA)
    try:
        abscissa = _vector(abscissa_res.value) if abscissa_res is not None else None
    except TensorDataError:
        abscissa = None
    if abscissa is None:
        abscissa = np.arange(len(values), dtype=np.float64)
    n = min(len(values), len(abscissa))
    widths_res = query.result(entity, WIDTHS)
    logged_widths = _flat_floats(widths_res.value) if widths_res is not None else np.empty(0)
    widths = np.ones(n, dtype=np.float64)
    if len(logged_widths):
        m = min(n, len(logged_widths))
        widths[:m] = logged_widths[:m]
        widths[m:] = logged_widths[-1]
    color_res = query.result(entity, COLOR)
    color = None
    if color_res is not None and len(color_res.value) and color_res.value[0].is_valid:
        color = _unpack_rgba(int(color_res.value[0].as_py()))
    key = tuple(None if r is None else (int(r.row_id.time_ns), int(r.row_id.inc))
                for r in (values_res, abscissa_res, widths_res, color_res))
    return Bars(entity, abscissa[:n], widths, values[:n], color, key)
