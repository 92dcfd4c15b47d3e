"""Triangles for the 3D software rasterizer: many small ones at once, big ones by rows.

Per frame the corners go to camera space; back faces of closed opaque shapes are culled
(boxes, ellipsoids, capsules and cylinders are closed and wound outwards, and Rerun culls
their back faces too); corners are lit by a headlight along the view direction (ambient +
two-sided Lambert); triangles are cut at the near plane and projected.

Rasterizing: a triangle whose pixel bounding box is at most ``SMALL_PX`` each way joins
the others of its bounding-box size class in one (triangles, rows, columns) grid of
candidate pixel centres, kept where its three barycentric weights are >= 0 (a hair of
slack: pixel centres on a shared edge leave no cracks). A bigger triangle is filled row by
row: per row the span where the three weights are >= 0, work per covered pixel. 1/z comes
from its screen-space plane.

Opaque fragments go into the depth buffer keyed by their triangle; a pixel a triangle wins
takes its lit colour (interpolated over the triangle only where the corners differ).
See-through triangles (alpha < 1) are blended over the finished opaque image: every layer
in front of the opaque surface counts, in any order (a weighted average of their colours,
covering 1 - prod(1 - alpha)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viewer.scene.draw import TriangleBatch
from viewer.ui.views.spatial.raster_buffer import EMPTY, KeyBuffer, depth_keys, transform

#: Lighting of triangles: ambient part + headlight (Lambert, two-sided) part.
AMBIENT = np.float32(0.3)
DIFFUSE = np.float32(0.7)
#: Triangles of these archetypes keep their colours (an image lifted into 3D is not lit).
UNLIT_ARCHETYPES = frozenset({"Image", "EncodedImage", "DepthImage", "SegmentationImage"})
#: Closed shapes wound outwards: the back faces of their opaque triangles are never seen.
CLOSED_ARCHETYPES = frozenset({"Boxes3D", "Ellipsoids3D", "Capsules3D", "Cylinders3D"})
#: Triangles with a pixel bounding box at most this wide and high are rasterized in grids.
SMALL_PX = 32
#: Bounding-box sizes of the grids (a box of n pixels uses the first size >= n).
_GRID_SIZES = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32])
_GRID_OF = np.searchsorted(_GRID_SIZES, np.arange(SMALL_PX + 1)).astype(np.int64)
#: Barycentric slack of the inside test.
_EDGE_EPS = 1e-4
#: Candidate pixels per grid chunk (bounded memory).
_GRID_CHUNK = 1 << 21


@dataclass(slots=True)
class TriangleArrays:
    """Triangles as flat arrays, one row per corner k, relative to the scene's centre."""

    xyz: np.ndarray  # (3, 4, t) float32 homogeneous corners
    face: np.ndarray  # (3, t) float32 face normal (the corners' winding; not unit length)
    rgb: np.ndarray  # (3, 3, t) float32 0..1 (corner, channel, triangle)
    normal: np.ndarray  # (3, 3, t) float32 unit normals (corner, xyz, triangle)
    entity: np.ndarray  # (t,) int32
    alpha: np.ndarray  # (t,) float32 opacity 0..1
    unlit: np.ndarray  # (t,) bool: drawn in its own colours (images lifted into 3D)
    closed: np.ndarray  # (t,) bool: a triangle of a closed shape wound outwards
    #: (t,) float32 depth bias: 1/z is scaled by 1 + bias, so a triangle with a larger
    #: bias wins against one on the same plane (images layered by draw order)
    bias: np.ndarray

    def __len__(self) -> int:
        return len(self.entity)

    def subset(self, keep: np.ndarray) -> TriangleArrays:
        return TriangleArrays(
            np.ascontiguousarray(self.xyz[:, :, keep]), np.ascontiguousarray(self.face[:, keep]),
            np.ascontiguousarray(self.rgb[:, :, keep]),
            np.ascontiguousarray(self.normal[:, :, keep]),
            self.entity[keep], self.alpha[keep], self.unlit[keep], self.closed[keep],
            self.bias[keep])


