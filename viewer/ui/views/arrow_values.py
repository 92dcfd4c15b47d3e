"""Arrow cells (the instances of one row) to numpy, the shapes the views draw.

A latest-at cell is a slice of a chunk's child array; ``flatten()`` respects the slice where
``.values`` would not, so every helper goes through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa

from viewer.store.chunk import TimelineKind
from viewer.store.entity_db import EntityDb, LatestAtResult
from viewer.store.entity_path import EntityPath

_NS = 1e9


def flat_values(cell: pa.Array) -> pa.Array:
    """The primitive values under a (fixed-size) list array, respecting offsets."""
    while pa.types.is_list(cell.type) or pa.types.is_large_list(cell.type) or \
            pa.types.is_fixed_size_list(cell.type):
        cell = cell.flatten()
    return cell


def positions(cell: pa.Array | None, dims: int) -> np.ndarray:
    """``list<fixed_size_list<float32>[dims]>`` cell -> (n, dims) float64."""
    if cell is None or len(cell) == 0:
        return np.empty((0, dims), dtype=np.float64)
    flat = flat_values(cell).to_numpy(zero_copy_only=False)
    n = len(cell)
    return np.asarray(flat, dtype=np.float64)[: n * dims].reshape(n, dims)


def colors_rgba(cell: pa.Array | None, n: int, default: tuple[int, int, int, int]) -> np.ndarray:
    """u32 0xRRGGBBAA cell -> (n, 4) uint8; one colour is repeated, missing ones default."""
    out = np.empty((n, 4), dtype=np.uint8)
    out[:] = default
    if cell is None or len(cell) == 0 or n == 0:
        return out
    packed = np.asarray(flat_values(cell).to_numpy(zero_copy_only=False))
    packed = np.nan_to_num(packed.astype(np.float64), nan=0).astype(np.uint32)
    rgba = np.stack([(packed >> 24) & 0xFF, (packed >> 16) & 0xFF, (packed >> 8) & 0xFF,
                     packed & 0xFF], axis=1).astype(np.uint8)
    if len(rgba) == 1:
        out[:] = rgba[0]
    else:
        m = min(n, len(rgba))
        out[:m] = rgba[:m]
    return out


def per_instance(cell: pa.Array | None, n: int, default: float) -> np.ndarray:
    """A float component (e.g. radii) broadcast Rerun-style: one value applies to all."""
    out = np.full(n, default, dtype=np.float64)
    if cell is None or len(cell) == 0 or n == 0:
        return out
    values = np.asarray(flat_values(cell).to_numpy(zero_copy_only=False), dtype=np.float64)
    values = np.where(np.isfinite(values), values, default)
    if len(values) == 1:
        out[:] = values[0]
    else:
        m = min(n, len(values))
        out[:m] = values[:m]
    return out


def strings(cell: pa.Array | None) -> list[str]:
    if cell is None:
        return []
    return [s if s is not None else "" for s in flat_values(cell).to_pylist()]


def time_to_x(times: np.ndarray, kind: TimelineKind | None) -> np.ndarray:
    """Timeline units to plot x: seconds for timestamps and durations, as-is for sequences."""
    if kind is TimelineKind.TIMESTAMP or kind is TimelineKind.DURATION:
        return times.astype(np.float64) / _NS
    return times.astype(np.float64)


def scalar_to_x(t: int, kind: TimelineKind | None) -> float:
    if kind is TimelineKind.TIMESTAMP or kind is TimelineKind.DURATION:
        return t / _NS
    return float(t)


def latest(db: EntityDb, entity: EntityPath, component: str, timeline: str | None,
           t: int | None) -> LatestAtResult | None:
    """Latest-at with no timeline or no time yet meaning "static data only"."""
    if timeline is None or t is None:
        return db.latest_static(entity, component)
    return db.latest_at(entity, component, timeline, t)


def row_key(result: LatestAtResult | None) -> tuple[bytes, int] | None:
    """Identifies the row a latest-at result came from: equal keys, equal values."""
    return None if result is None else (result.chunk.id, result.row)


PointsKey = tuple[object, object, object]


def latest_points(db: EntityDb, entity: EntityPath, archetype: str, dims: int,
                  timeline: str | None, t: int | None, shown: PointsKey | None,
                  default_rgba: tuple[int, int, int, int]
                  ) -> tuple[PointsKey, np.ndarray, np.ndarray, pa.Array | None] | None:
    """The point cloud of ``entity`` at the cursor, or None when its rows are ``shown``.

    Returns (key, positions (n, dims), rgba (n, 4) uint8, radii cell or None); the key
    identifies the three rows, so a view skips entities whose rows did not change.
    """
    pos, col, rad = (latest(db, entity, f"{archetype}:{field}", timeline, t)
                     for field in ("positions", "colors", "radii"))
    key = (row_key(pos), row_key(col), row_key(rad))
    if key == shown:
        return None
    xyz = positions(pos.value if pos else None, dims)
    rgba = colors_rgba(col.value if col else None, len(xyz), default_rgba)
    return key, xyz, rgba, (rad.value if rad else None)


def changed_point_clouds(db: EntityDb, entities: Iterable[EntityPath], archetype: str, dims: int,
                         timeline: str | None, t: int | None, shown: dict[EntityPath, PointsKey],
                         default_rgba: Callable[[EntityPath], tuple[int, int, int, int]]
                         ) -> Iterator[tuple[EntityPath, np.ndarray, np.ndarray, pa.Array | None]]:
    """The clouds of ``entities`` whose rows at the cursor differ from ``shown`` (updated)."""
    for entity in entities:
        cloud = latest_points(db, entity, archetype, dims, timeline, t, shown.get(entity),
                              default_rgba(entity))
        if cloud is not None:
            shown[entity], xyz, rgba, radii = cloud
            yield entity, xyz, rgba, radii
