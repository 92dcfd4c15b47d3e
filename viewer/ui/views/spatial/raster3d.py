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
the image, not on the number of points. Triangles are filled by scanlines and lit by a
headlight; see-through ones (alpha < 255) are blended over the finished opaque image.
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

#: The key of a pixel nothing covers.
EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
#: Widest disc radius in pixels (bigger points and lines are drawn this wide).
MAX_RADIUS_PX = 48
#: Packed 0xAARRGGBB background (the layout of ``QImage.Format_RGB32``).
BACKGROUND = 0xFF181A1E
#: Lighting of triangles: ambient part + headlight (Lambert, two-sided) part.
AMBIENT = 0.3
DIFFUSE = 0.7
#: Triangles of these archetypes keep their colours (an image lifted into 3D is not lit).
UNLIT_ARCHETYPES = frozenset({"Image", "EncodedImage", "DepthImage", "SegmentationImage"})
#: Segment sample counts are rounded up to one of these (fewer shapes to broadcast).
_SAMPLE_BUCKETS = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96,
                            128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536,
                            2048, 2560, 3072, 4096, 6144, 8192])
_U32 = np.uint64(0xFFFF_FFFF)
#: Barycentric slack of the inside test of triangles.
_EDGE_EPS = np.float32(1e-4)


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
    # triangles, one row per corner k: (3, 4, t) positions, (3, t, 3) rgb 0..1, normals
    t_xyz: np.ndarray
    t_rgb: np.ndarray
    t_normal: np.ndarray
    t_entity: np.ndarray  # (t,) int32
    t_alpha: np.ndarray  # (t,) float32 opacity 0..1 (1: opaque; below: blended over)
    t_unlit: np.ndarray  # (t,) bool: drawn in its own colours (images lifted into 3D)
    point_slots: int  # rows of the tables below that are points (all n, even when decimated)
    colors: np.ndarray  # (n + m,) packed colours of points then segments
    entity_of: np.ndarray  # (n + m,) int32 entity index of points then segments
    labels: list[tuple[np.ndarray, str, tuple[int, int, int, int]]] = field(default_factory=list)
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
        return self.t_entity.shape[0]

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
    t_pos, t_rgb, t_nrm, t_ent, t_alp, t_unl = [], [], [], [], [], []
    labels = []
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
            tri = np.asarray(b.triangles, dtype=np.int64).reshape(-1, 3)
            verts = np.asarray(b.vertices, dtype=np.float64)[:, :3]
            ok = ((tri >= 0) & (tri < len(verts))).all(axis=1)
            tri = tri[ok]
            corners = verts[tri]  # (t, 3, 3)
            face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
            if b.normals is not None and len(b.normals) == len(verts):
                normals = np.asarray(b.normals, dtype=np.float64)[tri]
            else:
                normals = np.repeat(face[:, None, :], 3, axis=1)
            norm = np.linalg.norm(normals, axis=2, keepdims=True)
            normals = np.divide(normals, norm, out=np.zeros_like(normals), where=norm > 0)
            t_pos.append(corners)
            rgba = np.asarray(b.colors, dtype=np.float32)[tri] / 255.0  # (t, 3, 4)
            t_rgb.append(rgba[:, :, :3])
            t_alp.append(rgba[:, :, 3].mean(axis=1))
            t_unl.append(np.full(len(tri), b.archetype in UNLIT_ARCHETYPES))
            t_nrm.append(normals)
            t_ent.append(np.full(len(tri), ei, np.int32))
        for lab in ed.labels:
            labels.append((np.asarray(lab.position, np.float64)[:3], lab.text, lab.color))

    def cat(parts: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(shape, dtype)

    pos = cat(p_pos, (0, 3), np.float64)
    seg = cat(l_seg, (0, 2, 3), np.float64)
    corners = cat(t_pos, (0, 3, 3), np.float64)
    p_cols = _columns(pos)
    l_cols = _columns(np.concatenate([seg[:, 0], seg[:, 1]]))
    t_cols = [_columns(corners[:, k]) for k in range(3)]
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
        t_xyz=np.stack([_homogeneous(c, center) for c in t_cols]),
        t_rgb=np.ascontiguousarray(cat(t_rgb, (0, 3, 3), np.float32).transpose(1, 0, 2)),
        t_normal=np.ascontiguousarray(cat(t_nrm, (0, 3, 3), np.float32).transpose(1, 0, 2)),
        t_entity=cat(t_ent, (0,), np.int32),
        t_alpha=cat(t_alp, (0,), np.float32),
        t_unlit=cat(t_unl, (0,), np.bool_),
        point_slots=n,
        colors=np.concatenate([cat(p_col, (0,), np.uint32), cat(l_col, (0,), np.uint32)]),
        entity_of=np.concatenate([cat(p_ent, (0,), np.int32), cat(l_ent, (0,), np.int32)]),
        labels=labels,
    )


