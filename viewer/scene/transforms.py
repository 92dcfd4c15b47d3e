"""Origin-from-entity transforms along the entity tree, as Rerun resolves them.

Every entity's frame is its parent's frame moved by the entity's own ``Transform3D``. One
``Transform3D`` row is atomic: the latest row that logged any of its fields defines the whole
transform, and a field that row did not log is identity (not an older value). Within a row
the parts compose as ``translation @ axis_angle @ quaternion @ scale @ mat3x3`` (the 3x3 matrix
acts first on a point); with ``relation = ChildFromParent`` the row gives child-from-parent and
is inverted. Quaternions are xyzw, ``mat3x3`` and ``Pinhole:image_from_camera`` are stored
column-major. A transform on the root entity ``/`` is ignored (it has no parent frame).

``InstancePoses3D`` (also atomic per row) poses the instances of the entity's own content,
``pose_i`` applied before ``origin_from_entity``; children do not inherit it. Shorter pose
lists repeat their last value up to the longest one.

A ``Pinhole`` starts a 2D space: everything at *and below* the pinhole entity is in image
pixels (x right, y down) of that camera. Seen from the 3D space above it, a pixel (x, y)
lies on the image plane ``image_plane_distance`` in front of the camera: in the camera's
RDF frame at ``((x - cx) d / fx, (y - cy) d / fy, d)``, turned into the pinhole's
``camera_xyz`` convention (``Pinhole:camera_xyz``, else ``ViewCoordinates:xyz`` on the same
entity, else RDF); depth along z is scaled by the harmonic mean of the two x/y scales. The
camera's own 3D pose (for its frustum) is ``EntityTransform.origin_from_camera``. A view
whose origin is in a pinhole's space (the pinhole entity or below it) is that 2D space:
its entities get pixel-space transforms. 3D content is not projected into such a view
(reported in ``errors``), nor is a pinhole nested inside another pinhole's space.

Entities above or beside the origin are reached through the root: ``origin_from_entity =
inverse(root_from_origin) @ root_from_entity``. A transform that cannot be used (zero
scale, singular matrix, zero-length axis or quaternion, several values in one row) counts
as identity for its link, as in Rerun, and is reported in ``Resolved.errors``. Named
transform frames (``child_frame`` / ``parent_frame``, ``CoordinateFrame``) are not followed:
such a row is skipped and reported.

Caching: one snapshot per time cursor ``(timeline, t)`` (the last few kept) holds each
entity's root-space frame and each ``(origin, entities)`` answer. A snapshot stays valid
while the generations of the entities it read (and their ancestors) are unchanged, so data
streaming into other entities costs one dict lookup per entity read, not a re-resolve.

Measured (100 moving links: 20 chains of depth 5, each link a temporal translation +
quaternion over 600 frames, plus a point cloud leaf per chain; 2 shared cores)::

    .venv/bin/python tests/scene/test_scene_transforms.py --bench

    new time cursor, 100 links + 20 leaves:   ~1.4 ms per resolve (median of 50 cursors)
    same cursor again (cache hit):            ~0.02 ms
    new time cursor, 500 links (100 x 5):     ~6.5 ms
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from viewer.scene.query import Index, LatestAt
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

# Transform3D fields (one atomic row) and the ones whose values we use.
T3D_TRANSLATION = "Transform3D:translation"
T3D_AXIS_ANGLE = "Transform3D:rotation_axis_angle"
T3D_QUATERNION = "Transform3D:quaternion"
T3D_SCALE = "Transform3D:scale"
T3D_MAT3X3 = "Transform3D:mat3x3"
T3D_RELATION = "Transform3D:relation"
T3D_PARENT_FRAME = "Transform3D:parent_frame"
T3D_CHILD_FRAME = "Transform3D:child_frame"
TRANSFORM3D = (
    T3D_TRANSLATION, T3D_AXIS_ANGLE, T3D_QUATERNION, T3D_SCALE, T3D_MAT3X3,
    T3D_RELATION, T3D_PARENT_FRAME, T3D_CHILD_FRAME,
)
POSES = (
    "InstancePoses3D:translations",
    "InstancePoses3D:rotation_axis_angles",
    "InstancePoses3D:quaternions",
    "InstancePoses3D:scales",
    "InstancePoses3D:mat3x3",
)
PIN_IMAGE_FROM_CAMERA = "Pinhole:image_from_camera"
PIN_RESOLUTION = "Pinhole:resolution"
PIN_CAMERA_XYZ = "Pinhole:camera_xyz"
PIN_PLANE_DISTANCE = "Pinhole:image_plane_distance"
PIN_PARENT_FRAME = "Pinhole:parent_frame"
PIN_CHILD_FRAME = "Pinhole:child_frame"
PINHOLE_ATOMIC = (PIN_IMAGE_FROM_CAMERA, PIN_RESOLUTION, PIN_PARENT_FRAME, PIN_CHILD_FRAME)
VIEW_COORDINATES = "ViewCoordinates:xyz"
COORDINATE_FRAME = "CoordinateFrame:frame"
_RELEVANT = frozenset(
    TRANSFORM3D + POSES + PINHOLE_ATOMIC
    + (PIN_CAMERA_XYZ, PIN_PLANE_DISTANCE, VIEW_COORDINATES, COORDINATE_FRAME)
)

#: TransformRelation enum value for child-from-parent (parent-from-child is 1).
CHILD_FROM_PARENT = 2
#: Image plane distance when none is logged (Rerun derives one from the scene size; a
#: caller that knows the scene may set ``TransformResolver.default_image_plane_distance``).
DEFAULT_IMAGE_PLANE_DISTANCE = 1.0
#: ViewDir enum values as stored in ViewCoordinates / camera_xyz.
VIEW_DIRS = {1: "U", 2: "D", 3: "R", 4: "L", 5: "F", 6: "B"}
# Each direction in the RDF basis (x right, y down, z forward).
_DIR_RDF = {
    "R": (1.0, 0.0, 0.0), "L": (-1.0, 0.0, 0.0),
    "D": (0.0, 1.0, 0.0), "U": (0.0, -1.0, 0.0),
    "F": (0.0, 0.0, 1.0), "B": (0.0, 0.0, -1.0),
}

_EYE4 = np.eye(4)
_EYE4.flags.writeable = False
_SNAPSHOTS = 4  # time cursors kept
_PARSED_PER_TABLE = 256  # parsed rows kept per entity and archetype
_T3D_ROWS = 1 << 18  # Transform3D rows kept computed (128 bytes each)
_VECTOR_MIN_ROWS = 32  # smaller chunks: Transform3D rows are computed one at a time
#: The time static rows sort at (before any time), as in query.py.
STATIC_TIME = -(1 << 63)


@dataclass
class PinholeInfo:
    image_from_camera: np.ndarray  # (3, 3) row-major (Rerun stores it column-major)
    resolution: tuple[float, float] | None  # (width, height)
    camera_xyz: str  # e.g. "RDF" (default)
    image_plane_distance: float

    @property
    def focal_length(self) -> tuple[float, float]:
        return float(self.image_from_camera[0, 0]), float(self.image_from_camera[1, 1])

    @property
    def principal_point(self) -> tuple[float, float]:
        return float(self.image_from_camera[0, 2]), float(self.image_from_camera[1, 2])

    def camera_from_image_plane(self) -> np.ndarray:
        """(4, 4): image pixels (x, y, 0, 1) to the image plane in camera coordinates."""
        fx, fy = self.focal_length
        cx, cy = self.principal_point
        d = self.image_plane_distance
        sx, sy = d / fx, d / fy
        sz = 2.0 / (1.0 / sx + 1.0 / sy)
        rdf_from_pixels = np.array([
            [sx, 0.0, 0.0, -cx * sx],
            [0.0, sy, 0.0, -cy * sy],
            [0.0, 0.0, sz, d],
            [0.0, 0.0, 0.0, 1.0],
        ])
        out = np.eye(4)
        out[:3, :3] = xyz_from_rdf(self.camera_xyz)
        return out @ rdf_from_pixels


@dataclass
class EntityTransform:
    origin_from_entity: np.ndarray  # (4, 4) float64; entity coordinates -> origin coordinates
    instance_poses: np.ndarray | None  # (k, 4, 4) from InstancePoses3D, applied first
    image_space: EntityPath | None  # the pinhole whose image pixels this entity's content is in
    pinhole: PinholeInfo | None  # this entity's own Pinhole, if it has one
    #: This entity's own pinhole camera frame (before projection) in origin coordinates, for
    #: drawing its frustum; None without a pinhole or when the view is in its image space.
    origin_from_camera: np.ndarray | None = None


class Resolved(dict[EntityPath, EntityTransform]):
    """``resolve``'s answer: a dict plus ``errors`` (entity -> why), for entities left out
    (no path to the origin) and for links that were skipped (kept as identity)."""

    errors: dict[EntityPath, str]

    def __init__(self) -> None:
        super().__init__()
        self.errors = {}


def _frozen(m: np.ndarray) -> np.ndarray:
    """Cached matrices are shared between callers: make them read-only."""
    m.flags.writeable = False
    return m


def xyz_from_rdf(code: str) -> np.ndarray:
    """(3, 3) rotation taking RDF coordinates to the ``code`` convention (e.g. "RUB")."""
    return np.array([_DIR_RDF[c] for c in code])


def up_axis_of(code: str) -> str | None:
    """"+Z" for a U third axis, "-Y" for a D second axis, ...; None if neither is given."""
    for axis, c in zip("XYZ", code, strict=False):
        if c == "U":
            return "+" + axis
        if c == "D":
            return "-" + axis
    return None


# ------------------------------------------------------------------ matrix builders


def _axis_angle(axis: list[float], angle: float) -> np.ndarray | None:
    norm = math.sqrt(sum(a * a for a in axis))
    if not norm or not math.isfinite(norm) or not math.isfinite(angle):
        return None
    x, y, z = (a / norm for a in axis)
    c, s = math.cos(angle), math.sin(angle)
    t = 1.0 - c
    return np.array([
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ])


def _quaternion(xyzw: list[float]) -> np.ndarray | None:
    norm = math.sqrt(sum(q * q for q in xyzw))
    if not norm or not math.isfinite(norm):
        return None
    x, y, z, w = (q / norm for q in xyzw)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _mat3x3(flat9: list[float]) -> np.ndarray:
    return np.array(flat9, dtype=np.float64).reshape(3, 3).T  # stored column-major


def _view_code(dirs: list | None) -> str | None:
    """"RDF" etc. from stored ViewDir values; None unless they form a basis."""
    if not dirs or len(dirs) != 3:
        return None
    code = "".join(VIEW_DIRS.get(int(d or 0), "?") for d in dirs)
    if "?" in code or np.linalg.det(xyz_from_rdf(code)) == 0.0:
        return None
    return code


def _first_cell(query: LatestAt, entity: EntityPath, component: str) -> object | None:
    """The first instance of a plain latest-at component (Clear-aware), as Python."""
    cell = query.cell(entity, component)
    if cell is None or len(cell) == 0:
        return None
    return cell[0].as_py()


# ------------------------------------------------------------------ archetype rows


def _mono(column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a list column: (has a value, has more than one, index of the first value
    in ``column.values``)."""
    offsets = np.asarray(column.offsets, dtype=np.int64)
    counts = np.diff(offsets)
    if column.null_count:
        counts = np.where(column.is_valid().to_numpy(zero_copy_only=False), counts, 0)
    return counts >= 1, counts > 1, offsets[:-1]


