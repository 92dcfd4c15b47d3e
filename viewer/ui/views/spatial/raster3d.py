"""A numpy software rasterizer for 3D scenes: the same pixels in a window and offscreen.

OpenGL renders nothing under ``QT_QPA_PLATFORM=offscreen`` (docs/benchmarks/spatial.md), and
tests and ``--screenshot`` run there, so the 3D view draws with numpy instead.

Every primitive becomes *fragments*: a pixel index and a 64-bit key whose high word grows
with depth (the bit pattern of ``1/z``, inverted) and whose low word names what is drawn
(a point, a line segment or a triangle fragment). One ``np.minimum.at`` per batch keeps the
nearest key of every pixel: a depth buffer, a colour buffer and an entity-id buffer at once,
with no sort. Wide points and lines are drawn as one fragment at their centre, then the key
image of all fragments of one pixel radius is eroded with a disc (a running minimum over
rows, then columns): a disc per fragment at the fragment's depth for a cost that depends on
the image, not on the number of points (``raster_buffer``). Triangles (``raster_triangles``):
small ones rasterized many at once in grids of candidate pixels, big ones by scanlines, lit
by a headlight; see-through ones (alpha < 255) are blended over the finished opaque image.
Images lifted onto one camera's image plane are layered by draw order: a small depth bias
per draw-order rank brings the upper one in front (a segmentation over the RGB image).
Points and lines are opaque (their alpha is ignored).

Radii follow Rerun: positive in scene units (pixels by depth), negative in UI points.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from viewer.scene.draw import Scene
from viewer.store.entity_path import EntityPath
from viewer.ui.views.spatial.raster_buffer import EMPTY, LOW_WORD, KeyBuffer, transform
from viewer.ui.views.spatial.raster_triangles import (
    UNLIT_ARCHETYPES,
    SeeThrough,
    TriangleArrays,
    batch_arrays,
    blend_see_through,
    draw_opaque,
    triangle_arrays,
)

__all__ = ["EMPTY", "Frame", "PreparedScene", "decimated", "prepare", "project_labels",
           "render"]

#: Widest disc radius in pixels (bigger points and lines are drawn this wide).
MAX_RADIUS_PX = 48
#: Packed 0xAARRGGBB background (the layout of ``QImage.Format_RGB32``).
BACKGROUND = 0xFF181A1E
#: Images lifted onto a camera's image plane (as triangle grids).
IMAGE_ARCHETYPES = UNLIT_ARCHETYPES
#: Depth bias of an image grid per draw-order rank (1/z scaled by 1 + rank * this): the
#: images of one plane are layered by draw order (a segmentation image over the RGB
#: image) with no visible shift (a ten-thousandth of the distance per rank).
IMAGE_LAYER_BIAS = 1e-4
#: Segment sample counts are rounded up to one of these (fewer shapes to broadcast).
_SAMPLE_BUCKETS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96,
                            128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536,
                            2048, 2560, 3072, 4096, 6144, 8192])


class Camera(Protocol):
    """What the renderer needs of a camera (``OrbitCamera`` has it)."""

    def eye(self) -> np.ndarray: ...

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...  # right, up, forward

    def focal_px(self, height: int) -> float: ...


def pack_rgb32(rgba: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 -> opaque 0xFFRRGGBB uint32."""
    c = np.asarray(rgba, dtype=np.uint32).reshape(-1, 4)
    return (0xFF000000 | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).astype(np.uint32)


def px_radius(radius: np.ndarray | float) -> np.ndarray:
    """Whole-pixel disc radius k for a radius in pixels: the disc is 2k+1 pixels wide, the
    nearest odd width to the diameter (a radius under 1 px is one pixel: thin lines stay
    visible)."""
    r = np.floor(np.asarray(radius, dtype=np.float32))
    return np.clip(r, 0, MAX_RADIUS_PX).astype(np.int32)


# ---------------------------------------------------------------------------------- prepare