#: ``decimated`` keeps every segment of an entity with at most this many.
KEEP_SEGMENTS = 10_000


def decimated(prepared: PreparedScene, stride: int, segment_stride: int = 1
              ) -> PreparedScene:
    """The same scene with one point in ``stride`` and one line segment in
    ``segment_stride`` of the entities with more than ``KEEP_SEGMENTS`` (a preview while
    the camera moves: a small entity keeps its shape); triangles, labels and the colour
    and entity tables are shared, so what is drawn keeps its colour and entity."""
    keep = np.arange(0, prepared.n_points, max(int(stride), 1))
    m = prepared.n_segments
    entity = prepared.entity_of[prepared.l_ids]
    big = np.bincount(entity, minlength=len(prepared.entities))[entity] > KEEP_SEGMENTS
    seg = np.flatnonzero(~big | (np.arange(m) % max(int(segment_stride), 1) == 0))
    return replace(prepared, p_xyz=np.ascontiguousarray(prepared.p_xyz[:, keep]),
                   p_radius=np.ascontiguousarray(prepared.p_radius[keep]),
                   p_keys=prepared.p_keys[keep].copy(),
                   l_ab=np.ascontiguousarray(prepared.l_ab[:, np.concatenate([seg, m + seg])]),
                   l_radius=np.ascontiguousarray(prepared.l_radius[seg]),
                   l_ids=np.ascontiguousarray(prepared.l_ids[seg]))


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
    #: Nearest see-through surface in front of the opaque one: (h, w) uint64, the low word
    #: is the entity index itself (None: no see-through surface in this frame).
    overlay: np.ndarray | None = None
    #: CPU seconds of each stage on the rendering thread (thread time: unlike wall time, not
    #: inflated by waiting for a core on a busy machine).
    timings: dict[str, float] = field(default_factory=dict)

    def depth_order(self) -> np.ndarray:
        """(h, w) uint32 that grows with depth (0xFFFFFFFF: empty), for tests."""
        return (self.keys >> np.uint64(32)).astype(np.uint32)

    def entity_ids(self) -> np.ndarray:
        """(h, w) int32 index into ``entities`` of what each pixel shows, -1 for none."""
        return self._ids(self.keys, self.overlay)

    def _ids(self, keys: np.ndarray, overlay: np.ndarray | None) -> np.ndarray:
        low = np.minimum(keys & _U32, len(self.entity_table) - 1).astype(np.intp)
        ids = self.entity_table[low]
        if overlay is not None:
            nearer = overlay < keys
            ids[nearer] = (overlay[nearer] & _U32).astype(np.int32)
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