def batch_arrays(b: TriangleBatch, entity: int, bias: float = 0.0) -> dict[str, np.ndarray]:
    """One batch's triangles (out-of-range indices dropped) for ``triangle_arrays``, the
    triangle index last: corners (corner, xyz, t) float64 in scene coordinates, face
    normals, unit normals and rgb per corner, and per triangle alpha, flags and depth
    ``bias``. Computed coordinate by coordinate on contiguous rows (fast reductions, no
    (t, 3) axis sums)."""
    tri = np.asarray(b.triangles, dtype=np.int64).reshape(-1, 3)
    verts = np.asarray(b.vertices, dtype=np.float64)[:, :3]
    idx = [np.ascontiguousarray(tri[:, k]) for k in range(3)]
    low = np.minimum(np.minimum(idx[0], idx[1]), idx[2])
    high = np.maximum(np.maximum(idx[0], idx[1]), idx[2])
    valid = (low >= 0) & (high < len(verts))
    if not valid.all():
        idx = [i[valid] for i in idx]
    vt = np.ascontiguousarray(verts.T)  # (3, v)
    corners = np.stack([vt[:, i] for i in idx])  # (3, 3, t)
    e1, e2 = corners[1] - corners[0], corners[2] - corners[0]
    face = np.stack([e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2],
                     e1[0] * e2[1] - e1[1] * e2[0]])  # (3, t)
    if b.normals is not None and len(b.normals) == len(verts):
        nt = np.ascontiguousarray(np.asarray(b.normals, dtype=np.float64).T)
        normals = np.stack([nt[:, i] for i in idx])
    else:
        normals = np.broadcast_to(face, (3, *face.shape))
    norm = np.sqrt(normals[:, 0] ** 2 + normals[:, 1] ** 2 + normals[:, 2] ** 2)[:, None]
    normals = np.divide(normals, norm, out=np.zeros(normals.shape), where=norm > 0)
    ct = np.ascontiguousarray(np.asarray(b.colors, dtype=np.uint8).T)  # (4, v)
    rgba = np.stack([ct[:, i] for i in idx]).astype(np.float32)  # (3, 4, t)
    alpha = (rgba[0, 3] + rgba[1, 3] + rgba[2, 3]) / np.float32(3.0 * 255.0)
    n = len(idx[0])
    return {"corners": corners, "face": face, "rgb": rgba[:, :3] / np.float32(255.0),
            "normal": normals, "entity": np.full(n, entity, np.int32), "alpha": alpha,
            "unlit": np.full(n, b.archetype in UNLIT_ARCHETYPES),
            "closed": np.full(n, b.archetype in CLOSED_ARCHETYPES),
            "bias": np.full(n, bias, np.float32)}


