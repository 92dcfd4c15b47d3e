"""Instanced procedural shapes (boxes, ellipsoids, capsules) in unit space, and their
placement: per instance ``origin_from_pose · translation · axis-angle · quaternion ·
scale``, with a short component repeating its last value, as Rerun combines them.

Shapes are templates built once; placing n instances is a few einsums, never a Python
loop over instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import EntityDraw, LineBatch, TriangleBatch
from viewer.scene.visualizers._common import (
    add_labels,
    axis_angle_cell,
    axis_angles_to_matrices,
    cell,
    clamped,
    mono,
    origin_from_instances,
    quaternions_to_matrices,
    vectors,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

# FillMode
MAJOR_WIREFRAME, DENSE_WIREFRAME, SOLID, TRANSPARENT_FILL = 1, 2, 3, 4
#: Rerun's default fill mode: a see-through fill with the major wireframe on top.
DEFAULT_FILL_MODE = TRANSPARENT_FILL
#: Rerun's default line radius for shape wireframes, in UI points.
SHAPE_LINE_RADIUS = -0.5


@dataclass(frozen=True)
class Wire:
    """Line segments as shared points and index pairs (each point is placed once)."""

    points: np.ndarray  # (m, 3)
    top: np.ndarray  # (m,) bool: moved up +Z by a capsule's length
    edges: np.ndarray  # (s, 2) int64

    @classmethod
    def of(cls, segments: np.ndarray, top: np.ndarray | None = None) -> Wire:
        top = np.zeros(segments.shape[:2], bool) if top is None else top
        keyed = np.concatenate([np.round(segments, 9).reshape(-1, 3),
                                top.reshape(-1, 1).astype(np.float64)], axis=1)
        uniq, inverse = np.unique(keyed, axis=0, return_inverse=True)
        return cls(uniq[:, :3].copy(), uniq[:, 3] > 0,
                   inverse.reshape(-1, 2).astype(np.int64))


@dataclass(frozen=True)
class Template:
    """A shape in unit space: its major and dense wireframes and a closed triangle mesh."""

    major: Wire
    dense: Wire
    verts: np.ndarray  # (v, 3)
    verts_top: np.ndarray  # (v,) bool
    tris: np.ndarray  # (t, 3) int64


def _ring(n: int, z: float = 0.0, radius: float = 1.0, plane: str = "xy",
          start: float = 0.0, stop: float = 2 * np.pi) -> np.ndarray:
    """Segments of a circle arc in a coordinate plane: (n, 2, 3)."""
    t = np.linspace(start, stop, n + 1)
    a, b = radius * np.cos(t), radius * np.sin(t)
    zero = np.full_like(t, z)
    pts = {"xy": (a, b, zero), "xz": (a, zero, b), "yz": (zero, a, b)}[plane]
    p = np.stack(pts, axis=1)
    return np.stack([p[:-1], p[1:]], axis=1)


def _latlong_mesh(lats: list[tuple[float, bool]], slices: int) -> tuple[np.ndarray, ...]:
    """A closed surface from rings of latitude (radians, top flag): vertices, top flags,
    triangles joining consecutive rings."""
    lon = np.linspace(0.0, 2 * np.pi, slices, endpoint=False)
    verts, tops = [], []
    for lat, top in lats:
        ring = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon),
                         np.full(slices, np.sin(lat))], axis=1)
        verts.append(ring)
        tops.append(np.full(slices, top))
    j = np.arange(slices)
    jn = (j + 1) % slices
    tris = []
    for r in range(len(lats) - 1):
        a, b = r * slices + j, (r + 1) * slices + j
        an, bn = r * slices + jn, (r + 1) * slices + jn
        tris.append(np.stack([a, an, bn], axis=1))
        tris.append(np.stack([a, bn, b], axis=1))
    return np.concatenate(verts), np.concatenate(tops), np.concatenate(tris).astype(np.int64)


@cache
def box_template() -> Template:
    """The cube [-1, 1]^3: 12 edges, 8 corners, 12 triangles (outward winding)."""
    c = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)
    edges = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7],
                      [0, 4], [1, 5], [2, 6], [3, 7]])
    tris = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    wire = Wire(c, np.zeros(8, bool), edges)
    return Template(wire, wire, c, np.zeros(8, bool), tris)


@cache
def sphere_template() -> Template:
    """The unit sphere: major = the three axis circles; dense = 7 parallels + 12 meridians."""
    major = np.concatenate([_ring(48, plane=p) for p in ("xy", "xz", "yz")])
    parallels = [_ring(32, z=np.sin(lat), radius=np.cos(lat))
                 for lat in np.radians(np.arange(-67.5, 67.6, 22.5))]
    meridians = []
    for lon in np.radians(np.arange(0, 360, 30)):
        arc = _ring(16, plane="xz", start=-np.pi / 2, stop=np.pi / 2)
        rot = np.array([[np.cos(lon), -np.sin(lon), 0], [np.sin(lon), np.cos(lon), 0], [0, 0, 1]])
        meridians.append(arc @ rot.T)
    dense = np.concatenate(parallels + meridians)
    lats = [(lat, False) for lat in np.linspace(-np.pi / 2, np.pi / 2, 13)]
    verts, tops, tris = _latlong_mesh(lats, 24)
    return Template(Wire.of(major), Wire.of(dense), verts, tops, tris)


@cache
def capsule_template() -> Template:
    """A radius-1 capsule from z = 0 up to z = length (``*_top`` points get +length):
    rings at both ends, spokes along the side, half circles over each cap."""

    def caps(planes: tuple[str, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
        segs, tops = [], []
        for plane in planes:
            top = _ring(n, plane=plane, start=0.0, stop=np.pi)  # z >= 0
            bottom = _ring(n, plane=plane, start=np.pi, stop=2 * np.pi)  # z <= 0
            segs += [top, bottom]
            tops += [np.ones(top.shape[:2], bool), np.zeros(bottom.shape[:2], bool)]
        return np.concatenate(segs), np.concatenate(tops)

    def side(spokes: int) -> tuple[np.ndarray, np.ndarray]:
        ang = np.linspace(0, 2 * np.pi, spokes, endpoint=False)
        p = np.stack([np.cos(ang), np.sin(ang), np.zeros(spokes)], axis=1)
        segs = np.stack([p, p], axis=1)
        tops = np.zeros((spokes, 2), bool)
        tops[:, 1] = True
        return segs, tops

    rings = _ring(32)
    ring_tops = [np.zeros((32, 2), bool), np.ones((32, 2), bool)]
    parts = [(rings, ring_tops[0]), (rings, ring_tops[1]), side(4), caps(("xz", "yz"), 16)]
    major = np.concatenate([p[0] for p in parts])
    major_top = np.concatenate([p[1] for p in parts])
    dense_parts = [(rings, ring_tops[0]), (rings, ring_tops[1]), side(12)]
    for lat in np.radians([30.0, 60.0]):
        r = _ring(32, z=np.sin(lat), radius=np.cos(lat))
        dense_parts.append((r, np.ones((32, 2), bool)))
        dense_parts.append((r * np.array([1, 1, -1]), np.zeros((32, 2), bool)))
    dense_parts.append(caps(("xz", "yz"), 16))
    dense = np.concatenate([p[0] for p in dense_parts])
    dense_top = np.concatenate([p[1] for p in dense_parts])
    lats = [(lat, False) for lat in np.linspace(-np.pi / 2, 0.0, 7)]
    lats += [(lat, True) for lat in np.linspace(0.0, np.pi / 2, 7)]
    verts, tops, tris = _latlong_mesh(lats, 24)
    return Template(Wire.of(major, major_top), Wire.of(dense, dense_top), verts, tops, tris)


@cache
def cylinder_template() -> Template:
    """A radius-1 cylinder from z = -1 to z = 1: major = both rims and 6 side lines;
    dense = rims, 16 side lines and spokes to each cap's centre; closed solid."""

    def rims_and_sides(spokes: int, to_centre: bool) -> np.ndarray:
        parts = [_ring(32, z=-1.0), _ring(32, z=1.0)]
        ang = np.linspace(0, 2 * np.pi, spokes, endpoint=False)
        rim = np.stack([np.cos(ang), np.sin(ang), np.zeros(spokes)], axis=1)
        lo, hi = rim + [0, 0, -1.0], rim + [0, 0, 1.0]
        parts.append(np.stack([lo, hi], axis=1))
        if to_centre:
            parts.append(np.stack([lo, np.tile([0.0, 0.0, -1.0], (spokes, 1))], axis=1))
            parts.append(np.stack([hi, np.tile([0.0, 0.0, 1.0], (spokes, 1))], axis=1))
        return np.concatenate(parts)

    slices = 32
    ang = np.linspace(0, 2 * np.pi, slices, endpoint=False)
    ring = np.stack([np.cos(ang), np.sin(ang), np.zeros(slices)], axis=1)
    verts = np.concatenate([ring + [0, 0, -1.0], ring + [0, 0, 1.0],
                            [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]]])
    j = np.arange(slices)
    jn = (j + 1) % slices
    bottom_c, top_c = 2 * slices, 2 * slices + 1
    tris = np.concatenate([
        np.stack([j, jn, slices + jn], axis=1), np.stack([j, slices + jn, slices + j], axis=1),
        np.stack([np.full(slices, bottom_c), jn, j], axis=1),
        np.stack([np.full(slices, top_c), slices + j, slices + jn], axis=1),
    ]).astype(np.int64)
    return Template(Wire.of(rims_and_sides(6, False)), Wire.of(rims_and_sides(16, True)),
                    verts, np.zeros(len(verts), bool), tris)