def _fixed(values: pa.Array, k: int) -> np.ndarray:
    """(m, k) float64 from a fixed-size-list array (slice-aware)."""
    return values.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(-1, k)


def _rodrigues(axes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(m, 3, 3) rotations about unit ``axes`` by ``angles`` (radians)."""
    x, y, z = axes[:, 0], axes[:, 1], axes[:, 2]
    c, s = np.cos(angles), np.sin(angles)
    t = 1.0 - c
    return np.stack([
        np.stack([t * x * x + c, t * x * y - s * z, t * x * z + s * y], -1),
        np.stack([t * x * y + s * z, t * y * y + c, t * y * z - s * x], -1),
        np.stack([t * x * z - s * y, t * y * z + s * x, t * z * z + c], -1),
    ], -2)


def _quat_matrices(q: np.ndarray) -> np.ndarray:
    """(m, 3, 3) rotations of unit xyzw quaternions."""
    x, y, z, w = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


_T3D_ERRORS = (
    None,
    "Transform3D: more than one value in a row",
    "Transform3D with named frames (child_frame/parent_frame) skipped",
    "Transform3D: rotation axis of zero length",
    "Transform3D: quaternion of zero length",
    "Transform3D: zero scale",
    "Transform3D: singular mat3x3",
    "Transform3D: child-from-parent transform is not invertible",
    "Transform3D: not finite",
)


def transform3d_rows(chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """Every row's Transform3D of a chunk at once: ((n, 4, 4) parent_from_entity, (n,) error
    code into ``_T3D_ERRORS``). Rows with an error (or no field) hold identity."""
    n = chunk.num_rows
    m3 = np.tile(np.eye(3), (n, 1, 1))
    t = np.zeros((n, 3))
    err = np.zeros(n, dtype=np.int8)

    def flag(rows: np.ndarray, code: int) -> None:
        err[rows & (err == 0)] = code

    cols = {f: chunk.components[f] for f in TRANSFORM3D if f in chunk.components}
    mono = {f: _mono(c) for f, c in cols.items()}
    for _has, multi, _ in mono.values():
        flag(multi, 1)
    for name in (T3D_PARENT_FRAME, T3D_CHILD_FRAME):
        if name in cols:
            has, _, first = mono[name]
            names = cols[name].values.to_pylist()
            named = np.array([bool(has[r] and names[first[r]]) for r in range(n)], dtype=bool)
            flag(named, 2)
    if T3D_TRANSLATION in cols:
        has, _, first = mono[T3D_TRANSLATION]
        t[has] = _fixed(cols[T3D_TRANSLATION].values, 3)[first[has]]
    if T3D_AXIS_ANGLE in cols:
        has, _, first = mono[T3D_AXIS_ANGLE]
        parts = dict(zip([f.name for f in cols[T3D_AXIS_ANGLE].values.type],
                         cols[T3D_AXIS_ANGLE].values.flatten(), strict=True))
        axes = _fixed(parts["axis"], 3)[first[has]]
        angles = parts["angle"].to_numpy(zero_copy_only=False).astype(np.float64)[first[has]]
        norms = np.linalg.norm(axes, axis=1)
        ok = (norms > 0) & np.isfinite(norms) & np.isfinite(angles)
        rows = np.flatnonzero(has)
        bad = np.zeros(n, dtype=bool)
        bad[rows[~ok]] = True
        flag(bad, 3)
        rows, axes, angles = rows[ok], axes[ok] / norms[ok, None], angles[ok]
        m3[rows] = m3[rows] @ _rodrigues(axes, angles)
    if T3D_QUATERNION in cols:
        has, _, first = mono[T3D_QUATERNION]
        q = _fixed(cols[T3D_QUATERNION].values, 4)[first[has]]
        norms = np.linalg.norm(q, axis=1)
        ok = (norms > 0) & np.isfinite(norms)
        rows = np.flatnonzero(has)
        bad = np.zeros(n, dtype=bool)
        bad[rows[~ok]] = True
        flag(bad, 4)
        rows = rows[ok]
        m3[rows] = m3[rows] @ _quat_matrices(q[ok] / norms[ok, None])
    if T3D_SCALE in cols:
        has, _, first = mono[T3D_SCALE]
        scale = _fixed(cols[T3D_SCALE].values, 3)[first[has]]
        rows = np.flatnonzero(has)
        bad = np.zeros(n, dtype=bool)
        bad[rows[~scale.any(axis=1)]] = True
        flag(bad, 5)
        m3[rows] = m3[rows] * scale[:, None, :]  # == m3 @ diag(scale)
    if T3D_MAT3X3 in cols:
        has, _, first = mono[T3D_MAT3X3]
        mats = _fixed(cols[T3D_MAT3X3].values, 9)[first[has]].reshape(-1, 3, 3)
        mats = mats.transpose(0, 2, 1)  # stored column-major
        rows = np.flatnonzero(has)
        bad = np.zeros(n, dtype=bool)
        bad[rows[np.linalg.det(mats) == 0.0]] = True
        flag(bad, 6)
        m3[rows] = m3[rows] @ mats
    out = np.zeros((n, 4, 4))
    out[:, :3, :3] = m3
    out[:, :3, 3] = t
    out[:, 3, 3] = 1.0
    if T3D_RELATION in cols:
        has, _, first = mono[T3D_RELATION]
        rel = cols[T3D_RELATION].values.to_numpy(zero_copy_only=False)
        inverted = np.zeros(n, dtype=bool)
        inverted[has] = rel[first[has]] == CHILD_FROM_PARENT
        det = np.linalg.det(m3)
        singular = inverted & ~((det != 0.0) & np.isfinite(det))
        flag(singular, 7)
        inverted &= ~singular & (err == 0)
        if inverted.any():
            out[inverted] = np.linalg.inv(out[inverted])
    flag(~np.isfinite(out).all(axis=(1, 2)), 8)
    out[err != 0] = np.eye(4)
    out.flags.writeable = False
    return out, err


def transform3d_row(cells: dict[str, list]) -> tuple[np.ndarray, int]:
    """One row's parent_from_entity and error code (``transform3d_rows`` for one row: used
    for small chunks, where the vectorized form costs more than it saves)."""
    if any(len(v) > 1 for v in cells.values()):
        return _EYE4, 1
    if cells.get(T3D_PARENT_FRAME, [None])[0] or cells.get(T3D_CHILD_FRAME, [None])[0]:
        return _EYE4, 2
    m3 = np.eye(3)
    if T3D_AXIS_ANGLE in cells:
        aa = cells[T3D_AXIS_ANGLE][0]
        rot = _axis_angle(aa["axis"], aa["angle"])
        if rot is None:
            return _EYE4, 3
        m3 = m3 @ rot
    if T3D_QUATERNION in cells:
        rot = _quaternion(cells[T3D_QUATERNION][0])
        if rot is None:
            return _EYE4, 4
        m3 = m3 @ rot
    if T3D_SCALE in cells:
        scale = cells[T3D_SCALE][0]
        if not any(scale):
            return _EYE4, 5
        m3 = m3 * np.asarray(scale, dtype=np.float64)
    if T3D_MAT3X3 in cells:
        mat = _mat3x3(cells[T3D_MAT3X3][0])
        if np.linalg.det(mat) == 0.0:
            return _EYE4, 6
        m3 = m3 @ mat
    out = np.eye(4)
    out[:3, :3] = m3
    if T3D_TRANSLATION in cells:
        out[:3, 3] = cells[T3D_TRANSLATION][0]
    if cells.get(T3D_RELATION, [None])[0] == CHILD_FROM_PARENT:
        det = np.linalg.det(m3)
        if det == 0.0 or not math.isfinite(det):
            return _EYE4, 7
        out = np.linalg.inv(out)
    if not np.isfinite(out).all():
        return _EYE4, 8
    out.flags.writeable = False
    return out, 0


def _poses(cells: dict[str, list]) -> tuple[np.ndarray | None, str | None]:
    """(k, 4, 4) poses of one InstancePoses3D row; shorter lists repeat their last value."""
    if not cells:
        return None, None
    n = max(len(v) for v in cells.values())

    def clamped(values: list) -> list:
        return values + [values[-1]] * (n - len(values)) if values else []

    poses = np.tile(np.eye(4), (n, 1, 1))
    rot = np.tile(np.eye(3), (n, 1, 1))
    invalid = False
    for i, aa in enumerate(clamped(cells.get(POSES[1], []))):
        r = _axis_angle(aa["axis"], aa["angle"])
        invalid |= r is None
        if r is not None:
            rot[i] = rot[i] @ r
    for i, q in enumerate(clamped(cells.get(POSES[2], []))):
        r = _quaternion(q)
        invalid |= r is None
        if r is not None:
            rot[i] = rot[i] @ r
    if POSES[3] in cells:
        rot = rot * np.asarray(clamped(cells[POSES[3]]), dtype=np.float64)[:, None, :]
    if POSES[4] in cells:
        rot = rot @ np.asarray([_mat3x3(m) for m in clamped(cells[POSES[4]])])
    poses[:, :3, :3] = rot
    if POSES[0] in cells:
        poses[:, :3, 3] = clamped(cells[POSES[0]])
    poses.flags.writeable = False
    return poses, "InstancePoses3D: invalid rotation treated as identity" if invalid else None


@dataclass(slots=True, frozen=True)
class _PinholeRow:
    image_from_camera: np.ndarray
    resolution: tuple[float, float] | None


def _pinhole_row(cells: dict[str, list]) -> tuple[_PinholeRow | None, str | None]:
    if PIN_IMAGE_FROM_CAMERA not in cells:
        return None, None  # the latest pinhole row has no intrinsics: no pinhole
    if cells.get(PIN_PARENT_FRAME, [None])[0] or cells.get(PIN_CHILD_FRAME, [None])[0]:
        return None, "Pinhole with named frames (child_frame/parent_frame) skipped"
    image_from_camera = _mat3x3(cells[PIN_IMAGE_FROM_CAMERA][0])
    if image_from_camera[0, 0] == 0.0 or image_from_camera[1, 1] == 0.0:
        return None, "Pinhole: zero focal length"
    image_from_camera.flags.writeable = False
    resolution = None
    if PIN_RESOLUTION in cells:
        w, h = cells[PIN_RESOLUTION][0]
        resolution = (float(w), float(h))
    return _PinholeRow(image_from_camera, resolution), None


def _transform3d(cells: dict[str, list]) -> tuple[np.ndarray | None, str | None]:
    matrix, code = transform3d_row(cells)
    return (matrix, None) if code == 0 else (None, _T3D_ERRORS[code])


_PARSERS = {TRANSFORM3D: _transform3d, POSES: _poses, PINHOLE_ATOMIC: _pinhole_row}
_t3d_chunks: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_t3d_rows_cached = 0


def _t3d_of_chunk(chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """``transform3d_rows`` of a chunk, kept for the last ``_T3D_ROWS`` rows' worth of chunks."""
    global _t3d_rows_cached
    hit = _t3d_chunks.get(chunk.id)
    if hit is not None:
        _t3d_chunks.move_to_end(chunk.id)
        return hit
    hit = _t3d_chunks[chunk.id] = transform3d_rows(chunk)
    _t3d_rows_cached += chunk.num_rows
    while _t3d_rows_cached > _T3D_ROWS and len(_t3d_chunks) > 1:
        _, (mats, _) = _t3d_chunks.popitem(last=False)
        _t3d_rows_cached -= len(mats)
    return hit