class _Target:
    """The key buffer of one frame: a padded image (discs near the border are drawn whole)
    plus one spare slot at the end that swallows every rejected fragment."""

    def __init__(self, width: int, height: int, pad: int) -> None:
        self.w, self.h, self.pad = width, height, pad
        self.wb, self.hb = width + 2 * pad, height + 2 * pad
        self.sentinel = self.wb * self.hb
        self.base = np.full(self.sentinel + 1, EMPTY, np.uint64)
        # Fragments of discs of radius r > 0, drawn as their centres then eroded.
        self.groups: dict[int, np.ndarray] = {}

    def buffer(self, r: int) -> np.ndarray:
        if r <= 0:
            return self.base
        buf = self.groups.get(r)
        if buf is None:
            buf = self.groups[r] = np.full(self.sentinel + 1, EMPTY, np.uint64)
        return buf

    def image(self, buf: np.ndarray) -> np.ndarray:
        return buf[:-1].reshape(self.hb, self.wb)

    def finish(self) -> np.ndarray:
        """Erode every disc group into the base image; returns the visible (h, w) keys."""
        base = self.image(self.base)
        for r, buf in sorted(self.groups.items()):
            _erode_disc_into(self.image(buf), r, base)
        o = self.pad
        return base[o:o + self.h, o:o + self.w]


def _disc_half_widths(r: int) -> np.ndarray:
    """Half width of each row dy = -r..r of the pixel disc of radius r."""
    dy = np.arange(-r, r + 1)
    return np.floor(np.sqrt(np.maximum((r + 0.5) ** 2 - dy * dy, 0.0))).astype(int)


def _erode_disc_into(img: np.ndarray, r: int, out: np.ndarray) -> None:
    """out = min(out, min of img over a disc of radius r around each pixel), only over the
    rows and columns img uses (plus r)."""
    rows = np.flatnonzero((img != EMPTY).any(axis=1))
    if not len(rows):
        return
    cols = np.flatnonzero((img[rows[0]:rows[-1] + 1] != EMPTY).any(axis=0))
    y0, y1 = max(rows[0] - r, 0), min(rows[-1] + r + 1, img.shape[0])
    x0, x1 = max(cols[0] - r, 0), min(cols[-1] + r + 1, img.shape[1])
    src = img[y0:y1, x0:x1]
    dst = out[y0:y1, x0:x1]
    hh = src.shape[0]
    half = _disc_half_widths(r)
    # Running horizontal minimum of growing width 2k+1; rows whose half width is k take it.
    cur = src
    for k in range(0, int(half.max()) + 1):
        if k > 0:
            nxt = np.empty_like(cur)
            nxt[:, 0] = EMPTY
            nxt[:, 1:] = cur[:, :-1]
            np.minimum(nxt[:, :-1], cur[:, 1:], out=nxt[:, :-1])
            if k == 1:
                np.minimum(nxt, cur, out=nxt)
            cur = nxt
        for i in np.flatnonzero(half == k):
            dy = int(i) - r  # dst row y takes src row y + dy
            if dy >= 0:
                np.minimum(dst[:hh - dy], cur[dy:], out=dst[:hh - dy])
            else:
                np.minimum(dst[-dy:], cur[:hh + dy], out=dst[-dy:])


