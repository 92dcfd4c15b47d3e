"""Image, EncodedImage, DepthImage and SegmentationImage as `ImageLayer`s.

In a 2D view a layer sits at pixel (0, 0) of its entity's space (``EntityDraw.transform``
places it). In a 3D view an image inside a pinhole's space is also lifted onto the
camera's image plane as a coarse grid of coloured triangles (at most 64 x 64 cells), so
the 3D view shows what the camera sees; an encoded image is decoded by the UI, so it gets
no grid here. The grid keeps the image's draw order: images of one camera lie on the same
plane, and the 3D renderer layers them by it, as the 2D view does (a segmentation image
over the RGB image). A depth image under a pinhole becomes a point cloud instead, as in Rerun:
each pixel back-projected to its depth along the camera's rays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene import colors
from viewer.scene.draw import EntityDraw, ImageLayer, PointBatch, TriangleBatch
from viewer.scene.images import (
    ImageFormat,
    buffer_bytes,
    colormapped_rgba,
    decode_values,
    values_to_rgba,
)
from viewer.scene.visualizers._common import (
    VisualizerError,
    cell,
    draw_order,
    mono,
    place_2d,
    vectors,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Image", "EncodedImage", "DepthImage", "SegmentationImage")
#: Rerun's draw orders for image kinds (higher draws on top).
DRAW_ORDER = {"Image": -10.0, "EncodedImage": -10.0, "DepthImage": -20.0,
              "SegmentationImage": 0.0}
DEFAULT_DEPTH_COLORMAP = 5  # Turbo
SEGMENTATION_OPACITY = 0.5
GRID_CELLS = 64  # at most this many cells along each side of a lifted image


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    layer = {"Image": _image, "EncodedImage": _encoded, "DepthImage": _depth,
             "SegmentationImage": _segmentation}[arch](ctx, entity, arch)
    if layer is None:
        return
    layer.draw_order = draw_order(ctx, entity, arch, DRAW_ORDER[arch])
    out.images.append(layer)
    out.instances += 1
    if ctx.dims != 3 or layer.rgba is None:
        return
    if arch == "DepthImage" and layer.values is not None:
        cloud = depth_cloud(ctx, entity, layer.values, layer.rgba)
        if cloud is not None:
            out.points.append(cloud)
            return
    grid = image_grid(ctx, entity, arch, layer.rgba, layer.opacity)
    grid.draw_order = layer.draw_order  # the 3D renderer layers same-plane images by it
    out.triangles.append(grid)


def _raw(ctx: VisualizerContext, entity: EntityPath, arch: str) -> np.ndarray | None:
    buf = cell(ctx, entity, f"{arch}:buffer")
    if buf is None:
        return None
    fmt_cell = cell(ctx, entity, f"{arch}:format")
    if fmt_cell is None:
        raise VisualizerError(f"{arch} has a buffer but no format")
    return decode_values(buffer_bytes(buf), ImageFormat.from_cell(fmt_cell))


def _opacity(ctx: VisualizerContext, entity: EntityPath, arch: str, default: float) -> float:
    return float(np.clip(float(mono(cell(ctx, entity, f"{arch}:opacity"), default)), 0.0, 1.0))


def _image(ctx: VisualizerContext, entity: EntityPath, arch: str) -> ImageLayer | None:
    values = _raw(ctx, entity, arch)
    if values is None:
        return None
    return ImageLayer(entity, arch, values_to_rgba(values), values=values,
                      opacity=_opacity(ctx, entity, arch, 1.0))


def guess_media_type(blob: bytes) -> str | None:
    """The media type from a blob's magic bytes (PNG, JPEG, GIF, BMP, WebP, TIFF)."""
    if blob.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if blob.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if blob.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if blob.startswith(b"BM"):
        return "image/bmp"
    if blob[:4] == b"RIFF" and blob[8:12] == b"WEBP":
        return "image/webp"
    if blob.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _encoded(ctx: VisualizerContext, entity: EntityPath, arch: str) -> ImageLayer | None:
    blob_cell = cell(ctx, entity, f"{arch}:blob")
    if blob_cell is None:
        return None
    blob = buffer_bytes(blob_cell).tobytes()
    media_type = mono(cell(ctx, entity, f"{arch}:media_type"), None) or guess_media_type(blob)
    return ImageLayer(entity, arch, None, encoded=blob, media_type=media_type,
                      opacity=_opacity(ctx, entity, arch, 1.0))


def _depth(ctx: VisualizerContext, entity: EntityPath, arch: str) -> ImageLayer | None:
    raw = _raw(ctx, entity, arch)
    if raw is None:
        return None
    if raw.ndim != 2:
        raise VisualizerError(f"a depth image has one channel, got {raw.shape[2]}")
    is_float = raw.dtype.kind == "f"
    meter = float(mono(cell(ctx, entity, f"{arch}:meter"), 1.0 if is_float else 1000.0))
    cmap = mono(cell(ctx, entity, f"{arch}:colormap"), DEFAULT_DEPTH_COLORMAP)
    rng = cell(ctx, entity, f"{arch}:depth_range")
    if rng is not None:
        lo, hi = (float(v) for v in rng[0].as_py())
    else:
        lo, hi = default_depth_range(raw)
    rgba = colormapped_rgba(raw, lo, hi, lambda t: colors.colormap(cmap, t).reshape(
        *t.shape, 4))
    metres = raw.astype(np.float32) / np.float32(meter if meter else 1.0)
    return ImageLayer(entity, arch, rgba, values=metres, meter=meter,
                      opacity=_opacity(ctx, entity, arch, 1.0))