def _is_sorted(keys: list[Index]) -> bool:
    return all(a <= b for a, b in zip(keys, keys[1:]))  # noqa: B905 (lengths differ by one)


class _AtomicRows:
    """Every row of one entity that logged any field of one archetype, on one timeline,
    sorted by (time, RowId); static rows sort first. Latest-at is then one bisect. Rows
    are parsed when first asked for. New chunks that only add later rows are appended;
    anything else rebuilds."""

    __slots__ = ("chunk_ids", "fields", "generation", "keys", "parsed", "refs", "times")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.generation = -2
        self.chunk_ids: set[bytes] = set()
        self.times: list[int] = []
        self.keys: list[Index] = []
        self.refs: list[tuple[Chunk, int]] = []
        self.parsed: dict[Index, tuple[object, str | None]] = {}

    def update(self, db: EntityDb, entity: EntityPath, timeline: str | None) -> None:
        generation = db.entity_generation(entity)
        if generation == self.generation:
            return
        self.generation = generation
        chunks = db.chunks_of(entity)
        if not self.chunk_ids.issubset(c.id for c in chunks):
            self.chunk_ids.clear()  # a chunk went away: start over
            self.times, self.keys, self.refs = [], [], []
            self.parsed.clear()
        keys: list[Index] = []
        refs: list[tuple[Chunk, int]] = []
        for chunk in chunks:
            if chunk.id not in self.chunk_ids:
                self.chunk_ids.add(chunk.id)
                self._events(chunk, timeline, keys, refs)
        if not keys:
            return
        if not _is_sorted(keys):
            order = sorted(range(len(keys)), key=keys.__getitem__)
            keys, refs = [keys[i] for i in order], [refs[i] for i in order]
        if self.keys and keys[0] < self.keys[-1]:  # not all later: merge and re-sort
            keys, refs = self.keys + keys, self.refs + refs
            order = sorted(range(len(keys)), key=keys.__getitem__)
            keys, refs = [keys[i] for i in order], [refs[i] for i in order]
            self.times, self.keys, self.refs = [], [], []
        self.times.extend([k[0] for k in keys])
        self.keys.extend(keys)
        self.refs.extend(refs)

    def _events(
        self, chunk: Chunk, timeline: str | None, keys: list[Index], refs: list[tuple[Chunk, int]]
    ) -> None:
        """Append the (time, RowId) keys and (chunk, row) of the chunk's rows that log any field."""
        present = [f for f in self.fields if f in chunk.components]
        if not present:
            return
        if chunk.is_static:
            times = None
        else:
            tc = chunk.timelines.get(timeline) if timeline is not None else None
            if tc is None:
                return
            times = tc.times
        mask: np.ndarray | None = np.zeros(chunk.num_rows, dtype=bool)
        for name in present:
            valid = chunk.valid_rows(name)
            if valid is None:
                mask = None
                break
            mask |= valid
        rows = np.arange(chunk.num_rows) if mask is None else np.flatnonzero(mask)
        rid = chunk.row_ids[rows]
        t = [STATIC_TIME] * len(rows) if times is None else times[rows].tolist()
        keys.extend(zip(t, rid[:, 0].tolist(), rid[:, 1].tolist(), strict=True))
        refs.extend(zip(itertools.repeat(chunk), rows.tolist()))

    def latest(self, t: int | None) -> int:
        """Position of the latest row at ``t`` (None: static rows only), -1 if none."""
        if t is None:
            return bisect.bisect_right(self.times, STATIC_TIME) - 1
        return bisect.bisect_right(self.times, t) - 1

    def parse(self, pos: int) -> tuple[object, str | None]:
        if self.fields == TRANSFORM3D and self.refs[pos][0].num_rows >= _VECTOR_MIN_ROWS:
            chunk, row = self.refs[pos]
            mats, err = _t3d_of_chunk(chunk)
            code = int(err[row])
            return (mats[row], None) if code == 0 else (None, _T3D_ERRORS[code])
        key = self.keys[pos]
        hit = self.parsed.get(key)
        if hit is None:
            chunk, row = self.refs[pos]
            cells: dict[str, list] = {}
            for name in self.fields:
                column = chunk.components.get(name)
                if column is not None:
                    value = column[row].as_py()
                    if value:  # null and empty cells do not count
                        cells[name] = value
            if len(self.parsed) >= _PARSED_PER_TABLE:
                self.parsed.clear()
            hit = self.parsed[key] = _PARSERS[self.fields](cells)
        return hit