def _view_matrix(prepared: PreparedScene, camera: Camera, height: int
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """(3, 4) float32 matrix from homogeneous prepared coordinates to (f*x, -f*y, z) camera
    coordinates (x right, y up, z forward): pixel = (row0 / z + cx, row1 / z + cy). Also
    the eye (prepared coordinates) and f."""
    right, up, forward = (np.asarray(v, np.float64) for v in camera.basis())
    eye = np.asarray(camera.eye(), np.float64) - prepared.center
    f = float(camera.focal_px(height))
    rot = np.stack([right * f, -up * f, forward])  # screen y grows downwards
    m = np.empty((3, 4))
    m[:, :3] = rot
    m[:, 3] = -rot @ eye
    return m.astype(np.float32), eye, f


#: Columns per matrix product: small enough that BLAS runs it on this thread (its worker
#: threads, spinning on a busy 2-core machine, made one 1 M-point product 2-4x slower).
_MATMUL_COLUMNS = 32768


def _transform(m: np.ndarray, xyz1: np.ndarray) -> np.ndarray:
    """``m @ xyz1`` for (4, n) homogeneous columns, one block of columns at a time."""
    n = xyz1.shape[1]
    if n <= _MATMUL_COLUMNS:
        return m @ xyz1
    out = np.empty((m.shape[0], n), np.float32)
    for s in range(0, n, _MATMUL_COLUMNS):
        np.matmul(m, xyz1[:, s:s + _MATMUL_COLUMNS], out=out[:, s:s + _MATMUL_COLUMNS])
    return out


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
    m, eye, f = _view_matrix(prepared, camera, height)
    near = _near(prepared)
    pad = _max_disc_radius(prepared, px_per_point, f)
    target = _Target(width, height, pad)
    cx, cy = width / 2.0 + pad, height / 2.0 + pad
    if prepared.n_points:
        _draw_points(prepared, target, m, near, cx, cy, f, px_per_point)
    t1 = time.thread_time()
    timings["points"] = t1 - t0
    if prepared.n_segments:
        _draw_lines(prepared, target, m, near, cx, cy, f, px_per_point)
    t2 = time.thread_time()
    timings["lines"] = t2 - t1
    tri_colors = np.empty(0, np.uint32)
    tri_entity = np.empty(0, np.int32)
    if prepared.n_triangles:
        tri_colors, tri_entity = _draw_triangles(prepared, target, m, eye, near, cx, cy)
    t3 = time.thread_time()
    timings["triangles"] = t3 - t2
    keys = np.ascontiguousarray(target.finish())
    t4 = time.thread_time()
    timings["discs"] = t4 - t3
    if len(tri_colors) or background != BACKGROUND:
        color_table = np.concatenate([prepared.colors, tri_colors,
                                      np.array([background], np.uint32)])
        entity_table = np.concatenate([prepared.entity_of, tri_entity,
                                       np.array([-1], np.int32)])
    else:
        color_table, entity_table = prepared.color_table, prepared.entity_table
    low = np.minimum(keys.view(np.uint32).reshape(height, width, 2)[:, :, 0],
                     np.uint32(len(color_table) - 1))
    rgb32 = color_table[low]
    t5 = time.thread_time()
    timings["resolve"] = t5 - t4
    overlay = _blend_see_through(prepared, target, m, eye, near, cx, cy, keys, rgb32) \
        if prepared.n_triangles else None
    timings["see_through"] = time.thread_time() - t5
    timings["total"] = time.thread_time() - t0
    return Frame(width, height, rgb32, keys, entity_table, prepared.entities,
                 overlay=overlay, timings=timings)


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


def _scatter(target: _Target, r: np.ndarray | int, pix: np.ndarray, keys: np.ndarray) -> None:
    """Keep the nearest key per pixel, in the buffer of each fragment's disc radius."""
    if isinstance(r, int):
        np.minimum.at(target.buffer(r), pix, keys)
        return
    counts = np.bincount(r, minlength=1)
    for radius in np.flatnonzero(counts).tolist():
        sel = r == radius
        np.minimum.at(target.buffer(radius), pix[sel], keys[sel])


def _pixels(sx: np.ndarray, sy: np.ndarray, target: _Target) -> np.ndarray:
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


def _draw_points(prepared: PreparedScene, target: _Target, m: np.ndarray, near: np.float32,
                 cx: float, cy: float, f: float, px_per_point: float) -> None:
    cam = _transform(m, prepared.p_xyz)  # (3, n): f*x, -f*y, z
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


def _draw_lines(prepared: PreparedScene, target: _Target, m: np.ndarray, near: np.float32,
                cx: float, cy: float, f: float, px_per_point: float) -> None:
    n_seg = prepared.n_segments
    ab = _transform(m, prepared.l_ab)  # (3, 2m): starts then ends
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


@dataclass(slots=True)
class _TriangleFragments:
    """Covered pixels of some triangles: padded pixel index, 1/z, lit rgb 0..1, triangle."""

    pix: np.ndarray  # (k,) int64
    iz: np.ndarray  # (k,) float32
    rgb: np.ndarray  # (k, 3) float32
    tri: np.ndarray  # (k,) int64 index into the prepared triangles


def _clip_near(cam: np.ndarray, lit: np.ndarray, which: np.ndarray, near: np.float32
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut triangles at the near plane: wholly behind ones go, one corner in front leaves a
    smaller triangle, two in front a quad (two triangles). ``cam`` (corner, xyz, t) camera
    coordinates, ``lit`` (corner, t, rgb); returns them for the kept triangles and the
    prepared index of each."""
    plane = np.float32(near * 1.001)  # new corners land just in front of the near plane
    behind = cam[:, 2, :] <= near  # (3, t)
    count = behind.sum(axis=0)
    whole = count == 0
    if whole.all():
        return cam, lit, which
    outs = [(cam[:, :, whole], lit[:, whole], which[whole])]
    for n_behind in (1, 2):
        sel = np.flatnonzero(count == n_behind)
        if not len(sel):
            continue
        # Roll each triangle so its odd corner (the one behind, or the one in front) is first.
        odd = np.argmax(behind[:, sel] if n_behind == 1 else ~behind[:, sel], axis=0)
        order = (odd[None, :] + np.arange(3)[:, None]) % 3  # (3, k)
        c = np.take_along_axis(cam[:, :, sel], order[:, None, :], axis=0)
        col = np.take_along_axis(lit[:, sel], order[:, :, None], axis=0)

        def cut(i: int, j: int, c=c, col=col) -> tuple[np.ndarray, np.ndarray]:
            """Where edge i -> j meets the plane (camera xyz, colour)."""
            t = (plane - c[i, 2]) / (c[j, 2] - c[i, 2])
            return c[i] + (c[j] - c[i]) * t, col[i] + (col[j] - col[i]) * t[:, None]

        p1, q1 = cut(0, 1)
        p2, q2 = cut(0, 2)
        if n_behind == 2:  # corner 0 in front: (0, p1, p2)
            outs.append((np.stack([c[0], p1, p2]), np.stack([col[0], q1, q2]), which[sel]))
        else:  # corner 0 behind: the quad (p1, 1, 2, p2) as (p1, 1, 2) and (p1, 2, p2)
            outs.append((np.stack([p1, c[1], c[2]]), np.stack([q1, col[1], col[2]]),
                         which[sel]))
            outs.append((np.stack([p1, c[2], p2]), np.stack([q1, col[2], q2]), which[sel]))
    return (np.concatenate([o[0] for o in outs], axis=2),
            np.concatenate([o[1] for o in outs], axis=1),
            np.concatenate([o[2] for o in outs]))


def _triangle_fragments(prepared: PreparedScene, target: _Target, m: np.ndarray,
                        eye: np.ndarray, near: np.float32, cx: float, cy: float,
                        which: np.ndarray) -> list[_TriangleFragments]:
    """Rasterize the triangles ``which`` (cut at the near plane): pixel centres inside each
    triangle, in chunks of triangles with bounding boxes of one size."""
    cam = np.stack([_transform(m, prepared.t_xyz[k][:, which]) for k in range(3)])  # (3, 3, t)
    # Headlight Lambert, two-sided, per corner.
    lit = np.empty((3, len(which), 3), np.float32)
    eye32 = eye.astype(np.float32)
    for k in range(3):
        d = prepared.t_xyz[k][:3, which] - eye32[:, None]  # (3, t) eye to corner
        d /= np.maximum(np.linalg.norm(d, axis=0), np.float32(1e-30))
        ndotl = np.abs((prepared.t_normal[k, which] * d.T).sum(axis=1))
        shade = np.where(prepared.t_unlit[which], np.float32(1.0), AMBIENT + DIFFUSE * ndotl)
        lit[k] = prepared.t_rgb[k, which] * shade[:, None]
    cam, lit, idx = _clip_near(cam, lit, which, near)
    xs, ys, izs = [], [], []
    for c in cam:
        iz = np.float32(1.0) / c[2]
        izs.append(iz)
        xs.append(c[0] * iz + np.float32(cx))
        ys.append(c[1] * iz + np.float32(cy))
    return _scan(xs, ys, izs, lit, idx, target)


def _planes(xs: list[np.ndarray], ys: list[np.ndarray], values: list[np.ndarray]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Screen-space planes through the corners: for every triangle, (A, B, C) with
    value = A x + B y + C for the two barycentric weights w0, w1 and each value; also the
    doubled signed area. ``values``: (t, c) per corner. Returns A, B, C of shape (t, 2 + c)
    and the area."""
    x0, x1, x2 = (x.astype(np.float64) for x in xs)
    y0, y1, y2 = (y.astype(np.float64) for y in ys)
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / area
    # w0 = ((x2 - x1)(y - y1) - (x - x1)(y2 - y1)) / area, w1 likewise from corner 2 to 0.
    a = np.stack([-(y2 - y1) * inv, -(y0 - y2) * inv], axis=1)
    b = np.stack([(x2 - x1) * inv, (x0 - x2) * inv], axis=1)
    c = np.stack([(x1 * (y2 - y1) - y1 * (x2 - x1)) * inv,
                  (x2 * (y0 - y2) - y2 * (x0 - x2)) * inv], axis=1)
    v0, v1, v2 = (v.astype(np.float64) for v in values)
    # value = w0 v0 + w1 v1 + (1 - w0 - w1) v2 = v2 + w0 (v0 - v2) + w1 (v1 - v2)
    d0, d1 = v0 - v2, v1 - v2
    va = a[:, :1] * d0 + a[:, 1:] * d1
    vb = b[:, :1] * d0 + b[:, 1:] * d1
    vc = v2 + c[:, :1] * d0 + c[:, 1:] * d1
    return (np.concatenate([a, va], axis=1), np.concatenate([b, vb], axis=1),
            np.concatenate([c, vc], axis=1), area)


def _scan(xs: list[np.ndarray], ys: list[np.ndarray], izs: list[np.ndarray],
          lit: np.ndarray, idx: np.ndarray, target: _Target) -> list[_TriangleFragments]:
    """Scanline fill: per triangle the rows its pixel centres span, per row the columns
    where all three barycentric weights are >= 0 (a hair of slack: pixel centres on a
    shared edge leave no cracks), then every value (1/z, rgb) from its screen-space plane.
    Work is proportional to the covered pixels, not to bounding boxes."""
    values = [np.column_stack([izs[k], lit[k]]) for k in range(3)]  # (t, 4) per corner
    a, b, c, area = _planes(xs, ys, values)
    ylo = np.minimum(np.minimum(ys[0], ys[1]), ys[2]).astype(np.float64)
    yhi = np.maximum(np.maximum(ys[0], ys[1]), ys[2]).astype(np.float64)
    xlo = np.minimum(np.minimum(xs[0], xs[1]), xs[2]).astype(np.float64)
    xhi = np.maximum(np.maximum(xs[0], xs[1]), xs[2]).astype(np.float64)
    r0 = np.clip(np.ceil(ylo - 0.5), 0, target.hb)
    r1 = np.clip(np.floor(yhi - 0.5), -1, target.hb - 1)
    rows = np.where(np.isfinite(area) & (np.abs(area) > 1e-12) & (xhi >= 0)
                    & (xlo < target.wb), np.maximum(r1 - r0 + 1, 0), 0).astype(np.int64)
    # Chunks of triangles of at most ~4 M estimated fragments (bounded memory).
    est = rows * np.clip(xhi - xlo + 2, 1, target.wb + 2)
    cum = np.cumsum(est)
    out: list[_TriangleFragments] = []
    eps = float(_EDGE_EPS)
    a_w = [a[:, 0], a[:, 1], -a[:, 0] - a[:, 1]]  # x slope of w0, w1, w2
    start = 0
    while start < len(rows):
        done = float(cum[start - 1]) if start else 0.0
        stop = max(int(np.searchsorted(cum, done + (1 << 22), side="right")), start + 1)
        tri = np.arange(start, stop)
        start = stop
        tri = tri[rows[tri] > 0]
        if not len(tri):
            continue
        n_rows = rows[tri]
        row_tri = np.repeat(tri, n_rows)  # one entry per (triangle, row)
        y = r0[row_tri] + (np.arange(len(row_tri)) - np.repeat(np.cumsum(n_rows) - n_rows,
                                                                n_rows))
        qy = y + 0.5
        # Per row, w_i = slope_i x + offset_i; the span is where all three are >= -eps.
        off0 = b[row_tri, 0] * qy + c[row_tri, 0]
        off1 = b[row_tri, 1] * qy + c[row_tri, 1]
        lo = np.full(len(row_tri), -np.inf)
        hi = np.full(len(row_tri), np.inf)
        for slope, offset in ((a_w[0][row_tri], off0), (a_w[1][row_tri], off1),
                              (a_w[2][row_tri], 1.0 - off0 - off1)):
            with np.errstate(divide="ignore", invalid="ignore"):
                edge = (-eps - offset) / slope  # x >= edge (slope > 0), x <= edge (< 0)
            lo = np.where(slope > 0, np.maximum(lo, edge), lo)
            hi = np.where(slope < 0, np.minimum(hi, edge), hi)
            hi = np.where((slope == 0) & (offset < -eps), -np.inf, hi)
        c0 = np.clip(np.ceil(lo - 0.5), 0, target.wb)
        c1 = np.clip(np.floor(hi - 0.5), -1, target.wb - 1)
        count = np.maximum(c1 - c0 + 1, 0).astype(np.int64)
        total = int(count.sum())
        if not total:
            continue
        # Fragments run along each row: values start at the row's first pixel and step by
        # their x slope (np.repeat of per-row values reads sequentially, unlike gathers).
        k = (np.arange(total) - np.repeat(np.cumsum(count) - count, count)).astype(np.float32)
        pix = np.repeat(y.astype(np.int64) * target.wb + c0.astype(np.int64), count)
        pix += k.astype(np.int64)
        x0 = c0 + 0.5
        vals = []
        for v in range(2, a.shape[1]):  # 1/z, r, g, b
            slope = a[row_tri, v]
            first = slope * x0 + b[row_tri, v] * qy + c[row_tri, v]
            val = np.repeat(first.astype(np.float32), count)
            val += np.repeat(slope.astype(np.float32), count) * k
            vals.append(val)
        out.append(_TriangleFragments(pix, vals[0], np.column_stack(vals[1:]),
                                      np.repeat(idx[row_tri], count)))
    return out


def _draw_triangles(prepared: PreparedScene, target: _Target, m: np.ndarray, eye: np.ndarray,
                    near: np.float32, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    """Fill the opaque triangles into the depth buffer; returns the colour and entity of
    every fragment, which the fragments' keys index."""
    frag_colors: list[np.ndarray] = []
    frag_entity: list[np.ndarray] = []
    first = prepared.point_slots + prepared.n_segments
    for fr in _triangle_fragments(prepared, target, m, eye, near, cx, cy,
                                  np.flatnonzero(prepared.t_alpha >= 1.0)):
        c8 = np.clip(fr.rgb * 255.0 + 0.5, 0, 255).astype(np.uint32)
        frag_colors.append(0xFF000000 | (c8[:, 0] << 16) | (c8[:, 1] << 8) | c8[:, 2])
        frag_entity.append(prepared.t_entity[fr.tri])
        k = len(fr.pix)
        keys = np.empty((k, 2), np.uint32)
        keys[:, 0] = np.arange(first, first + k, dtype=np.uint32)
        np.invert(fr.iz.view(np.uint32), out=keys[:, 1])
        np.minimum.at(target.base, fr.pix, keys.view(np.uint64).reshape(-1))
        first += k
    if not frag_colors:
        return np.empty(0, np.uint32), np.empty(0, np.int32)
    return (np.concatenate(frag_colors).astype(np.uint32),
            np.concatenate(frag_entity).astype(np.int32))


def _blend_see_through(prepared: PreparedScene, target: _Target, m: np.ndarray,
                       eye: np.ndarray, near: np.float32, cx: float, cy: float,
                       keys: np.ndarray, rgb32: np.ndarray) -> np.ndarray | None:
    """Blend the see-through triangles (alpha < 255, e.g. Rerun's default box fill) over
    the opaque image, in place: every layer in front of the opaque surface counts, in any
    order (a weighted average of their colours, covering 1 - prod(1 - alpha)). Returns
    the nearest see-through surface per pixel for picking ((h, w) uint64 keys whose low
    word is the entity index), or None when there is none."""
    which = np.flatnonzero(prepared.t_alpha < 1.0)
    if not len(which):
        return None
    frags = _triangle_fragments(prepared, target, m, eye, near, cx, cy, which)
    if not frags:
        return None
    h, w = keys.shape
    pix = np.concatenate([f.pix for f in frags])
    px = pix % target.wb - target.pad
    py = pix // target.wb - target.pad
    iz = np.concatenate([f.iz for f in frags])
    hi = ~iz.view(np.uint32)
    flat = np.where((px >= 0) & (px < w) & (py >= 0) & (py < h), py * w + px, 0)
    front = ((px >= 0) & (px < w) & (py >= 0) & (py < h)
             & (hi.astype(np.uint64) < (keys.reshape(-1)[flat] >> np.uint64(32))))
    if not front.any():
        return None
    flat = flat[front]
    tri = np.concatenate([f.tri for f in frags])[front]
    rgb = np.concatenate([f.rgb for f in frags])[front]
    alpha = prepared.t_alpha[tri].astype(np.float64)
    n = h * w
    weight = np.bincount(flat, alpha, minlength=n)
    keep = np.log1p(-np.minimum(alpha, 0.999))
    through = np.exp(np.bincount(flat, keep, minlength=n))  # what shows of the opaque
    touched = np.flatnonzero(weight > 0)
    out = rgb32.reshape(-1)
    base = out[touched]
    t = through[touched]
    mixed = []
    for ch, shift in enumerate((16, 8, 0)):
        layer = np.bincount(flat, alpha * rgb[:, ch], minlength=n)[touched] / weight[touched]
        below = ((base >> shift) & 255).astype(np.float64)
        mixed.append(np.clip(below * t + 255.0 * layer * (1.0 - t) + 0.5, 0, 255)
                     .astype(np.uint32))
    out[touched] = 0xFF000000 | (mixed[0] << 16) | (mixed[1] << 8) | mixed[2]
    overlay = np.full(n, EMPTY, np.uint64)
    pick = (hi[front].astype(np.uint64) << np.uint64(32)) | \
        prepared.t_entity[tri].astype(np.uint64)
    np.minimum.at(overlay, flat, pick)
    return overlay.reshape(h, w)


def project_labels(prepared: PreparedScene, camera: Camera, width: int, height: int,
                   limit: int = 200) -> list[tuple[float, float, str, tuple[int, int, int, int]]]:
    """(x, y, text, colour) of the labels whose anchor is in front and on screen (at most
    ``limit``, the first ones)."""
    if not prepared.labels:
        return []
    m, _eye, _f = _view_matrix(prepared, camera, height)
    pos = _homogeneous(_columns(np.stack([p for p, _, _ in prepared.labels])), prepared.center)
    cam = m.astype(np.float64) @ pos
    out = []
    for i in np.flatnonzero(cam[2] > _near(prepared)).tolist():
        x = width / 2.0 + cam[0, i] / cam[2, i]
        y = height / 2.0 + cam[1, i] / cam[2, i]
        if 0 <= x < width and 0 <= y < height:
            _, text, color = prepared.labels[i]
            out.append((x, y, text, color))
            if len(out) >= limit:
                break
    return out