def triangle_arrays(parts: list[dict[str, np.ndarray]], center: np.ndarray
                    ) -> TriangleArrays:
    """The batches' arrays (``batch_arrays``) joined, corners relative to ``center``."""
    def cat(key: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        if not parts:
            return np.empty(shape, dtype)
        return np.concatenate([p[key] for p in parts], axis=-1).astype(dtype, copy=False)

    corners = cat("corners", (3, 3, 0), np.float64)
    xyz = np.ones((3, 4, corners.shape[-1]), np.float32)
    np.subtract(corners, center[None, :, None], out=xyz[:, :3], casting="same_kind")
    return TriangleArrays(
        xyz=xyz, face=cat("face", (3, 0), np.float32), rgb=cat("rgb", (3, 3, 0), np.float32),
        normal=cat("normal", (3, 3, 0), np.float32), entity=cat("entity", (0,), np.int32),
        alpha=cat("alpha", (0,), np.float32), unlit=cat("unlit", (0,), np.bool_),
        closed=cat("closed", (0,), np.bool_), bias=cat("bias", (0,), np.float32))


# ------------------------------------------------------------------------------ per frame


@dataclass(slots=True)
class Projected:
    """Triangles on screen (after the near cut): corners in padded buffer pixels, 1/z, lit
    colour; ``idx`` the ``TriangleArrays`` row of each; ``live`` False for a culled one."""

    xs: list[np.ndarray]  # 3 x (t,) float32
    ys: list[np.ndarray]
    izs: list[np.ndarray]
    lit: np.ndarray  # (3, 3, t) float32 0..1 (corner, channel, triangle)
    idx: np.ndarray  # (t,) int64
    flat: np.ndarray  # (t,) bool: its corners' colours differ by less than a level
    live: np.ndarray  # (t,) bool

    def __len__(self) -> int:
        return len(self.idx)

    def colors(self) -> np.ndarray:
        """(3, t) float32 lit colour of each triangle (its corners' mean)."""
        return (self.lit[0] + self.lit[1] + self.lit[2]) / np.float32(3.0)


def project(tris: TriangleArrays, m: np.ndarray, eye: np.ndarray, forward: np.ndarray,
            near: np.float32, cx: float, cy: float, cull: bool = True) -> Projected:
    """Light, cut and project ``tris`` for the view ``m`` ((3, 4): prepared coordinates to
    (f x, f y, z)); ``eye`` and ``forward`` in prepared coordinates. Back faces of closed
    shapes are marked dead, not removed (no gathers)."""
    n = len(tris)
    live = np.ones(n, bool)
    if cull and tris.closed.any():
        to_corner = tris.xyz[0, :3] - eye.astype(np.float32)[:, None]
        dot = tris.face[0] * to_corner[0]
        dot += tris.face[1] * to_corner[1]
        dot += tris.face[2] * to_corner[2]
        live &= ~(tris.closed & (dot > 0))
    cam = np.stack([transform(m, tris.xyz[k]) for k in range(3)])  # (3, 3, t)
    # Headlight: a light at the eye, Lambert (two-sided) per corner.
    lit = np.empty((3, 3, n), np.float32)
    eye32 = eye.astype(np.float32)
    any_unlit = tris.unlit.any()
    for k in range(3):
        d = tris.xyz[k, :3] - eye32[:, None]  # (3, t) eye to corner
        nrm = tris.normal[k]
        shade = nrm[0] * d[0]
        shade += nrm[1] * d[1]
        shade += nrm[2] * d[2]
        d *= d
        length = np.sqrt(d[0] + d[1] + d[2])
        np.maximum(length, np.float32(1e-30), out=length)
        np.abs(shade, out=shade)
        shade /= length
        shade *= DIFFUSE
        shade += AMBIENT
        if any_unlit:
            shade[tris.unlit] = 1.0
        np.multiply(tris.rgb[k], shade, out=lit[k])
    # One colour for a triangle whose corners differ by less than two levels (most small
    # ones): its mean is within a level of every pixel's interpolated colour.
    spread = np.abs(lit[1] - lit[0])
    np.maximum(spread, np.abs(lit[2] - lit[0]), out=spread)
    flat = np.maximum(np.maximum(spread[0], spread[1]), spread[2]) < np.float32(2.0 / 255.0)
    cam, lit, which = _clip_near(cam, lit, np.arange(n), near)
    if len(which) != n or not (which[-1:] == n - 1).all():
        live = live[which]
    xs, ys, izs = [], [], []
    biased = np.float32(1.0) + tris.bias[which] if tris.bias.any() else None
    for c in cam:
        iz = np.float32(1.0) / c[2]
        xs.append(c[0] * iz + np.float32(cx))
        ys.append(c[1] * iz + np.float32(cy))
        izs.append(iz if biased is None else iz * biased)  # depth only, not the position
    return Projected(xs, ys, izs, lit, which, flat[which], live)


def _clip_near(cam: np.ndarray, lit: np.ndarray, which: np.ndarray, near: np.float32
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut triangles at the near plane: wholly behind ones go, one corner in front leaves a
    smaller triangle, two in front a quad (two triangles). ``cam`` (corner, xyz, t) camera
    coordinates, ``lit`` (corner, rgb, t); returns them for the kept triangles and the
    index of each."""
    plane = np.float32(near * 1.001)  # new corners land just in front of the near plane
    behind = cam[:, 2, :] <= near  # (3, t)
    count = behind.sum(axis=0)
    whole = count == 0
    if whole.all():
        return cam, lit, which
    outs = [(cam[:, :, whole], lit[:, :, whole], which[whole])]
    for n_behind in (1, 2):
        sel = np.flatnonzero(count == n_behind)
        if not len(sel):
            continue
        # Roll each triangle so its odd corner (the one behind, or the one in front) is first.
        odd = np.argmax(behind[:, sel] if n_behind == 1 else ~behind[:, sel], axis=0)
        order = (odd[None, :] + np.arange(3)[:, None]) % 3  # (3, k)
        c = np.take_along_axis(cam[:, :, sel], order[:, None, :], axis=0)
        col = np.take_along_axis(lit[:, :, sel], order[:, None, :], axis=0)

        def cut(i: int, j: int, c=c, col=col) -> tuple[np.ndarray, np.ndarray]:
            """Where edge i -> j meets the plane (camera xyz, colour)."""
            t = (plane - c[i, 2]) / (c[j, 2] - c[i, 2])
            return c[i] + (c[j] - c[i]) * t, col[i] + (col[j] - col[i]) * t

        p1, q1 = cut(0, 1)
        p2, q2 = cut(0, 2)
        if n_behind == 2:  # corner 0 in front: (0, p1, p2)
            outs.append((np.stack([c[0], p1, p2]), np.stack([col[0], q1, q2]), which[sel]))
        else:  # corner 0 behind: the quad (p1, 1, 2, p2) as (p1, 1, 2) and (p1, 2, p2)
            outs.append((np.stack([p1, c[1], c[2]]), np.stack([q1, col[1], col[2]]),
                         which[sel]))
            outs.append((np.stack([p1, c[2], p2]), np.stack([q1, col[2], q2]), which[sel]))
    return (np.concatenate([o[0] for o in outs], axis=2),
            np.concatenate([o[1] for o in outs], axis=2),
            np.concatenate([o[2] for o in outs]))


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


@dataclass(slots=True)
class Fragments:
    """Covered pixels: padded pixel index, 1/z and the ``Projected`` row of the triangle."""

    pix: np.ndarray  # (k,) int64
    iz: np.ndarray  # (k,) float32
    slot: np.ndarray  # (k,) int64


def fragments(p: Projected, target: KeyBuffer) -> list[Fragments]:
    """Every pixel centre inside each projected triangle, small ones in grids, big ones by
    rows."""
    if not len(p):
        return []
    xlo = np.minimum(np.minimum(p.xs[0], p.xs[1]), p.xs[2])
    xhi = np.maximum(np.maximum(p.xs[0], p.xs[1]), p.xs[2])
    ylo = np.minimum(np.minimum(p.ys[0], p.ys[1]), p.ys[2])
    yhi = np.maximum(np.maximum(p.ys[0], p.ys[1]), p.ys[2])
    # Pixel centres (i + 0.5) within the bounding box: columns c0..c1, rows r0..r1.
    with np.errstate(invalid="ignore"):
        c0, c1 = np.ceil(xlo - 0.5), np.floor(xhi - 0.5)
        r0, r1 = np.ceil(ylo - 0.5), np.floor(yhi - 0.5)
        ok = (c1 >= c0) & (r1 >= r0) & p.live  # NaN compares False
        ok &= (c1 >= 0) & (c0 < target.wb) & (r1 >= 0) & (r0 < target.hb)
        small = ok & (c0 >= 0) & (r0 >= 0) & (c1 - c0 < SMALL_PX) & (r1 - r0 < SMALL_PX)
    out: list[Fragments] = []
    sel = np.flatnonzero(small)
    if len(sel):
        c0s, r0s = c0[sel].astype(np.int64), r0[sel].astype(np.int64)
        gw = _GRID_OF[c1[sel].astype(np.int64) - c0s + 1]
        gh = _GRID_OF[r1[sel].astype(np.int64) - r0s + 1]
        # The grid of a box's size class must stay inside the buffer (no wrapping).
        fits = (c0s + _GRID_SIZES[gw] <= target.wb) & (r0s + _GRID_SIZES[gh] <= target.hb)
        small[sel[~fits]] = False
        keep = np.flatnonzero(fits)
        sel = sel[keep]
        out += _grid_fragments(p, sel, c0s[keep], r0s[keep],
                               (gh[keep] * len(_GRID_SIZES) + gw[keep]).astype(np.uint16),
                               target)
    big = np.flatnonzero(ok & ~small)
    if len(big):
        a, b, c, area = _planes([x[big] for x in p.xs], [y[big] for y in p.ys],
                                [iz[big, None] for iz in p.izs])
        good = np.flatnonzero(np.isfinite(area) & (np.abs(area) > 1e-12))
        big = big[good]
        out += _scan(a[good], b[good], c[good], xlo[big].astype(np.float64),
                     xhi[big].astype(np.float64), r0[big].astype(np.float64),
                     r1[big].astype(np.float64), big, target)
    return out


def _relative_planes(p: Projected, sel: np.ndarray, c0: np.ndarray, r0: np.ndarray,
                     wb: int) -> tuple[np.ndarray, np.ndarray]:
    """(15, t) float32 planes of the triangles ``sel`` relative to their first pixel
    centre: w0, w1, w2, 1/z and the pixel index, each as (value there, step per column,
    step per row); and which triangles have an area. Corners are taken relative to that
    pixel: small numbers, so float32 keeps the weights' error near the edges' slack."""
    ox, oy = (c0 + 0.5).astype(np.float32), (r0 + 0.5).astype(np.float32)
    x = [p.xs[k][sel] - ox for k in range(3)]
    y = [p.ys[k][sel] - oy for k in range(3)]
    area = (x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0])
    good = np.isfinite(area) & (np.abs(area) > 1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(good, np.float32(1.0) / area, np.float32(0.0))
    planes = np.empty((15, len(sel)), np.float32)
    for k in range(3):  # weight k: 1 at corner k, 0 on the edge (k + 1, k + 2)
        i, j = (k + 1) % 3, (k + 2) % 3
        np.multiply(x[i] * y[j] - x[j] * y[i], inv, out=planes[3 * k])
        np.multiply(y[i] - y[j], inv, out=planes[3 * k + 1])
        np.multiply(x[j] - x[i], inv, out=planes[3 * k + 2])
    iz = [p.izs[k][sel] for k in range(3)]
    for col in range(3):
        v = planes[9 + col]
        np.multiply(planes[col], iz[0], out=v)
        v += planes[3 + col] * iz[1]
        v += planes[6 + col] * iz[2]
    planes[12] = r0 * wb + c0
    planes[13] = 1.0
    planes[14] = wb
    return planes, good


def _grid_fragments(p: Projected, sel: np.ndarray, c0: np.ndarray, r0: np.ndarray,
                    group: np.ndarray, target: KeyBuffer) -> list[Fragments]:
    """Small triangles grouped by bounding-box size class: per group, the three barycentric
    weights, 1/z and the pixel index of every candidate pixel centre are matrix products
    of per-triangle planes (value at the box's first pixel, step per column, step per row)
    with the grid's (1, column, row) table: no per-pixel gathers, long contiguous rows. A
    candidate past the box is outside the triangle (or within the edges' slack)."""
    planes, good = _relative_planes(p, sel, c0, r0, target.wb)
    n_sizes = len(_GRID_SIZES)
    order = np.argsort(group, kind="stable")  # radix sort of 16-bit keys
    order = order[good[order]]
    counts = np.bincount(group[order], minlength=n_sizes * n_sizes)
    planes = np.take(planes, order, axis=1)
    slots = sel[order]
    eps = np.float32(-_EDGE_EPS)
    out: list[Fragments] = []
    start = 0
    for gi in np.flatnonzero(counts).tolist():
        stop = start + int(counts[gi])
        hh, ww = (int(v) for v in _GRID_SIZES[[gi // n_sizes, gi % n_sizes]])
        hw = hh * ww
        grid = np.empty((3, hw), np.float32)
        grid[0] = 1.0
        grid[1] = np.tile(np.arange(ww, dtype=np.float32), hh)
        grid[2] = np.repeat(np.arange(hh, dtype=np.float32), ww)
        step = max(_GRID_CHUNK // hw, 1)
        for s in range(start, stop, step):
            e = min(s + step, stop)
            fr = _grid_chunk(planes[:, s:e], grid, eps)
            if fr is not None:
                tri_of, iz, pix = fr
                out.append(Fragments(pix, iz, slots[s:e][tri_of]))
        start = stop
    return out


#: Rows of one matrix product: OpenBLAS runs products this small on the calling thread
#: (its worker threads spin and compete for the cores of a busy machine).
_BLAS_WORK = 1 << 18


def _grid_chunk(planes: np.ndarray, grid: np.ndarray, eps: np.float32
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """One chunk of triangles of one grid size ((15, n) planes): (triangle of each
    fragment, 1/z, pixel index) of the candidates inside, or None."""
    n, hw = planes.shape[1], grid.shape[1]
    values = np.empty((5, n, hw), np.float32)
    step = max(_BLAS_WORK // (3 * hw), 1)
    for k in range(5):
        coef = planes[3 * k:3 * k + 3].T
        for s in range(0, n, step):
            np.matmul(coef[s:s + step], grid, out=values[k, s:s + step])
    values = values.reshape(5, n * hw)
    inside = np.minimum(values[0], values[1])
    np.minimum(inside, values[2], out=inside)
    hit = np.flatnonzero(inside >= eps)
    if not len(hit):
        return None
    return hit // hw, values[3][hit], values[4][hit].astype(np.int64)


def _scan(a: np.ndarray, b: np.ndarray, c: np.ndarray, xlo: np.ndarray, xhi: np.ndarray,
          r0: np.ndarray, r1: np.ndarray, slots: np.ndarray, target: KeyBuffer
          ) -> list[Fragments]:
    """Scanline fill: per triangle the rows its pixel centres span, per row the columns
    where all three barycentric weights are >= 0, then 1/z from its plane. Work is
    proportional to the covered pixels, not to bounding boxes."""
    r0 = np.clip(r0, 0, target.hb)
    r1 = np.clip(r1, -1, target.hb - 1)
    rows = np.maximum(r1 - r0 + 1, 0).astype(np.int64)
    # Chunks of triangles of at most ~4 M estimated fragments (bounded memory).
    est = rows * np.clip(xhi - xlo + 2, 1, target.wb + 2)
    cum = np.cumsum(est)
    out: list[Fragments] = []
    eps = _EDGE_EPS
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
        col0 = np.clip(np.ceil(lo - 0.5), 0, target.wb)
        col1 = np.clip(np.floor(hi - 0.5), -1, target.wb - 1)
        count = np.maximum(col1 - col0 + 1, 0).astype(np.int64)
        total = int(count.sum())
        if not total:
            continue
        # Fragments run along each row: 1/z starts at the row's first pixel and steps by
        # its x slope (np.repeat of per-row values reads sequentially, unlike gathers).
        k = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        pix = np.repeat(y.astype(np.int64) * target.wb + col0.astype(np.int64), count)
        pix += k
        slope = a[row_tri, 2]
        first = slope * (col0 + 0.5) + b[row_tri, 2] * qy + c[row_tri, 2]
        iz = np.repeat(first.astype(np.float32), count)
        iz += np.repeat(slope.astype(np.float32), count) * k.astype(np.float32)
        out.append(Fragments(pix, iz, np.repeat(slots[row_tri], count)))
    return out


# --------------------------------------------------------------------------------- opaque


@dataclass(slots=True)
class OpaqueTriangles:
    """What the opaque triangles of a frame put in the key buffer: key low words
    ``first + slot``; the colour and entity of each slot."""

    projected: Projected
    first: int
    colors: np.ndarray  # (t,) uint32 packed 0xFFRRGGBB (the mean lit colour)
    entity: np.ndarray  # (t,) int32

    def shade(self, low: np.ndarray, rgb32: np.ndarray, pad: int) -> None:
        """Interpolate the colour of the pixels won by triangles whose corners differ
        (``low``: (h, w) key low words; ``rgb32`` resolved with ``colors``), in place."""
        p = self.projected
        varying = np.flatnonzero(~p.flat)
        if not len(varying):
            return
        rel = low.reshape(-1).astype(np.int64) - self.first
        hit = (rel >= 0) & (rel < len(p))
        hit[hit] = ~p.flat[rel[hit]]
        at = np.flatnonzero(hit)
        if not len(at):
            return
        values = [p.lit[k][:, varying].T for k in range(3)]
        a, b, c, _ = _planes([x[varying] for x in p.xs], [y[varying] for y in p.ys], values)
        row_of = np.full(len(p), -1, np.int64)
        row_of[varying] = np.arange(len(varying))
        r = row_of[rel[at]]
        w = low.shape[1]
        x = (at % w + pad + 0.5).astype(np.float64)
        y = (at // w + pad + 0.5).astype(np.float64)
        rgb = a[r, 2:] * x[:, None] + b[r, 2:] * y[:, None] + c[r, 2:]
        rgb32.reshape(-1)[at] = pack(rgb.T)


def pack(rgb: np.ndarray) -> np.ndarray:
    """(3, k) channels 0..1 -> opaque packed 0xFFRRGGBB uint32."""
    c8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint32)
    return (0xFF000000 | (c8[0] << 16) | (c8[1] << 8) | c8[2]).astype(np.uint32)


def draw_opaque(tris: TriangleArrays, target: KeyBuffer, m: np.ndarray, eye: np.ndarray,
                forward: np.ndarray, near: np.float32, cx: float, cy: float,
                first: int) -> OpaqueTriangles:
    """Fill the opaque triangles into the depth buffer, key low word ``first + slot``."""
    p = project(tris, m, eye, forward, near, cx, cy)
    for fr in fragments(p, target):
        low = (fr.slot + first).astype(np.uint32)
        np.minimum.at(target.base, fr.pix, depth_keys(low, fr.iz))
    return OpaqueTriangles(p, first, pack(p.colors()), tris.entity[p.idx])


# ---------------------------------------------------------------------------- see-through


#: The packed colour sums of the blend hold this many layers per pixel (17 bits a channel).
_PACKED_LAYERS = 512


@dataclass(slots=True)
class SeeThrough:
    """The see-through fragments in front of the opaque image: for picking, the nearest
    one per pixel is worked out only when asked (most frames are never picked)."""

    pix: np.ndarray  # (k,) padded pixel index
    pick: np.ndarray  # (k,) uint64: high word depth, low word entity index
    target: KeyBuffer

    def nearest(self) -> np.ndarray:
        """(h, w) uint64: the nearest see-through surface per pixel, the low word its
        entity index (``EMPTY``: none)."""
        t = self.target
        buf = np.full(t.sentinel + 1, EMPTY, np.uint64)
        np.minimum.at(buf, self.pix, self.pick)
        o = t.pad
        return buf[:-1].reshape(t.hb, t.wb)[o:o + t.h, o:o + t.w].copy()


def blend_see_through(tris: TriangleArrays, target: KeyBuffer, m: np.ndarray,
                      eye: np.ndarray, forward: np.ndarray, near: np.float32, cx: float,
                      cy: float, rgb32: np.ndarray, silhouette: bool = False
                      ) -> SeeThrough | None:
    """Blend see-through triangles over the opaque image ``rgb32`` ((h, w), in place),
    depth-tested against the finished key buffer ``target``. Returns the fragments that
    show (None when none does)."""
    p = project(tris, m, eye, forward, near, cx, cy, cull=silhouette)
    frags = fragments(p, target)
    if not frags:
        return None
    pix = np.concatenate([f.pix for f in frags])
    hi = ~np.concatenate([f.iz for f in frags]).view(np.uint32)
    slot = np.concatenate([f.slot for f in frags])
    depth = (target.base >> np.uint64(32)).astype(np.uint32)  # opaque depth, padded
    slot_alpha = tris.alpha[p.idx]
    if silhouette:  # a closed shape's front face stands for its back face too
        slot_alpha = np.where(tris.closed[p.idx], 1.0 - (1.0 - slot_alpha) ** 2, slot_alpha)
    # In front of the opaque surface and not fully transparent (the clear pixels of a
    # segmentation image add nothing, and a pixel with only those would weigh nothing).
    front = (hi < depth[pix]) & (slot_alpha[slot] > 0.0)
    pix, hi, slot = pix[front], hi[front], slot[front]
    if not len(pix):
        return None
    n = target.sentinel + 1
    count = np.bincount(pix, minlength=n)
    alpha = slot_alpha[slot]
    uniform = alpha.min() == alpha.max()
    touched = np.flatnonzero(count)
    varying = np.flatnonzero(~p.flat[slot])  # fragments whose colour is interpolated
    if uniform and int(count.max()) <= _PACKED_LAYERS:
        # One alpha: the layer colour is the plain mean, coverage 1 - (1 - a)^layers; the
        # three channel sums are one bincount of 8-bit colours packed 17 bits apart.
        weights = _packed(p.colors())[slot]
        if len(varying):
            weights[varying] = _packed(_fragment_colors(p, slot[varying], pix[varying],
                                                        target))
        sums = np.bincount(pix, weights, minlength=n)[touched].astype(np.int64)
        layers = count[touched].astype(np.float64)
        mean = [((sums >> shift) & 0x1FFFF) / layers for shift in (0, 17, 34)]
        through = (1.0 - float(alpha[0])) ** layers
    else:
        a = alpha.astype(np.float64)
        rgb = p.colors()[:, slot]
        if len(varying):
            rgb[:, varying] = _fragment_colors(p, slot[varying], pix[varying], target)
        weight = np.bincount(pix, a, minlength=n)[touched]
        keep = np.log1p(-np.minimum(a, 0.999))
        through = np.exp(np.bincount(pix, keep, minlength=n)[touched])
        mean = [np.bincount(pix, a * rgb[ch], minlength=n)[touched] * 255.0 / weight
                for ch in range(3)]
    # Back to the visible image (fragments in the padding are dropped).
    x = touched % target.wb - target.pad
    y = touched // target.wb - target.pad
    vis = (x >= 0) & (x < target.w) & (y >= 0) & (y < target.h)
    at = (y * target.w + x)[vis]
    out = rgb32.reshape(-1)
    base = out[at]
    t = through[vis]
    mixed = []
    for ch, shift in enumerate((16, 8, 0)):
        below = ((base >> shift) & 255).astype(np.float64)
        mixed.append(np.clip(below * t + mean[ch][vis] * (1.0 - t) + 0.5, 0, 255)
                     .astype(np.uint32))
    out[at] = 0xFF000000 | (mixed[0] << 16) | (mixed[1] << 8) | mixed[2]
    pick = (hi.astype(np.uint64) << np.uint64(32)) | tris.entity[p.idx][slot].astype(np.uint64)
    return SeeThrough(pix, pick, target)


def _packed(rgb: np.ndarray) -> np.ndarray:
    """(3, k) colours 0..1 -> 8-bit channels packed 17 bits apart, as float64 (exact)."""
    c8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.int64)
    return (c8[0] | (c8[1] << 17) | (c8[2] << 34)).astype(np.float64)


def _fragment_colors(p: Projected, slot: np.ndarray, pix: np.ndarray, target: KeyBuffer
                     ) -> np.ndarray:
    """(3, k) lit colour at the fragments ``pix`` of triangles ``slot``, interpolated
    over each triangle's corners."""
    sub, row = np.unique(slot, return_inverse=True)
    a, b, c, _ = _planes([x[sub] for x in p.xs], [y[sub] for y in p.ys],
                         [p.lit[k][:, sub].T for k in range(3)])
    x = (pix % target.wb + 0.5).astype(np.float64)
    y = (pix // target.wb + 0.5).astype(np.float64)
    return (a[row, 2:] * x[:, None] + b[row, 2:] * y[:, None] + c[row, 2:]).T