def default_depth_range(raw: np.ndarray) -> tuple[float, float]:
    """Rerun's default: 0 up to the largest finite depth (depth starts at zero); data with
    no positive value falls back to its own min..max."""
    finite = raw[np.isfinite(raw)] if raw.dtype.kind == "f" else raw
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi > 0:
        return 0.0, hi
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _segmentation(ctx: VisualizerContext, entity: EntityPath, arch: str) -> ImageLayer | None:
    ids = _raw(ctx, entity, arch)
    if ids is None:
        return None
    if ids.ndim != 2:
        raise VisualizerError(f"a segmentation image has one channel, got {ids.shape[2]}")
    if ids.dtype.kind == "f":
        ids = np.nan_to_num(ids).astype(np.int64)
    ann = ctx.annotations_for(entity)
    rgba = ann.colors_for_classes(ids.reshape(-1)).reshape(*ids.shape, 4)
    labels = {}
    for c in np.unique(ids).tolist():
        label = ann.class_label(int(c))
        if label is not None:
            labels[int(c)] = label
    return ImageLayer(entity, arch, rgba, values=ids, class_labels=labels,
                      opacity=_opacity(ctx, entity, arch, SEGMENTATION_OPACITY))


def image_grid(ctx: VisualizerContext, entity: EntityPath, arch: str, rgba: np.ndarray,
               opacity: float) -> TriangleBatch:
    """The image lifted through the entity's transform (and instance poses), as a grid."""
    corners, tris, colors_ = grid_cells(rgba, opacity)
    verts = place_2d(ctx, corners)
    k = len(verts) // len(corners)
    tris = np.concatenate([tris + i * len(corners) for i in range(k)])
    return TriangleBatch(entity, arch, verts, tris, np.tile(colors_, (k, 1)))


def grid_cells(rgba: np.ndarray, opacity: float = 1.0,
               cells: int = GRID_CELLS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image as at most ``cells`` x ``cells`` flat-coloured quads (two triangles each):
    (4 * q, 2) corner pixels, (2 * q, 3) triangles, (4 * q, 4) RGBA per corner (the pixel
    at the cell's centre, alpha times ``opacity``). Public so a caller that decodes an
    encoded image can lift it the same way."""
    h, w = rgba.shape[:2]
    xs = np.linspace(0.0, w, min(w, cells) + 1)
    ys = np.linspace(0.0, h, min(h, cells) + 1)
    x0, y0 = np.meshgrid(xs[:-1], ys[:-1])
    x1, y1 = np.meshgrid(xs[1:], ys[1:])
    corners = np.stack([np.stack([x0, y0], -1), np.stack([x1, y0], -1),
                        np.stack([x1, y1], -1), np.stack([x0, y1], -1)], axis=2)  # (gy,gx,4,2)
    quads = corners.shape[0] * corners.shape[1]
    base = (np.arange(quads) * 4)[:, None]
    tris = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]], axis=1).reshape(-1, 3)
    cy = np.minimum(((ys[:-1] + ys[1:]) / 2).astype(np.int64), h - 1)
    cx = np.minimum(((xs[:-1] + xs[1:]) / 2).astype(np.int64), w - 1)
    cell_rgba = rgba[cy[:, None], cx[None, :]].reshape(quads, 4).copy()
    cell_rgba[:, 3] = (cell_rgba[:, 3].astype(np.float32) * opacity).astype(np.uint8)
    return corners.reshape(-1, 2), tris.astype(np.int64), np.repeat(cell_rgba, 4, axis=0)


def depth_cloud(ctx: VisualizerContext, entity: EntityPath, metres: np.ndarray,
                rgba: np.ndarray) -> PointBatch | None:
    """Every pixel with a positive depth back-projected through its pinhole, in the
    origin's coordinates; point radius = fill ratio x the pixel's footprint at its depth.

    The entity's transform maps pixels onto the image plane; the camera centre is that
    plane's principal point moved back by the plane distance (camera poses are rigid, so
    the plane distance in the origin is the pixel size there times the focal length)."""
    pin = ctx.transform.image_space
    if pin is None:
        return None
    k_cell = vectors(cell(ctx, pin, "Pinhole:image_from_camera"), 9)
    if k_cell is None:
        return None
    k = k_cell[0].reshape(3, 3).T  # stored column-major
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    m = np.asarray(ctx.transform.origin_from_entity, np.float64)
    pixel_step = np.linalg.norm(m[:3, 0])
    forward = m[:3, 2] / max(np.linalg.norm(m[:3, 2]), 1e-300)
    distance = pixel_step * fx
    if not (np.isfinite(distance) and distance > 0 and fy > 0):
        return None
    centre = m[:3, :3] @ (cx, cy, 0.0) + m[:3, 3] - distance * forward
    h, w = metres.shape
    v, u = np.nonzero(np.isfinite(metres) & (metres > 0))
    depth = metres[v, u].astype(np.float64)
    pix = np.stack([u + 0.5, v + 0.5, np.zeros(len(u))], axis=1)
    on_plane = pix @ m[:3, :3].T + m[:3, 3]
    positions = centre + (on_plane - centre) * (depth / distance)[:, None]
    fill = float(mono(cell(ctx, entity, "DepthImage:point_fill_ratio"), 1.0))
    return PointBatch(entity, "DepthImage", positions, rgba[v, u], fill * depth / fy)