# ------------------------------------------------------------------ per-entity data


@dataclass(slots=True)
class _Local:
    """What one entity contributes at the cursor, before any chaining."""

    parent_from_entity: np.ndarray | None  # None: no Transform3D (identity)
    poses: np.ndarray | None
    pinhole: PinholeInfo | None
    error: str | None


@dataclass(slots=True)
class _Frame:
    """An entity's frame in its space: ``space`` is the root "/" or a pinhole entity."""

    space: EntityPath
    root_from_entity: np.ndarray  # space root coordinates <- entity coordinates


@dataclass(slots=True)
class _Space:
    """A pinhole's 2D space, embedded in its parent space at the camera's pose."""

    parent_space: EntityPath | None
    parent_from_camera: np.ndarray  # the camera frame in the parent space's root coordinates
    pinhole: PinholeInfo


class _Snapshot:
    """Everything resolved at one time cursor, valid while the entities it read are unchanged."""

    def __init__(self, db_generation: int) -> None:
        self.db_generation = db_generation
        self.generations: dict[EntityPath, int] = {}
        self.locals: dict[EntityPath, _Local] = {}
        self.frames: dict[EntityPath, _Frame] = {}
        self.spaces: dict[EntityPath, _Space] = {}
        self.answers: dict[tuple[EntityPath, tuple[EntityPath, ...]], Resolved] = {}