@dataclass(slots=True)
class PreparedScene:
    """A Scene as flat float32 arrays, relative to ``center`` (float32 keeps precision for
    recordings far from the origin). Built once per scene, rendered once per camera move."""

    scene: Scene
    bounds: tuple[np.ndarray, np.ndarray] | None  # (lo, hi) of every drawn position
    center: np.ndarray  # (3,) float64
    radius: float  # half the bounds' diagonal (>= a tiny positive value)
    entities: list[EntityPath]
    # points: homogeneous (4, n) positions, packed colours, radii, entity index, keys
    p_xyz: np.ndarray
    p_radius: np.ndarray
    p_ui_radius: float | None  # every point has this negative radius (the common case)
    p_keys: np.ndarray  # (n,) uint64: low word = point index, high word written per frame
    # line segments: (4, m) starts and ends
    l_ab: np.ndarray  # (4, 2m): the m starts, then the m ends
    l_radius: np.ndarray
    l_ui_radius: float | None
    l_ids: np.ndarray  # (m,) uint32 row of each segment in the colour and entity tables
    # triangles: the opaque ones (depth-tested) and the see-through ones (blended over)
    opaque: TriangleArrays
    see_through: TriangleArrays
    point_slots: int  # rows of the tables below that are points (all n, even when decimated)
    colors: np.ndarray  # (n + m,) packed colours of points then segments
    entity_of: np.ndarray  # (n + m,) int32 entity index of points then segments
    labels: list[tuple[np.ndarray, str, tuple[int, int, int, int]]] = field(default_factory=list)
    #: See-through closed shapes drawn by their front faces only, at the opacity of front
    #: and back together (a preview: about half the work, a slightly different shading).
    silhouette: bool = False
    _color_table: np.ndarray | None = None
    _entity_table: np.ndarray | None = None

    @property
    def color_table(self) -> np.ndarray:
        """``colors`` and the background (a frame without triangles indexes this)."""
        if self._color_table is None:
            self._color_table = np.append(self.colors, np.uint32(BACKGROUND))
            self._entity_table = np.append(self.entity_of, np.int32(-1)).astype(np.int32)
        return self._color_table

    @property
    def entity_table(self) -> np.ndarray:
        self.color_table  # noqa: B018 (builds both)
        return self._entity_table

    @property
    def n_points(self) -> int:
        return self.p_xyz.shape[1]

    @property
    def n_segments(self) -> int:
        return self.l_ab.shape[1] // 2

    @property
    def n_triangles(self) -> int:
        return len(self.opaque) + len(self.see_through)

    def entity_bounds(self, entity: EntityPath) -> tuple[np.ndarray, np.ndarray] | None:
        """(lo, hi) in scene coordinates of what ``entity`` draws."""
        ed = self.scene.entities.get(entity)
        if ed is None:
            return None
        parts = [b.positions[:, :3] for b in ed.points]
        parts += [b.segments.reshape(-1, 3) for b in ed.lines]
        parts += [b.vertices[:, :3] for b in ed.triangles]
        parts += [lab.position[None, :3] for lab in ed.labels]
        pts = np.concatenate(parts) if parts else np.empty((0, 3))
        pts = pts[np.isfinite(pts).all(axis=1)]
        if not len(pts):
            return None
        return pts.min(axis=0), pts.max(axis=0)


def _homogeneous(cols: np.ndarray, center: np.ndarray) -> np.ndarray:
    """(3, n) float64 positions -> (4, n) float32 relative to ``center``, last row 1."""
    out = np.ones((4, cols.shape[1]), dtype=np.float32)
    np.subtract(cols, center[:, None], out=out[:3], casting="same_kind")
    return out


def _columns(xyz: np.ndarray) -> np.ndarray:
    """(n, 3) -> contiguous (3, n) float64: reductions along rows are fast."""
    return np.ascontiguousarray(np.asarray(xyz, dtype=np.float64).T)


