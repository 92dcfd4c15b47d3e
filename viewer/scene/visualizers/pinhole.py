"""Pinhole: the camera frustum in 3D views. Lines from the camera centre to the four
image corners on the plane at ``image_plane_distance``, that plane's rectangle, and a
small triangle above the image's top edge showing which way is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import EntityDraw, LineBatch
from viewer.scene.images import ImageDecodeError, ImageFormat
from viewer.scene.visualizers._common import (
    VisualizerError,
    apply,
    cell,
    mono,
    scalars,
    unpack_rgba,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Pinhole",)
FRUSTUM_COLOR = (128, 128, 128, 255)
FRUSTUM_RADIUS = -1.0  # UI points

#: Where each ViewCoordinates letter points, in RDF coordinates.
_DIRECTIONS = {"R": (1, 0, 0), "L": (-1, 0, 0), "D": (0, 1, 0), "U": (0, -1, 0),
               "F": (0, 0, 1), "B": (0, 0, -1)}


def camera_from_rdf(camera_xyz: str) -> np.ndarray:
    """3x3 taking RDF coordinates to the camera's own axis convention (e.g. "RUB")."""
    return np.array([_DIRECTIONS[c] for c in camera_xyz.upper()], np.float64)


def frustum_segments(image_from_camera: np.ndarray, width: float, height: float,
                     distance: float, camera_xyz: str = "RDF") -> np.ndarray:
    """(10, 2, 3) segments in camera coordinates: 4 rays, 4 rectangle edges, 2 up-marker."""
    inv = np.linalg.inv(image_from_camera)

    def unproject(u: float, v: float) -> np.ndarray:
        ray = inv @ np.array([u, v, 1.0])
        return ray / ray[2] * distance

    corners = [unproject(0, 0), unproject(0, height), unproject(width, height),
               unproject(width, 0)]
    up = [unproject(0.4 * width, 0), unproject(0.5 * width, -0.1 * width),
          unproject(0.6 * width, 0)]
    zero = np.zeros(3)
    segs = [(zero, c) for c in corners]
    segs += [(corners[i], corners[(i + 1) % 4]) for i in range(4)]
    segs += [(up[0], up[1]), (up[1], up[2])]
    out = np.array(segs, np.float64)
    return out @ camera_from_rdf(camera_xyz).T


def _resolution(ctx: VisualizerContext, entity: EntityPath) -> tuple[float, float]:
    info = ctx.transform.pinhole
    if info is not None and info.resolution is not None:
        return float(info.resolution[0]), float(info.resolution[1])
    # no resolution: the size of an image logged at the same path, as Rerun does
    for arch in ("Image", "DepthImage", "SegmentationImage"):
        fmt = cell(ctx, entity, f"{arch}:format")
        if fmt is not None:
            try:
                f = ImageFormat.from_cell(fmt)
            except ImageDecodeError:
                continue
            return float(f.width), float(f.height)
    raise VisualizerError("pinhole has no resolution and no image at its path")


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    """Only in 3D views that see the camera from outside (not from its image space)."""
    info = ctx.transform.pinhole
    camera = getattr(ctx.transform, "origin_from_camera", None)
    if info is None or camera is None or ctx.dims != 3:
        return
    w, h = _resolution(ctx, entity)
    if not (np.isfinite(w) and np.isfinite(h) and w > 0 and h > 0):
        raise VisualizerError(f"invalid pinhole resolution {w}x{h}")
    local = frustum_segments(np.asarray(info.image_from_camera, np.float64), w, h,
                             float(info.image_plane_distance), info.camera_xyz or "RDF")
    packed = scalars(cell(ctx, entity, "Pinhole:color"), np.uint32)
    color = FRUSTUM_COLOR if packed is None else tuple(int(c) for c in unpack_rgba(packed)[0])
    radius = float(mono(cell(ctx, entity, "Pinhole:line_width"), FRUSTUM_RADIUS))
    segs = apply(np.asarray(camera, np.float64), local.reshape(-1, 3)).reshape(-1, 2, 3)
    out.lines.append(LineBatch(entity, "Pinhole", segs,
                               np.tile(np.array(color, np.uint8), (len(segs), 1)),
                               np.full(len(segs), radius)))
    out.instances += 1