class TransformResolver:
    """Origin-from-entity 4x4 for every entity of a view, cached per time cursor."""

    def __init__(self, db: EntityDb) -> None:
        self.db = db
        self.default_image_plane_distance = DEFAULT_IMAGE_PLANE_DISTANCE
        self._snapshots: OrderedDict[tuple[str | None, int | None, float], _Snapshot] = (
            OrderedDict()
        )
        self._relevant: dict[EntityPath, tuple[int, tuple[str, ...]]] = {}
        self._rows: dict[tuple[EntityPath, tuple[str, ...], str | None], _AtomicRows] = {}

    # ---------------------------------------------------------------- public

    def resolve(
        self, query: LatestAt, origin: EntityPath, entities: Iterable[EntityPath]
    ) -> Resolved:
        """Each entity's transform into ``origin``; unreachable ones only in ``.errors``."""
        snap = self._snapshot(query)
        wanted = tuple(entities)
        key = (origin, wanted)
        cached = snap.answers.get(key)
        if cached is None:
            cached = snap.answers[key] = self._answer(snap, query, origin, wanted)
        out = Resolved()
        out.update(cached)
        out.errors.update(cached.errors)
        return out

    def up_axis(self, query: LatestAt, origin: EntityPath) -> str:
        """The view's up axis from ViewCoordinates at the origin or its nearest ancestor
        ("+Z" when none); a Pinhole's camera_xyz only when no ViewCoordinates is found."""
        for component in (VIEW_COORDINATES, PIN_CAMERA_XYZ):
            path: EntityPath | None = origin
            while path is not None:
                if component in self._components(path):
                    code = _view_code(_first_cell(query, path, component))  # type: ignore[arg-type]
                    if code is not None:
                        return up_axis_of(code) or "+Z"
                path = path.parent
        return "+Z"

    def invalidate(self) -> None:
        """Forget every cached cursor (not needed after store changes: those are detected)."""
        self._snapshots.clear()

    # ---------------------------------------------------------------- caching

    def _snapshot(self, query: LatestAt) -> _Snapshot:
        key = (query.timeline, query.t, self.default_image_plane_distance)
        snap = self._snapshots.get(key)
        gen = self.db.generation
        if snap is not None and snap.db_generation != gen:
            entity_generation = self.db.entity_generation
            if all(entity_generation(e) == g for e, g in snap.generations.items()):
                snap.db_generation = gen
            else:
                snap = None
        if snap is None:
            snap = _Snapshot(gen)
            self._snapshots[key] = snap
            while len(self._snapshots) > _SNAPSHOTS:
                self._snapshots.popitem(last=False)
        self._snapshots.move_to_end(key)
        return snap

    def _components(self, entity: EntityPath) -> tuple[str, ...]:
        """The transform-related components an entity has ever held (cached per generation)."""
        gen = self.db.entity_generation(entity)
        hit = self._relevant.get(entity)
        if hit is not None and hit[0] == gen:
            return hit[1]
        comps = tuple(c for c in self.db.components(entity) if c in _RELEVANT)
        self._relevant[entity] = (gen, comps)
        return comps

    # ---------------------------------------------------------------- frames

    def _frame(self, snap: _Snapshot, query: LatestAt, entity: EntityPath) -> _Frame:
        frame = snap.frames.get(entity)
        if frame is not None:
            return frame
        # Walk up to the nearest known frame, then down again (no recursion).
        chain: list[EntityPath] = []
        path: EntityPath | None = entity
        while path is not None and path not in snap.frames:
            chain.append(path)
            path = path.parent
        parent = snap.frames.get(path) if path is not None else None
        for node in reversed(chain):
            local = self._local(snap, query, node)
            if parent is None:  # the root: its own Transform3D has no parent frame
                space, root_from = node, _EYE4
            else:
                space = parent.space
                root_from = parent.root_from_entity
                if local.parent_from_entity is not None:
                    root_from = _frozen(root_from @ local.parent_from_entity)
            if local.pinhole is not None:
                snap.spaces[node] = _Space(
                    None if parent is None else space, root_from, local.pinhole
                )
                space, root_from = node, _EYE4
            parent = snap.frames[node] = _Frame(space, root_from)
        return snap.frames[entity]

    def _local(self, snap: _Snapshot, query: LatestAt, entity: EntityPath) -> _Local:
        local = snap.locals.get(entity)
        if local is not None:
            return local
        # ancestors (whose recursive clears apply here) record theirs in their own _local
        snap.generations[entity] = self.db.entity_generation(entity)
        comps = self._components(entity)
        if not comps:
            local = _Local(None, None, None, None)
        else:
            errors: list[str] = []
            parent_from = self._row(query, entity, comps, TRANSFORM3D, errors)
            poses = self._row(query, entity, comps, POSES, errors)
            pinhole = self._pinhole(query, entity, comps, errors)
            if COORDINATE_FRAME in comps and query.result(entity, COORDINATE_FRAME) is not None:
                errors.append("CoordinateFrame (named transform frames) is not supported")
            local = _Local(parent_from, poses, pinhole, "; ".join(errors) or None)
        snap.locals[entity] = local
        return local

    def _row(
        self,
        query: LatestAt,
        entity: EntityPath,
        comps: tuple[str, ...],
        fields: tuple[str, ...],
        errors: list[str],
    ):  # type: ignore[no-untyped-def]
        """The parsed latest atomic row of an archetype at the cursor (None: none or cleared)."""
        if not any(f in comps for f in fields):
            return None
        key = (entity, fields, query.timeline)
        rows = self._rows.get(key)
        if rows is None:
            rows = self._rows[key] = _AtomicRows(fields)
        rows.update(self.db, entity, query.timeline)
        pos = rows.latest(query.t if query.timeline is not None else None)
        if pos < 0:
            return None
        bound = query.clear_bound(entity)
        if bound is not None and rows.keys[pos] <= bound:
            return None
        value, error = rows.parse(pos)
        if error:
            errors.append(error)
        return value

    def _pinhole(
        self, query: LatestAt, entity: EntityPath, comps: tuple[str, ...], errors: list[str]
    ) -> PinholeInfo | None:
        row = self._row(query, entity, comps, PINHOLE_ATOMIC, errors)
        if row is None:
            return None
        code = None
        if PIN_CAMERA_XYZ in comps:
            code = _view_code(_first_cell(query, entity, PIN_CAMERA_XYZ))  # type: ignore[arg-type]
        if code is None and VIEW_COORDINATES in comps:
            code = _view_code(_first_cell(query, entity, VIEW_COORDINATES))  # type: ignore[arg-type]
        distance = self.default_image_plane_distance
        if PIN_PLANE_DISTANCE in comps:
            value = _first_cell(query, entity, PIN_PLANE_DISTANCE)
            if isinstance(value, (int, float)) and value > 0.0:
                distance = float(value)
        return PinholeInfo(row.image_from_camera, row.resolution, code or "RDF", distance)

    # ---------------------------------------------------------------- answers

    def _answer(
        self, snap: _Snapshot, query: LatestAt, origin: EntityPath, wanted: tuple[EntityPath, ...]
    ) -> Resolved:
        out = Resolved()
        o = self._frame(snap, query, origin)
        try:
            origin_from_root = np.linalg.inv(o.root_from_entity)
        except np.linalg.LinAlgError:
            for entity in wanted:
                out.errors[entity] = f"the transform of the origin {origin} is not invertible"
            return out
        # origin <- image plane of each pinhole space embedded in the origin's space
        plane_cache: dict[EntityPath, np.ndarray] = {}
        for entity in wanted:
            e = self._frame(snap, query, entity)
            local = snap.locals[entity]
            if local.error:
                out.errors[entity] = local.error
            space = snap.spaces.get(e.space)
            if e.space == o.space:
                m = e.root_from_entity if o.root_from_entity is _EYE4 else _frozen(
                    origin_from_root @ e.root_from_entity
                )
                image_space = e.space if space is not None else None
            elif space is not None and space.parent_space == o.space:
                plane = plane_cache.get(e.space)
                if plane is None:
                    plane = plane_cache[e.space] = (
                        origin_from_root @ space.parent_from_camera
                        @ space.pinhole.camera_from_image_plane()
                    )
                m = _frozen(plane @ e.root_from_entity)
                image_space = e.space
            elif snap.spaces.get(o.space) is not None and snap.spaces[o.space].parent_space == e.space:
                out.errors[entity] = f"3D content is not projected into the image space of {o.space}"
                continue
            else:
                out.errors[entity] = f"no transform path from {entity} to {origin}"
                continue
            camera = None
            own = snap.spaces.get(entity)
            if own is not None and own.parent_space == o.space:
                camera = _frozen(origin_from_root @ own.parent_from_camera)
            out[entity] = EntityTransform(
                origin_from_entity=m,
                instance_poses=local.poses,
                image_space=image_space,
                pinhole=local.pinhole,
                origin_from_camera=camera,
            )
        return out