def _bounds(cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(lo, hi) of the finite coordinates of (3, n) column blocks (NaN and inf skipped per
    coordinate); None when there is none. Much faster than ``Scene.bounds`` on a
    million points (row-wise reductions of (n, 3) arrays)."""
    cols = [c for c in cols if c.shape[1]]
    if not cols:
        return None
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce([np.fmin.reduce(c, axis=1) for c in cols])
        hi = np.fmax.reduce([np.fmax.reduce(c, axis=1) for c in cols])
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # an inf somewhere: slow path
        finite = [np.where(np.isfinite(c), c, np.nan) for c in cols]
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduce([np.fmin.reduce(c, axis=1) for c in finite])
            hi = np.fmax.reduce([np.fmax.reduce(c, axis=1) for c in finite])
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            return None
    return lo, hi


def _common_ui_radius(radii: np.ndarray) -> float | None:
    if len(radii) and radii[0] < 0 and (radii == radii[0]).all():
        return float(radii[0])
    return None


def prepare(scene: Scene) -> PreparedScene:
    """Flatten ``scene`` (dims 3) into the arrays ``render`` reads."""
    entities = list(scene.entities)
    p_pos, p_col, p_rad, p_ent = [], [], [], []
    l_seg, l_col, l_rad, l_ent = [], [], [], []
    tris: list[dict[str, np.ndarray]] = []
    labels = []
    image_rank = _image_ranks(scene)
    for ei, ed in enumerate(scene.entities.values()):
        for b in ed.points:
            n = len(b.positions)
            p_pos.append(np.asarray(b.positions, dtype=np.float64)[:, :3])
            p_col.append(pack_rgb32(b.colors))
            p_rad.append(np.broadcast_to(np.asarray(b.radii, np.float32), (n,)))
            p_ent.append(np.full(n, ei, np.int32))
        for b in ed.lines:
            m = len(b.segments)
            l_seg.append(np.asarray(b.segments, dtype=np.float64)[:, :, :3])
            l_col.append(pack_rgb32(b.colors))
            l_rad.append(np.broadcast_to(np.asarray(b.radii, np.float32), (m,)))
            l_ent.append(np.full(m, ei, np.int32))
        for b in ed.triangles:
            rank = image_rank.get(float(b.draw_order), 0) if b.archetype in IMAGE_ARCHETYPES \
                else 0
            tris.append(batch_arrays(b, ei, rank * IMAGE_LAYER_BIAS))
        for lab in ed.labels:
            labels.append((np.asarray(lab.position, np.float64)[:3], lab.text, lab.color))

    def cat(parts: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(shape, dtype)

    pos = cat(p_pos, (0, 3), np.float64)
    seg = cat(l_seg, (0, 2, 3), np.float64)
    p_cols = _columns(pos)
    l_cols = _columns(np.concatenate([seg[:, 0], seg[:, 1]]))
    t_cols = [t["corners"][k] for t in tris for k in range(3)]
    bounds = _bounds([p_cols, l_cols, *t_cols])
    if bounds is None:
        center, radius = np.zeros(3), 1.0
    else:
        lo, hi = bounds
        center, radius = (lo + hi) / 2.0, max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-6)
    n = len(pos)
    p_keys = np.zeros(n, np.uint64)
    p_keys.view(np.uint32).reshape(n, 2)[:, 0] = np.arange(n, dtype=np.uint32)
    p_radius = cat(p_rad, (0,), np.float32)
    l_radius = cat(l_rad, (0,), np.float32)
    return PreparedScene(
        scene=scene, bounds=bounds, center=center, radius=radius, entities=entities,
        p_xyz=_homogeneous(p_cols, center), p_radius=p_radius,
        p_ui_radius=_common_ui_radius(p_radius), p_keys=p_keys,
        l_ab=_homogeneous(l_cols, center),
        l_radius=l_radius, l_ui_radius=_common_ui_radius(l_radius),
        l_ids=np.arange(n, n + len(seg), dtype=np.uint32),
        opaque=triangle_arrays([_part(t, t["alpha"] >= 1.0) for t in tris], center),
        see_through=triangle_arrays([_part(t, t["alpha"] < 1.0) for t in tris], center),
        point_slots=n,
        colors=np.concatenate([cat(p_col, (0,), np.uint32), cat(l_col, (0,), np.uint32)]),
        entity_of=np.concatenate([cat(p_ent, (0,), np.int32), cat(l_ent, (0,), np.int32)]),
        labels=labels,
    )


def _image_ranks(scene: Scene) -> dict[float, int]:
    """Draw order -> rank (0 = lowest) among the image grids of ``scene``: the images of
    one camera lie on one plane, and a higher rank is drawn over a lower one."""
    orders = {float(b.draw_order) for ed in scene.entities.values() for b in ed.triangles
              if b.archetype in IMAGE_ARCHETYPES}
    return {order: rank for rank, order in enumerate(sorted(orders))}


def _part(arrays: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    if keep.all():
        return arrays
    return {k: v[..., keep] for k, v in arrays.items()}


#: ``decimated`` keeps every segment of an entity with at most this many.
KEEP_SEGMENTS = 10_000
#: ``decimated`` keeps the see-through fill of an entity with at most this many triangles
#: (1 000 default-fill boxes; scripts/bench_spatial.py --box-fill transparent).
KEEP_SEE_THROUGH = 12_000


def decimated(prepared: PreparedScene, stride: int, segment_stride: int = 1
              ) -> PreparedScene:
    """The same scene with one point in ``stride`` and one line segment in
    ``segment_stride`` of the entities with more than ``KEEP_SEGMENTS`` (a preview while
    the camera moves: a small entity keeps its shape); see-through closed shapes are drawn
    by their silhouette, and not at all for entities with more than ``KEEP_SEE_THROUGH``
    see-through triangles; triangles, labels and the colour and entity tables are shared, so
    what is drawn keeps its colour and entity."""
    keep = np.arange(0, prepared.n_points, max(int(stride), 1))
    m = prepared.n_segments
    entity = prepared.entity_of[prepared.l_ids]
    big = np.bincount(entity, minlength=len(prepared.entities))[entity] > KEEP_SEGMENTS
    seg = np.flatnonzero(~big | (np.arange(m) % max(int(segment_stride), 1) == 0))
    see_through = prepared.see_through
    if len(see_through):
        # The see-through fill of entities with many shapes (10 000 default-fill boxes:
        # 120 000 triangles, most of a preview's time) waits for the full frame; their
        # wireframe still shows where they are while the camera moves.
        many = np.bincount(see_through.entity, minlength=len(prepared.entities))
        kept = np.flatnonzero(many[see_through.entity] <= KEEP_SEE_THROUGH)
        if len(kept) < len(see_through):
            see_through = see_through.subset(kept)
    return replace(prepared, see_through=see_through,
                   p_xyz=np.ascontiguousarray(prepared.p_xyz[:, keep]),
                   p_radius=np.ascontiguousarray(prepared.p_radius[keep]),
                   p_keys=prepared.p_keys[keep].copy(),
                   l_ab=np.ascontiguousarray(prepared.l_ab[:, np.concatenate([seg, m + seg])]),
                   l_radius=np.ascontiguousarray(prepared.l_radius[seg]),
                   l_ids=np.ascontiguousarray(prepared.l_ids[seg]), silhouette=True)


# ---------------------------------------------------------------------------------- render


@dataclass(slots=True)
class Frame:
    """One rendered image plus what is under every pixel."""

    width: int
    height: int
    rgb32: np.ndarray  # (h, w) uint32 0xFFRRGGBB, C-contiguous (QImage.Format_RGB32)
    keys: np.ndarray  # (h, w) uint64: nearest opaque fragment per pixel (EMPTY: nothing)
    entity_table: np.ndarray  # low word of a key -> entity index (-1: background)
    entities: list[EntityPath]
    #: The see-through fragments in front of the opaque surface (None: none shows).
    see_through: SeeThrough | None = None
    #: CPU seconds of each stage on the rendering thread (thread time: unlike wall time, not
    #: inflated by waiting for a core on a busy machine).
    timings: dict[str, float] = field(default_factory=dict)
    _overlay: np.ndarray | None = None

    @property
    def overlay(self) -> np.ndarray | None:
        """Nearest see-through surface in front of the opaque one: (h, w) uint64, the low
        word is the entity index itself (None: no see-through surface in this frame).
        Worked out on first use (picking), not for every frame drawn."""
        if self._overlay is None and self.see_through is not None:
            self._overlay = self.see_through.nearest()
        return self._overlay

    def depth_order(self) -> np.ndarray:
        """(h, w) uint32 that grows with depth (0xFFFFFFFF: empty), for tests."""
        return (self.keys >> np.uint64(32)).astype(np.uint32)

    def entity_ids(self) -> np.ndarray:
        """(h, w) int32 index into ``entities`` of what each pixel shows, -1 for none."""
        return self._ids(self.keys, self.overlay)

    def _ids(self, keys: np.ndarray, overlay: np.ndarray | None) -> np.ndarray:
        low = np.minimum(keys & LOW_WORD, len(self.entity_table) - 1).astype(np.intp)
        ids = self.entity_table[low]
        if overlay is not None:
            nearer = overlay < keys
            ids[nearer] = (overlay[nearer] & LOW_WORD).astype(np.int32)
        return ids

    def entity_at(self, x: float, y: float, reach: int = 3) -> EntityPath | None:
        """The entity drawn at pixel (x, y), or the nearest one within ``reach`` pixels."""
        xi, yi = int(math.floor(x)), int(math.floor(y))
        x0, x1 = max(xi - reach, 0), min(xi + reach + 1, self.width)
        y0, y1 = max(yi - reach, 0), min(yi + reach + 1, self.height)
        if x0 >= x1 or y0 >= y1:
            return None
        over = None if self.overlay is None else self.overlay[y0:y1, x0:x1]
        ids = self._ids(self.keys[y0:y1, x0:x1], over)
        yy, xx = np.nonzero(ids >= 0)
        if not len(yy):
            return None
        d2 = (xx + x0 - xi) ** 2 + (yy + y0 - yi) ** 2
        k = int(np.argmin(d2))
        return self.entities[int(ids[yy[k], xx[k]])]


def _view_matrix(prepared: PreparedScene, camera: Camera, height: int
                 ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(3, 4) float32 matrix from homogeneous prepared coordinates to (f*x, -f*y, z) camera
    coordinates (x right, y up, z forward): pixel = (row0 / z + cx, row1 / z + cy). Also
    the eye (prepared coordinates), f and the view direction."""
    right, up, forward = (np.asarray(v, np.float64) for v in camera.basis())
    eye = np.asarray(camera.eye(), np.float64) - prepared.center
    f = float(camera.focal_px(height))
    rot = np.stack([right * f, -up * f, forward])  # screen y grows downwards
    m = np.empty((3, 4))
    m[:, :3] = rot
    m[:, 3] = -rot @ eye
    return m.astype(np.float32), eye, f, forward


def render(prepared: PreparedScene, camera: Camera, width: int, height: int, *,
           px_per_point: float = 1.0, background: int = BACKGROUND) -> Frame:
    """Rasterize ``prepared`` as seen by ``camera`` into a ``width`` x ``height`` frame."""
    # Non-finite positions and points on the eye's plane give NaN/inf on the way; they are
    # rejected as off-screen, so the floating-point warnings say nothing.
    with np.errstate(all="ignore"):
        return _render(prepared, camera, width, height, px_per_point, background)


def _render(prepared: PreparedScene, camera: Camera, width: int, height: int,
            px_per_point: float, background: int) -> Frame:
    width, height = max(int(width), 1), max(int(height), 1)
    timings: dict[str, float] = {}
    t0 = time.thread_time()
    m, eye, f, forward = _view_matrix(prepared, camera, height)
    near = _near(prepared)
    pad = _max_disc_radius(prepared, px_per_point, f)
    target = KeyBuffer(width, height, pad)
    cx, cy = width / 2.0 + pad, height / 2.0 + pad
    if prepared.n_points:
        _draw_points(prepared, target, m, near, cx, cy, f, px_per_point)
    t1 = time.thread_time()
    timings["points"] = t1 - t0
    if prepared.n_segments:
        _draw_lines(prepared, target, m, near, cx, cy, f, px_per_point)
    t2 = time.thread_time()
    timings["lines"] = t2 - t1
    opaque = None
    if len(prepared.opaque):
        opaque = draw_opaque(prepared.opaque, target, m, eye, forward, near, cx, cy,
                             prepared.point_slots + prepared.n_segments)
    t3 = time.thread_time()
    timings["triangles"] = t3 - t2
    keys = np.ascontiguousarray(target.finish())
    t4 = time.thread_time()
    timings["discs"] = t4 - t3
    if opaque is not None or background != BACKGROUND:
        tri_colors = opaque.colors if opaque is not None else np.empty(0, np.uint32)
        tri_entity = opaque.entity if opaque is not None else np.empty(0, np.int32)
        color_table = np.concatenate([prepared.colors, tri_colors,
                                      np.array([background], np.uint32)])
        entity_table = np.concatenate([prepared.entity_of, tri_entity,
                                       np.array([-1], np.int32)])
    else:
        color_table, entity_table = prepared.color_table, prepared.entity_table
    low = np.minimum(keys.view(np.uint32).reshape(height, width, 2)[:, :, 0],
                     np.uint32(len(color_table) - 1))
    rgb32 = color_table[low]
    if opaque is not None:
        opaque.shade(low, rgb32, pad)
    t5 = time.thread_time()
    timings["resolve"] = t5 - t4
    see_through = None
    if len(prepared.see_through):
        see_through = blend_see_through(prepared.see_through, target, m, eye, forward, near,
                                    cx, cy, rgb32, silhouette=prepared.silhouette)
    timings["see_through"] = time.thread_time() - t5
    timings["total"] = time.thread_time() - t0
    return Frame(width, height, rgb32, keys, entity_table, prepared.entities,
                 see_through=see_through, timings=timings)


def _near(prepared: PreparedScene) -> np.float32:
    """The near plane's distance: small enough for a camera focused on one point of the
    scene, large enough to keep 1 / z finite in float32."""
    return np.float32(prepared.radius * 1e-6)


def _max_disc_radius(prepared: PreparedScene, px_per_point: float, f: float) -> int:
    """The widest disc this frame may draw: the buffers' padding."""
    widest = 0.0
    for radii, ui in ((prepared.p_radius, prepared.p_ui_radius),
                      (prepared.l_radius, prepared.l_ui_radius)):
        if not len(radii):
            continue
        if ui is not None:
            widest = max(widest, -ui * px_per_point)
        else:
            # Scene-unit radii can be any size on screen: pad for the widest allowed.
            widest = max(widest, float(-radii.min()) * px_per_point
                         if (radii < 0).all() else MAX_RADIUS_PX)
    return int(px_radius(widest))


def _radius_px(radii: np.ndarray, ui: float | None, iz: np.ndarray | None, f: float,
               px_per_point: float) -> np.ndarray | int:
    """Whole-pixel disc radius per primitive (an int when they all share one)."""
    if ui is not None:
        return int(px_radius(-ui * px_per_point))
    scale = np.where(radii < 0, np.float32(-px_per_point), np.float32(f) * iz)
    return px_radius(radii * scale)


def _scatter(target: KeyBuffer, r: np.ndarray | int, pix: np.ndarray, keys: np.ndarray) -> None:
    """Keep the nearest key per pixel, in the buffer of each fragment's disc radius."""
    if isinstance(r, int):
        np.minimum.at(target.buffer(r), pix, keys)
        return
    counts = np.bincount(r, minlength=1)
    for radius in np.flatnonzero(counts).tolist():
        sel = r == radius
        np.minimum.at(target.buffer(radius), pix[sel], keys[sel])


def _pixels(sx: np.ndarray, sy: np.ndarray, target: KeyBuffer) -> np.ndarray:
    """Flat int32 pixel index of screen positions; outside (or NaN) -> the sentinel slot.
    (Truncation puts (-1, 0) in column 0: a sub-pixel error at the padded border.)"""
    with np.errstate(invalid="ignore"):
        ix = sx.astype(np.int32)
        iy = sy.astype(np.int32)
    outside = ix.view(np.uint32) >= target.wb
    outside |= iy.view(np.uint32) >= target.hb
    iy *= np.int32(target.wb)
    iy += ix
    np.copyto(iy, np.int32(target.sentinel), where=outside)
    return iy


def _draw_points(prepared: PreparedScene, target: KeyBuffer, m: np.ndarray, near: np.float32,
                 cx: float, cy: float, f: float, px_per_point: float) -> None:
    cam = transform(m, prepared.p_xyz)  # (3, n): f*x, -f*y, z
    z = cam[2]
    iz = np.divide(np.float32(1.0), z)
    np.copyto(iz, np.float32(np.nan), where=z <= near)  # behind the camera: rejected below
    sx = cam[0]
    sx *= iz
    sx += np.float32(cx)
    sy = cam[1]
    sy *= iz
    sy += np.float32(cy)
    pix = _pixels(sx, sy, target)
    keys = prepared.p_keys
    np.invert(iz.view(np.uint32), out=keys.view(np.uint32).reshape(-1, 2)[:, 1])
    r = _radius_px(prepared.p_radius, prepared.p_ui_radius, iz, f, px_per_point)
    if not isinstance(r, int):
        r = np.where(np.isnan(iz), 0, r)
    _scatter(target, r, pix, keys)


def _clip_to_rect(xa, ya, xb, yb, w: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Liang-Barsky: the parameter range [t0, t1] of each segment inside [0, w) x [0, h)
    (t0 > t1: none of it)."""
    dx, dy = xb - xa, yb - ya
    t0 = np.zeros_like(xa)
    t1 = np.ones_like(xa)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, xa), (dx, np.float32(w) - xa), (-dy, ya), (dy, np.float32(h) - ya)):
            t = q / p
            t0 = np.where(p < 0, np.maximum(t0, t), t0)
            t1 = np.where(p > 0, np.minimum(t1, t), t1)
            t1[(p == 0) & (q < 0)] = -1.0
    return t0, t1


def _bucket_lut() -> np.ndarray:
    steps = np.arange(int(_SAMPLE_BUCKETS[-1]) + 1)
    return np.searchsorted(_SAMPLE_BUCKETS, steps).astype(np.uint8)


_BUCKET_OF_STEPS = _bucket_lut()


def _draw_lines(prepared: PreparedScene, target: KeyBuffer, m: np.ndarray, near: np.float32,
                cx: float, cy: float, f: float, px_per_point: float) -> None:
    n_seg = prepared.n_segments
    ab = transform(m, prepared.l_ab)  # (3, 2m): starts then ends
    a, b = ab[:, :n_seg], ab[:, n_seg:]
    za, zb = a[2], b[2]
    seg_id = None  # index of each kept segment (None: all, in order)
    behind_a, behind_b = za <= near, zb <= near
    if behind_a.any() or behind_b.any():
        # Clip at the near plane: move the end behind it onto it; drop wholly behind ones.
        keep = np.flatnonzero(~(behind_a & behind_b))
        a, b, behind_a, behind_b = a[:, keep], b[:, keep], behind_a[keep], behind_b[keep]
        seg_id = keep
        with np.errstate(divide="ignore", invalid="ignore"):
            for p, q, behind in ((a, b, behind_a), (b, a, behind_b)):
                if behind.any():
                    t = (near - p[2, behind]) / (q[2, behind] - p[2, behind])
                    p[:, behind] += (q[:, behind] - p[:, behind]) * t
    iza, izb = np.float32(1.0) / a[2], np.float32(1.0) / b[2]
    xa, ya = a[0] * iza + np.float32(cx), a[1] * iza + np.float32(cy)
    xb, yb = b[0] * izb + np.float32(cx), b[1] * izb + np.float32(cy)
    if prepared.l_ui_radius is not None:
        r: np.ndarray | int = int(px_radius(-prepared.l_ui_radius * px_per_point))
    else:
        radii = prepared.l_radius if seg_id is None else prepared.l_radius[seg_id]
        r = _radius_px(radii, None, (iza + izb) / 2, f, px_per_point)
    # Only the part inside the buffer is sampled; most segments are wholly inside.
    # (A margin keeps every sample of a clipped segment inside: no bounds check per sample.)
    w, h = target.wb - 0.01, target.hb - 0.01
    out = ~((xa >= 0) & (xa < w) & (ya >= 0) & (ya < h)
            & (xb >= 0) & (xb < w) & (yb >= 0) & (yb < h))
    cut = np.flatnonzero(out)
    if len(cut):
        t0, t1 = _clip_to_rect(xa[cut], ya[cut], xb[cut], yb[cut], w, h)
        dx, dy, diz = xb[cut] - xa[cut], yb[cut] - ya[cut], izb[cut] - iza[cut]
        x0c, y0c, iz0c = xa[cut] + dx * t0, ya[cut] + dy * t0, iza[cut] + diz * t0
        xb[cut], yb[cut], izb[cut] = xa[cut] + dx * t1, ya[cut] + dy * t1, iza[cut] + diz * t1
        xa[cut], ya[cut], iza[cut] = x0c, y0c, iz0c
        vis = ~out
        vis[cut] = t0 <= t1
        vis = np.flatnonzero(vis)
        xa, ya, iza, xb, yb, izb = (v[vis] for v in (xa, ya, iza, xb, yb, izb))
        seg_id = vis if seg_id is None else seg_id[vis]
        if not isinstance(r, int):
            r = r[vis]
    if not len(xa):
        return
    seg_id = prepared.l_ids if seg_id is None else prepared.l_ids[seg_id]
    # One sample per pixel step along the longer axis, rounded up to a bucket size: each
    # (disc radius, bucket) group is one (samples, segments) grid, broadcast without
    # per-fragment gathers, scattered with one radius.
    steps = np.maximum(np.abs(xb - xa), np.abs(yb - ya))
    np.minimum(steps, np.float32(len(_BUCKET_OF_STEPS) - 2), out=steps)
    nb = len(_SAMPLE_BUCKETS)
    group = _BUCKET_OF_STEPS[np.ceil(steps).astype(np.int32) + 1].astype(np.uint16)
    if not isinstance(r, int):
        group += r.astype(np.uint16) * np.uint16(nb)
    order = np.argsort(group, kind="stable")  # radix sort of 16-bit keys
    counts = np.bincount(group)
    start = 0
    for gi in np.flatnonzero(counts).tolist():
        sel = order[start:start + counts[gi]]
        start += int(counts[gi])
        radius, bi = (r, gi) if isinstance(r, int) else divmod(gi, nb)
        n = int(_SAMPLE_BUCKETS[bi])
        t = (np.arange(n, dtype=np.float32) / np.float32(max(n - 1, 1)))[:, None]
        x0, y0, iz0 = xa[sel], ya[sel], iza[sel]
        sx = x0 + (xb[sel] - x0) * t  # (n, k): n samples along each of k segments
        sy = y0 + (yb[sel] - y0) * t
        izs = iz0 + (izb[sel] - iz0) * t
        iy = sy.astype(np.int32)
        iy *= np.int32(target.wb)
        iy += sx.astype(np.int32)
        keys = np.empty(sx.shape + (2,), np.uint32)
        keys[:, :, 0] = seg_id[sel]
        np.invert(izs.view(np.uint32), out=keys[:, :, 1])
        np.minimum.at(target.buffer(radius), iy.reshape(-1), keys.view(np.uint64).reshape(-1))


def project_labels(prepared: PreparedScene, camera: Camera, width: int, height: int,
                   limit: int = 200, margin: float = 0.0
                   ) -> list[tuple[float, float, str, tuple[int, int, int, int]]]:
    """(x, y, text, colour) of the labels whose anchor is in front of the camera and on
    screen or at most ``margin`` pixels outside (a label hangs under its anchor, so one
    just above the top edge still shows): at most ``limit``, the first ones, ordered
    farthest first so the nearest is painted on top."""
    if not prepared.labels:
        return []
    m, _eye, _f, _fwd = _view_matrix(prepared, camera, height)
    pos = _homogeneous(_columns(np.stack([p for p, _, _ in prepared.labels])), prepared.center)
    cam = m.astype(np.float64) @ pos
    kept: list[tuple[float, float, float, str, tuple[int, int, int, int]]] = []
    for i in np.flatnonzero(cam[2] > _near(prepared)).tolist():
        x = width / 2.0 + cam[0, i] / cam[2, i]
        y = height / 2.0 + cam[1, i] / cam[2, i]
        if -margin <= x < width + margin and -margin <= y < height + margin:
            _, text, color = prepared.labels[i]
            kept.append((float(cam[2, i]), x, y, text, color))
            if len(kept) >= limit:
                break
    kept.sort(key=lambda k: -k[0])
    return [(x, y, text, color) for _, x, y, text, color in kept]