def instance_frames(ctx: VisualizerContext, entity: EntityPath, arch: str, n_shapes: int,
                    translations: str) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3, 3) linear parts (or (1, 3, 3) when all instances share one) and (n, 3)
    translations of each instance in the origin.

    n is the longest of the shapes, the instance poses, the translations and rotations."""
    poses = origin_from_instances(ctx)
    trans = vectors(cell(ctx, entity, f"{arch}:{translations}"), 3)
    aa = axis_angle_cell(cell(ctx, entity, f"{arch}:rotation_axis_angles"))
    quats = vectors(cell(ctx, entity, f"{arch}:quaternions"), 4)
    n = max(n_shapes, len(poses), 0 if trans is None else len(trans),
            0 if aa is None else len(aa[0]), 0 if quats is None else len(quats))
    base = clamped(poses, n)
    off = np.array(base[:, :3, 3])
    if aa is None and quats is None and len(poses) == 1:
        # one linear part for all: (1, 3, 3), so placing is one matrix product
        lin = np.array(poses[:, :3, :3])
        if trans is not None:
            off = off + np.asarray(clamped(trans, n)) @ lin[0].T
        return lin, off
    lin = np.array(base[:, :3, :3])
    if trans is not None:
        off = off + np.matmul(lin, np.asarray(clamped(trans, n))[:, :, None])[:, :, 0]
    if aa is not None:
        lin = np.matmul(lin, axis_angles_to_matrices(np.asarray(clamped(aa[0], n)),
                                                     np.asarray(clamped(aa[1], n))))
    if quats is not None:
        lin = np.matmul(lin, quaternions_to_matrices(np.asarray(clamped(quats, n))))
    return lin, off


def fill_mode(ctx: VisualizerContext, entity: EntityPath, arch: str) -> int:
    return int(mono(cell(ctx, entity, f"{arch}:fill_mode"), DEFAULT_FILL_MODE))


def emit(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw, template: Template,
         lin: np.ndarray, off: np.ndarray, scale: np.ndarray, lengths: np.ndarray | None,
         colors: np.ndarray, line_radii: np.ndarray, mode: int,
         class_ids: np.ndarray | None) -> None:
    """Place ``template`` per instance (scaled by ``scale`` (n, 3), capsule-lengthened by
    ``lengths``) and add its lines and / or triangles as ``mode`` says, plus labels."""
    arch = ctx.archetype
    n = len(off)

    def place(unit: np.ndarray, top: np.ndarray) -> np.ndarray:
        local = unit[None] * scale[:, None, :]  # (n, p, 3)
        if lengths is not None:
            local = local.copy()
            local[..., 2] += lengths[:, None] * top[None]
        if len(lin) == 1:  # shared linear part: one (n * p, 3) @ (3, 3) product
            return (local.reshape(-1, 3) @ lin[0].T).reshape(local.shape) + off[:, None, :]
        # (n, p, 3) @ (n, 3, 3)^T: a batched matmul (einsum is several times slower here)
        return np.matmul(local, lin.transpose(0, 2, 1)) + off[:, None, :]

    placed = verts = None
    if mode in (MAJOR_WIREFRAME, DENSE_WIREFRAME, TRANSPARENT_FILL):
        wire = template.dense if mode == DENSE_WIREFRAME else template.major
        s = len(wire.edges)
        placed = place(wire.points, wire.top).reshape(-1, 3)
        flat = (np.arange(n)[:, None] * len(wire.points) + wire.edges.reshape(1, -1)).ravel()
        segs = np.take(placed, flat, axis=0).reshape(n * s, 2, 3)
        out.lines.append(LineBatch(entity, arch, segs, np.repeat(colors, s, axis=0),
                                   np.repeat(line_radii, s)))
    if mode in (SOLID, TRANSPARENT_FILL):
        v = len(template.verts)
        verts = place(template.verts, template.verts_top).reshape(n * v, 3)
        tris = (template.tris[None] + (np.arange(n) * v)[:, None, None]).reshape(-1, 3)
        fill = np.array(colors, np.uint8)
        if mode == TRANSPARENT_FILL:
            fill[:, 3] //= 4  # see-through so the wireframe shows
        out.triangles.append(TriangleBatch(entity, arch, verts, tris,
                                           np.repeat(fill, v, axis=0)))
    out.instances += n
    # a label hangs under its instance's origin (a box's or ellipsoid's centre, a
    # capsule's first end); one label for many goes under the centre of all shapes
    add_labels(ctx, entity, arch, out, off, colors, class_ids,
               extent=placed if placed is not None else verts)
