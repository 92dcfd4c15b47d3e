"""What a Map view draws at the time cursor: GeoPoints and GeoLineStrings in degrees.

Rerun stores positions as (latitude, longitude) pairs; here they become x = longitude,
y = latitude. Radii follow Rerun: negative is in UI points, positive in metres on the
ground; the defaults are 5 UI points for points and 2 for lines. Entities without colours
get one derived from their path (stable across runs).

Without map tiles the view draws on plain longitude/latitude axes and keeps distances
true near the data: one degree of longitude is ``cos(latitude)`` as long as one of
latitude there (``lon_per_lat_aspect``), the local equirectangular projection.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from viewer.scene.query import LatestAt, result_index
from viewer.store.entity_path import EntityPath

POINT_POSITIONS = "GeoPoints:positions"
POINT_RADII = "GeoPoints:radii"
POINT_COLORS = "GeoPoints:colors"
LINE_STRINGS = "GeoLineStrings:line_strings"
LINE_RADII = "GeoLineStrings:radii"
LINE_COLORS = "GeoLineStrings:colors"
COMPONENTS = (POINT_POSITIONS, POINT_RADII, POINT_COLORS, LINE_STRINGS, LINE_RADII,
              LINE_COLORS)

DEFAULT_POINT_RADIUS = -5.0
DEFAULT_LINE_RADIUS = -2.0
#: Metres per degree of latitude (mean; what a metre radius is scaled by).
METRES_PER_DEGREE = 111_320.0
#: Readable on a dark background; an entity keeps its colour across runs (path hash).
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (127, 127, 127),
]


def entity_color(entity: EntityPath) -> tuple[int, int, int, int]:
    return (*PALETTE[zlib.crc32(str(entity).encode()) % len(PALETTE)], 255)


@dataclass(slots=True)
class GeoLine:
    entity: EntityPath
    lon_lat: np.ndarray  # (k, 2) x = longitude, y = latitude
    color: tuple[int, int, int, int]
    radius: float  # Rerun convention


@dataclass(slots=True)
class GeoScene:
    lon_lat: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # points
    colors: np.ndarray = field(default_factory=lambda: np.empty((0, 4), np.uint8))
    radii: np.ndarray = field(default_factory=lambda: np.empty(0))  # Rerun convention
    lines: list[GeoLine] = field(default_factory=list)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(lon_min, lat_min, lon_max, lat_max) of everything drawn, None when empty."""
        parts = [self.lon_lat] + [line.lon_lat for line in self.lines]
        allp = np.concatenate([p for p in parts if len(p)]) if any(len(p) for p in parts) \
            else np.empty((0, 2))
        allp = allp[np.isfinite(allp).all(axis=1)]
        if not len(allp):
            return None
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def lon_per_lat_aspect(latitude: float) -> float:
    """Screen length of a degree of longitude over one of latitude at ``latitude``."""
    return max(0.01, math.cos(math.radians(max(-89.0, min(89.0, latitude)))))


def radius_pixels(radii: np.ndarray, pixels_per_lat_degree: float) -> np.ndarray:
    """Rerun radii to pixels: UI points as they are, metres through the map scale."""
    return np.where(radii < 0, -radii, radii / METRES_PER_DEGREE * pixels_per_lat_degree)


def _values(cell: pa.Array | None) -> np.ndarray:
    while cell is not None and (pa.types.is_list(cell.type) or pa.types.is_large_list(cell.type)
                                or pa.types.is_fixed_size_list(cell.type)):
        cell = cell.flatten()
    if cell is None:
        return np.empty(0)
    return np.asarray(cell.to_numpy(zero_copy_only=False), dtype=np.float64)


def _clamped(values: np.ndarray, n: int, default: float) -> np.ndarray:
    """Rerun's clamping: a shorter list repeats its last value, an empty one the default."""
    if len(values) == 0:
        return np.full(n, default)
    if len(values) >= n:
        return values[:n]
    return np.concatenate([values, np.full(n - len(values), values[-1])])


def _rgba(packed: np.ndarray, n: int, default: tuple[int, int, int, int]) -> np.ndarray:
    p = _clamped(packed, n, np.nan)
    out = np.empty((n, 4), dtype=np.uint8)
    out[:] = default
    ok = np.isfinite(p)
    q = p[ok].astype(np.uint32)
    out[ok] = np.stack([(q >> 24) & 0xFF, (q >> 16) & 0xFF, (q >> 8) & 0xFF, q & 0xFF],
                       axis=1).astype(np.uint8)
    return out


def rows_key(query: LatestAt, entities: list[EntityPath]) -> tuple:
    """Identifies the rows the scene is built from: equal keys, equal scenes."""
    out = []
    for entity in entities:
        for comp in COMPONENTS:
            res = query.result(entity, comp)
            out.append(None if res is None else result_index(res))
    return tuple(out)


def collect_geo(query: LatestAt, entities: list[EntityPath]) -> GeoScene:
    """Points and line strings of ``entities`` at the cursor (Clear honoured)."""
    pts, cols, rads = [], [], []
    lines: list[GeoLine] = []
    for entity in entities:
        default = entity_color(entity)
        latlon = _values(query.cell(entity, POINT_POSITIONS)).reshape(-1, 2)
        if len(latlon):
            n = len(latlon)
            pts.append(latlon[:, ::-1])
            cols.append(_rgba(_values(query.cell(entity, POINT_COLORS)), n, default))
            rads.append(_clamped(_values(query.cell(entity, POINT_RADII)), n,
                                 DEFAULT_POINT_RADIUS))
        strips = query.cell(entity, LINE_STRINGS)
        if strips is not None and len(strips):
            strips = strips.flatten() if pa.types.is_list(strips.type) and \
                pa.types.is_list(strips.type.value_type) else strips
            n = len(strips)
            colors = _rgba(_values(query.cell(entity, LINE_COLORS)), n, default)
            radii = _clamped(_values(query.cell(entity, LINE_RADII)), n, DEFAULT_LINE_RADIUS)
            for i in range(n):
                latlon = _values(strips[i:i + 1]).reshape(-1, 2)
                if len(latlon) >= 2:
                    lines.append(GeoLine(entity, latlon[:, ::-1].copy(),
                                         tuple(int(c) for c in colors[i]), float(radii[i])))
    if pts:
        return GeoScene(np.concatenate(pts), np.concatenate(cols), np.concatenate(rads), lines)
    return GeoScene(lines=lines)
