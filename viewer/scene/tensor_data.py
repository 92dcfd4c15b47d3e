"""Rerun's ``TensorData`` struct (``Tensor:data``, ``BarChart:values``) to a numpy array.

A TensorData cell is ``struct<shape: list<u64>, names: list<str>, buffer: dense_union<U8..F64>>``:
the buffer holds the elements row-major in one of eleven numeric element types. The array
returned keeps that element type and is a view of the Arrow buffer (no copy), shaped as
logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.scene.query import LatestAt
from viewer.store.entity_db import LatestAtResult
from viewer.store.entity_path import EntityPath


class TensorDataError(ValueError):
    """The cell is not a TensorData this viewer can read (names the reason)."""


@dataclass(frozen=True, slots=True)
class TensorValue:
    """One tensor: its elements (logged element type and shape) and its dimension names."""

    array: np.ndarray
    names: tuple[str | None, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    def is_vector(self) -> bool:
        """At most one dimension longer than 1 (what a bar chart can draw)."""
        return len(self.shape) > 0 and sum(1 for n in self.shape if n > 1) <= 1


def _buffer_values(buffer: pa.UnionArray, row: int) -> pa.Array:
    """The element array a dense-union buffer row points to."""
    scalar = buffer[row]
    if not scalar.is_valid or scalar.value is None or not scalar.value.is_valid:
        raise TensorDataError("tensor buffer is null")
    values = scalar.value.values
    if values is None:
        raise TensorDataError("tensor buffer is null")
    return values


def tensor_from_cell(cell: pa.Array, row: int = 0) -> TensorValue:
    """The tensor in instance ``row`` of a TensorData cell (a latest-at value)."""
    if not isinstance(cell, pa.StructArray):
        raise TensorDataError(f"expected a TensorData struct, got {cell.type}")
    if row >= len(cell) or not cell[row].is_valid:
        raise TensorDataError("no tensor in this row")
    fields = {f.name for f in cell.type}
    if not {"shape", "buffer"} <= fields:
        raise TensorDataError(f"TensorData without shape or buffer: {cell.type}")
    shape_scalar = cell.field("shape")[row]
    shape: tuple[int, ...] = ()
    if shape_scalar.is_valid:
        shape = tuple(int(n) for n in shape_scalar.values.to_numpy(zero_copy_only=False))
    names: tuple[str | None, ...] = (None,) * len(shape)
    names_scalar = cell.field("names")[row] if "names" in fields else None
    if names_scalar is not None and names_scalar.is_valid:
        logged = names_scalar.values.to_pylist()
        names = tuple(logged[i] if i < len(logged) else None for i in range(len(shape)))
    flat = _buffer_values(cell.field("buffer"), row).to_numpy(zero_copy_only=False)
    expected = int(np.prod(shape, dtype=np.int64))
    if len(flat) != expected:
        raise TensorDataError(f"tensor of shape {list(shape)} needs {expected} elements, "
                              f"its buffer has {len(flat)}")
    return TensorValue(flat.reshape(shape), names)


TENSOR_DATA = "Tensor:data"
TENSOR_VALUE_RANGE = "Tensor:value_range"


@dataclass(frozen=True, slots=True)
class TensorAt:
    """The tensor of an entity at a time cursor, with its logged value range if any.

    ``key`` identifies the rows it came from: an unchanged key means an unchanged tensor."""

    tensor: TensorValue
    logged_range: tuple[float, float] | None
    key: tuple[object, ...]


def _row_key(result: LatestAtResult | None) -> tuple[int, int] | None:
    return None if result is None else (int(result.row_id.time_ns), int(result.row_id.inc))


def tensor_at(query: LatestAt, entity: EntityPath,
              previous: TensorAt | None = None) -> TensorAt | None:
    """``Tensor:data`` (and ``Tensor:value_range``) of ``entity`` at the query's cursor,
    Clear honoured; None when there is none. ``previous`` is returned as is when it came
    from the same rows (no decoding). Raises TensorDataError for a bad cell."""
    data = query.result(entity, TENSOR_DATA)
    if data is None or len(data.value) == 0:
        return None
    rng = query.result(entity, TENSOR_VALUE_RANGE)
    key = (_row_key(data), _row_key(rng))
    if previous is not None and previous.key == key:
        return previous
    tensor = tensor_from_cell(data.value)
    logged = None
    if rng is not None and len(rng.value) and rng.value[0].is_valid:
        lo, hi = rng.value[0].as_py()
        logged = (float(lo), float(hi))
    return TensorAt(tensor, logged, key)
