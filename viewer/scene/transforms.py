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
such a row is skipped and reported. Clear applies (``LatestAt.clear_bound``): a cleared
Transform3D / InstancePoses3D / Pinhole row no longer counts. Static rows sort before any
time, so a temporal row wins from its time on (Rerun's transform cache does the same).

How it stays cheap: per entity and archetype, a numpy table of every row that logged a
field, sorted by (time, RowId) and extended in place as chunks arrive, turns latest-at into
one binary search. The Transform3D rows a time cursor needs are turned into matrices in
one numpy batch, and frames are composed with one batched matmul per tree depth. Results
are kept per time cursor ``(timeline, t)`` (the last few): each entity's frame and each
``(origin, entities)`` answer, valid while the generations of the entities read (and
their ancestors) are unchanged, so data streaming into other entities costs one dict
lookup per entity, not a re-resolve.

Measured (a robot of moving links: chains of depth 5 under ``robot/``, each link a
temporal translation + quaternion on 600 frames, one point cloud leaf per chain; 2 cores
shared with other jobs, load 2-2.5; medians over 50 new cursors, range of 3 runs)::

    .venv/bin/python tests/scene/test_scene_transforms.py --bench

    100 links (20 chains) + 20 leaves:   new cursor 2.0-3.2 ms, same cursor 0.03 ms,
                                         first resolve (builds the row tables) ~110 ms
    500 links (100 chains) + 100 leaves: new cursor 9-15 ms, same cursor 0.07-0.1 ms,
                                         first resolve ~180-220 ms
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from viewer.scene.query import CLEAR, Index, LatestAt
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
_TOPOLOGIES = 32  # entity sets whose ancestor trees are kept
_PARSED_PER_TABLE = 256  # parsed rows kept per entity and archetype
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
    m.setflags(write=False)  # much cheaper than assigning m.flags.writeable
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


# ------------------------------------------------------------------ Transform3D, batched


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
_WIDTH = {T3D_TRANSLATION: 3, T3D_QUATERNION: 4, T3D_SCALE: 3, T3D_MAT3X3: 9}


@dataclass(slots=True)
class _Column:
    """One Transform3D field of a chunk: per row whether it has a value, more than one, the
    index of its first value, and the values (zero-copy numpy where arrow allows)."""

    has: list[bool]
    multi: list[bool]
    first: list[int]
    values: object  # (m, k) floats; (axes, angles) for axis-angle; list of str for frames


def _columns(chunk: Chunk) -> dict[str, _Column]:
    out: dict[str, _Column] = {}
    for name in TRANSFORM3D:
        column = chunk.components.get(name)
        if column is None:
            continue
        offsets = np.asarray(column.offsets, dtype=np.int64)
        counts = np.diff(offsets)
        if column.null_count:
            counts = np.where(column.is_valid().to_numpy(zero_copy_only=False), counts, 0)
        child = column.values  # offsets index into it directly
        values: object
        if name in _WIDTH:
            values = child.flatten().to_numpy(zero_copy_only=False).reshape(-1, _WIDTH[name])
        elif name == T3D_AXIS_ANGLE:
            parts = dict(zip([f.name for f in child.type], child.flatten(), strict=True))
            values = (parts["axis"].flatten().to_numpy(zero_copy_only=False).reshape(-1, 3),
                      parts["angle"].to_numpy(zero_copy_only=False))
        elif name == T3D_RELATION:
            values = child.to_numpy(zero_copy_only=False)
        else:  # frame names
            values = child.to_pylist()
        out[name] = _Column((counts >= 1).tolist(), (counts > 1).tolist(), offsets[:-1].tolist(),
                            values)
    return out


# Keyed by chunk object and id: a merged or re-sorted copy of a chunk keeps its id.
_columns_cache: dict[tuple[int, bytes], tuple[int, dict[str, _Column]]] = {}
_COLUMN_CHUNKS = 4096  # chunks whose Transform3D columns are kept (all dropped when full)


def _columns_of(chunk: Chunk) -> dict[str, _Column]:
    key = (id(chunk), chunk.id)
    hit = _columns_cache.get(key)
    if hit is None or hit[0] != chunk.num_rows:
        if len(_columns_cache) >= _COLUMN_CHUNKS:
            _columns_cache.clear()
        hit = _columns_cache[key] = (chunk.num_rows, _columns(chunk))
    return hit[1]


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


def transform3d_batch(refs: Sequence[tuple[Chunk, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The Transform3D rows ``refs`` (chunk, row) as ((k, 4, 4) parent_from_entity, (k,) error
    code into ``_T3D_ERRORS``); rows with an error hold identity. One numpy pass for all rows,
    so a new time cursor costs the same few array operations for 5 or 500 links."""
    k = len(refs)
    present = {name: np.zeros(k, dtype=bool) for name in TRANSFORM3D}
    floats = {name: np.zeros((k, w)) for name, w in _WIDTH.items()}
    axes, angles = np.zeros((k, 3)), np.zeros(k)
    relation = np.zeros(k, dtype=np.int64)
    err = np.zeros(k, dtype=np.int8)
    gathered: dict[str, tuple[list[int], list]] = {name: ([], []) for name in TRANSFORM3D}
    for i, (chunk, row) in enumerate(refs):
        for name, col in _columns_of(chunk).items():
            if not col.has[row]:
                continue
            if col.multi[row]:
                err[i] = err[i] or 1
            j = col.first[row]
            if name == T3D_AXIS_ANGLE:
                value = (col.values[0][j], col.values[1][j])  # type: ignore[index]
            elif name in (T3D_PARENT_FRAME, T3D_CHILD_FRAME):
                if col.values[j]:  # type: ignore[index]  # a named frame
                    err[i] = err[i] or 2
                continue
            else:
                value = col.values[j]  # type: ignore[index]
            at, values = gathered[name]
            at.append(i)
            values.append(value)
    for name, (at, values) in gathered.items():
        if not at:
            continue
        present[name][at] = True
        if name in _WIDTH:
            floats[name][at] = np.array(values)
        elif name == T3D_AXIS_ANGLE:
            axes[at] = np.array([a for a, _ in values])
            angles[at] = [float(angle) for _, angle in values]
        elif name == T3D_RELATION:
            relation[at] = values

    def flag(rows: np.ndarray, code: int) -> None:
        err[rows & (err == 0)] = code

    m3 = np.tile(np.eye(3), (k, 1, 1))
    rows = present[T3D_AXIS_ANGLE]
    if rows.any():
        norms = np.linalg.norm(axes, axis=1)
        bad = rows & ~((norms > 0) & np.isfinite(norms) & np.isfinite(angles))
        flag(bad, 3)
        rows = rows & ~bad
        m3[rows] = m3[rows] @ _rodrigues(axes[rows] / norms[rows, None], angles[rows])
    rows = present[T3D_QUATERNION]
    if rows.any():
        q = floats[T3D_QUATERNION]
        norms = np.linalg.norm(q, axis=1)
        bad = rows & ~((norms > 0) & np.isfinite(norms))
        flag(bad, 4)
        rows = rows & ~bad
        m3[rows] = m3[rows] @ _quat_matrices(q[rows] / norms[rows, None])
    rows = present[T3D_SCALE]
    if rows.any():
        scale = floats[T3D_SCALE]
        flag(rows & ~scale.any(axis=1), 5)
        m3[rows] = m3[rows] * scale[rows, None, :]  # == m3 @ diag(scale)
    rows = present[T3D_MAT3X3]
    if rows.any():
        mats = floats[T3D_MAT3X3].reshape(-1, 3, 3).transpose(0, 2, 1)  # stored column-major
        flag(rows & (np.linalg.det(mats) == 0.0), 6)
        m3[rows] = m3[rows] @ mats[rows]
    out = np.zeros((k, 4, 4))
    out[:, :3, :3] = m3
    out[:, :3, 3] = floats[T3D_TRANSLATION]
    out[:, 3, 3] = 1.0
    inverted = present[T3D_RELATION] & (relation == CHILD_FROM_PARENT) & (err == 0)
    if inverted.any():
        det = np.linalg.det(m3)
        singular = inverted & ~((det != 0.0) & np.isfinite(det))
        flag(singular, 7)
        inverted &= ~singular
        if inverted.any():
            out[inverted] = np.linalg.inv(out[inverted])
    flag(~np.isfinite(out).all(axis=(1, 2)), 8)
    out[err != 0] = np.eye(4)
    return out, err


# ------------------------------------------------------------------ poses and pinholes, per row


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
    return _frozen(poses), "InstancePoses3D: invalid rotation treated as identity" if invalid else None


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
    resolution = None
    if PIN_RESOLUTION in cells:
        w, h = cells[PIN_RESOLUTION][0]
        resolution = (float(w), float(h))
    return _PinholeRow(_frozen(image_from_camera), resolution), None


_PARSERS = {POSES: _poses, PINHOLE_ATOMIC: _pinhole_row}


# ------------------------------------------------------------------ atomic rows


_COLUMNS = ("times", "hi", "lo", "chunk", "row")  # the sorted row table, one array each


class _AtomicRows:
    """Every row of one entity that logged any field of one archetype, on one timeline, as
    numpy columns sorted by (time, RowId); static rows sort first. Latest-at is then one
    binary search. New chunks that only add later rows are appended in place (capacity
    doubles); anything else re-sorts or rebuilds."""

    __slots__ = ("chunk_ids", "chunks", "fields", "generation", "n", "parsed", "view", *_COLUMNS)

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.generation = -2
        self.parsed: dict[Index, tuple[object, str | None]] = {}
        self._reset()

    def _reset(self) -> None:
        self.chunk_ids: set[bytes] = set()
        self.chunks: list[Chunk] = []
        self.n = 0
        self.times = np.empty(0, np.int64)
        self.hi = np.empty(0, np.uint64)
        self.lo = np.empty(0, np.uint64)
        self.chunk = np.empty(0, np.int64)
        self.row = np.empty(0, np.int64)
        self.view = self.times  # times[:n], kept for searchsorted
        self.parsed.clear()

    def update(self, db: EntityDb, entity: EntityPath, timeline: str | None,
               generation: int) -> None:
        """Catch up with the entity's chunks (``generation``: its current generation)."""
        if generation == self.generation:
            return
        self.generation = generation
        chunks = db.chunks_of(entity)
        if not self.chunk_ids.issubset(c.id for c in chunks):
            self._reset()  # a chunk went away: start over
        parts = []
        for chunk in chunks:
            if chunk.id not in self.chunk_ids:
                self.chunk_ids.add(chunk.id)
                part = self._rows_of(chunk, timeline, len(self.chunks))
                if part is not None:
                    self.chunks.append(chunk)
                    parts.append(part)
        if not parts:
            return
        new = [np.concatenate(col) for col in zip(*parts, strict=True)]
        order = np.lexsort((new[2], new[1], new[0]))
        new = [col[order] for col in new]
        n = self.n
        if n and (int(new[0][0]), int(new[1][0]), int(new[2][0])) < self.key(n - 1):
            # rows earlier than what we hold: merge and sort everything again
            new = [np.concatenate((getattr(self, c)[:n], col)) for c, col in zip(_COLUMNS, new, strict=True)]
            order = np.lexsort((new[2], new[1], new[0]))
            new = [col[order] for col in new]
            n = self.n = 0
        m = len(new[0])
        if n + m > len(self.times):  # grow: amortized O(1) appends while streaming
            capacity = max(2 * len(self.times), n + m, 16)
            for c in _COLUMNS:
                old = getattr(self, c)
                grown = np.empty(capacity, old.dtype)
                grown[:n] = old[:n]
                setattr(self, c, grown)
        for c, col in zip(_COLUMNS, new, strict=True):
            getattr(self, c)[n:n + m] = col
        self.n = n + m
        self.view = self.times[:self.n]

    def _rows_of(self, chunk: Chunk, timeline: str | None, index: int) -> tuple | None:
        """(times, RowId hi, RowId lo, chunk index, row) of the chunk's rows logging any field."""
        present = [f for f in self.fields if f in chunk.components]
        if not present:
            return None
        if chunk.is_static:
            times = None
        else:
            tc = chunk.timelines.get(timeline) if timeline is not None else None
            if tc is None:
                return None
            times = tc.times
        mask: np.ndarray | None = np.zeros(chunk.num_rows, dtype=bool)
        for name in present:
            valid = chunk.valid_rows(name)
            if valid is None:
                mask = None
                break
            mask |= valid
        rows = np.arange(chunk.num_rows) if mask is None else np.flatnonzero(mask)
        if not len(rows):
            return None
        rid = chunk.row_ids[rows]
        t = np.full(len(rows), STATIC_TIME, np.int64) if times is None else times[rows]
        return (t.astype(np.int64, copy=False), rid[:, 0].astype(np.uint64, copy=False),
                rid[:, 1].astype(np.uint64, copy=False), np.full(len(rows), index, np.int64),
                rows.astype(np.int64, copy=False))

    def latest(self, t: int | None) -> int:
        """Position of the latest row at ``t`` (None: static rows only), -1 if none."""
        return int(self.view.searchsorted(STATIC_TIME if t is None else t, "right")) - 1

    def key(self, pos: int) -> Index:
        return int(self.times[pos]), int(self.hi[pos]), int(self.lo[pos])

    def ref(self, pos: int) -> tuple[Chunk, int]:
        return self.chunks[int(self.chunk[pos])], int(self.row[pos])

    def parse(self, pos: int) -> tuple[object, str | None]:
        """A pose or pinhole row, parsed once (the last few hundred are kept)."""
        key = self.key(pos)
        hit = self.parsed.get(key)
        if hit is None:
            chunk, row = self.ref(pos)
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
class _Info:
    """Which transform archetypes an entity holds (per entity generation) and its row tables
    (kept across generations: they update incrementally)."""

    generation: int
    comps: frozenset[str]
    t3d: bool
    poses: bool
    pinhole: bool
    clear: bool  # holds Clear rows
    named_frame: bool  # holds CoordinateFrame rows
    tables: dict[tuple[int, str | None], _AtomicRows]


class _Node:
    """One entity at one cursor: what it logs itself and its frame in its space (the root
    "/" or a pinhole entity)."""

    __slots__ = ("clearable", "error", "generation", "parent_from_entity", "pinhole", "poses",
                 "root_from_entity", "space")

    def __init__(self, generation: int, clearable: bool) -> None:
        self.generation = generation
        self.clearable = clearable  # a Clear on it or an ancestor could hide rows
        self.parent_from_entity: np.ndarray | None = None  # None: no Transform3D (identity)
        self.poses: np.ndarray | None = None
        self.pinhole: PinholeInfo | None = None
        self.error: str | None = None
        self.space: EntityPath | None = None
        self.root_from_entity: np.ndarray = _EYE4  # space root coordinates <- entity coordinates


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
        self.nodes: dict[EntityPath, _Node] = {}
        self.spaces: dict[EntityPath, _Space] = {}
        self.answers: dict[tuple[EntityPath, tuple[EntityPath, ...]], Resolved] = {}


# The atomic archetypes, by the index their row tables are kept under.
_T3D, _POSES, _PINHOLE = 0, 1, 2
_ATOMIC = (TRANSFORM3D, POSES, PINHOLE_ATOMIC)


class TransformResolver:
    """Origin-from-entity 4x4 for every entity of a view, cached per time cursor."""

    def __init__(self, db: EntityDb) -> None:
        self.db = db
        self.default_image_plane_distance = DEFAULT_IMAGE_PLANE_DISTANCE
        self._snapshots: OrderedDict[tuple[str | None, int | None, float], _Snapshot] = (
            OrderedDict()
        )
        self._infos: dict[EntityPath, _Info] = {}
        self._topologies: dict[tuple[EntityPath, ...], list] = {}

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
                if component in self._info(path).comps:
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
            if all(entity_generation(e) == n.generation for e, n in snap.nodes.items()):
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

    def _info(self, entity: EntityPath) -> _Info:
        gen = self.db.entity_generation(entity)
        info = self._infos.get(entity)
        if info is not None and info.generation == gen:
            return info
        comps = frozenset(c for c in self.db.components(entity) if c in _RELEVANT or c == CLEAR)
        info = self._infos[entity] = _Info(
            gen, comps,
            t3d=not comps.isdisjoint(TRANSFORM3D),
            poses=not comps.isdisjoint(POSES),
            pinhole=PIN_IMAGE_FROM_CAMERA in comps,
            clear=CLEAR in comps,
            named_frame=COORDINATE_FRAME in comps,
            tables={} if info is None else info.tables,
        )
        return info

    # ---------------------------------------------------------------- frames

    def _topology(
        self, entities: tuple[EntityPath, ...]
    ) -> list[list[tuple[EntityPath, EntityPath | None]]]:
        """The entities and all their ancestors as (node, parent), grouped by depth, parents
        first. Paths do not change with time: kept per entity set."""
        levels = self._topologies.get(entities)
        if levels is not None:
            return levels
        seen: dict[EntityPath, EntityPath | None] = {}
        for entity in entities:
            path: EntityPath | None = entity
            while path is not None and path not in seen:
                seen[path] = parent = path.parent
                path = parent
        by_depth: dict[int, list[tuple[EntityPath, EntityPath | None]]] = {}
        for node, parent in seen.items():
            by_depth.setdefault(len(node.parts), []).append((node, parent))
        levels = [by_depth[d] for d in sorted(by_depth)]
        self._topologies[entities] = levels
        if len(self._topologies) > _TOPOLOGIES:
            self._topologies.pop(next(iter(self._topologies)))
        return levels

    def _ensure_frames(
        self, snap: _Snapshot, query: LatestAt, entities: tuple[EntityPath, ...]
    ) -> None:
        """Give every entity (and each ancestor) its frame in its space at the cursor."""
        nodes = snap.nodes
        new: list[list[tuple[EntityPath, EntityPath | None]]] = []
        pending: list[tuple[_Node, tuple[Chunk, int]]] = []
        for level in self._topology(entities):
            fresh = [(node, parent) for node, parent in level if node not in nodes]
            for node, parent in fresh:
                nodes[node] = self._node(query, node, None if parent is None else nodes[parent],
                                         pending)
            if fresh:
                new.append(fresh)
        if pending:
            mats, codes = transform3d_batch([ref for _, ref in pending])
            _frozen(mats)
            for i, (item, _) in enumerate(pending):
                if codes[i]:
                    item.error = "; ".join(filter(None, (_T3D_ERRORS[codes[i]], item.error)))
                else:
                    item.parent_from_entity = mats[i]
        self._compose(snap, new)

    @staticmethod
    def _compose(snap: _Snapshot, levels: list[list[tuple[EntityPath, EntityPath | None]]]) -> None:
        """root_from_entity = root_from_parent @ parent_from_entity, one batched matmul per
        tree depth (parents first); a pinhole starts its own space with identity."""
        nodes, spaces = snap.nodes, snap.spaces
        for level in levels:
            moved: list[tuple[_Node, _Node]] = []
            for node, parent in level:
                item = nodes[node]
                if parent is None:  # the root: its own Transform3D has no parent frame
                    item.space, item.root_from_entity = node, _EYE4
                else:
                    up = nodes[parent]
                    item.space, item.root_from_entity = up.space, up.root_from_entity
                    if item.parent_from_entity is not None:
                        moved.append((item, up))
            if len(moved) == 1:
                item, up = moved[0]
                item.root_from_entity = _frozen(up.root_from_entity @ item.parent_from_entity)
            elif moved:
                product = _frozen(np.matmul(
                    np.stack([up.root_from_entity for _, up in moved]),
                    np.stack([item.parent_from_entity for item, _ in moved]),  # type: ignore[misc]
                ))
                for i, (item, _) in enumerate(moved):
                    item.root_from_entity = product[i]
            for node, parent in level:
                item = nodes[node]
                if item.pinhole is not None:
                    spaces[node] = _Space(None if parent is None else item.space,
                                          item.root_from_entity, item.pinhole)
                    item.space, item.root_from_entity = node, _EYE4

    def _node(
        self,
        query: LatestAt,
        entity: EntityPath,
        parent: _Node | None,
        pending: list[tuple[_Node, tuple[Chunk, int]]],
    ) -> _Node:
        """What the entity itself logs at the cursor; its Transform3D row joins ``pending``."""
        info = self._info(entity)
        clearable = info.clear or (parent is not None and parent.clearable)
        node = _Node(info.generation, clearable)
        if not (info.t3d or info.poses or info.pinhole or info.named_frame):
            return node
        errors: list[str] = []
        if info.t3d:
            found = self._latest(query, entity, info, _T3D, clearable)
            if found is not None:
                pending.append((node, found[0].ref(found[1])))
        if info.poses:
            node.poses = self._parsed(query, entity, info, _POSES, clearable, errors)  # type: ignore[assignment]
        if info.pinhole:
            node.pinhole = self._pinhole(query, entity, info, clearable, errors)
        if info.named_frame and query.result(entity, COORDINATE_FRAME) is not None:
            errors.append("CoordinateFrame (named transform frames) is not supported")
        node.error = "; ".join(errors) or None
        return node

    def _latest(
        self,
        query: LatestAt,
        entity: EntityPath,
        info: _Info,
        kind: int,
        clearable: bool,
    ) -> tuple[_AtomicRows, int] | None:
        """The rows table and position of the latest atomic row at the cursor (None: no row,
        or cleared)."""
        key = (kind, query.timeline)
        rows = info.tables.get(key)
        if rows is None:
            rows = info.tables[key] = _AtomicRows(_ATOMIC[kind])
        rows.update(self.db, entity, query.timeline, info.generation)
        pos = rows.latest(query.t if query.timeline is not None else None)
        if pos < 0:
            return None
        if clearable:
            bound = query.clear_bound(entity)
            if bound is not None and rows.key(pos) <= bound:
                return None
        return rows, pos

    def _parsed(
        self,
        query: LatestAt,
        entity: EntityPath,
        info: _Info,
        kind: int,
        clearable: bool,
        errors: list[str],
    ) -> object | None:
        found = self._latest(query, entity, info, kind, clearable)
        if found is None:
            return None
        value, error = found[0].parse(found[1])
        if error:
            errors.append(error)
        return value

    def _pinhole(
        self, query: LatestAt, entity: EntityPath, info: _Info, clearable: bool,
        errors: list[str],
    ) -> PinholeInfo | None:
        row = self._parsed(query, entity, info, _PINHOLE, clearable, errors)
        if not isinstance(row, _PinholeRow):
            return None
        code = None
        if PIN_CAMERA_XYZ in info.comps:
            code = _view_code(_first_cell(query, entity, PIN_CAMERA_XYZ))  # type: ignore[arg-type]
        if code is None and VIEW_COORDINATES in info.comps:
            code = _view_code(_first_cell(query, entity, VIEW_COORDINATES))  # type: ignore[arg-type]
        distance = self.default_image_plane_distance
        if PIN_PLANE_DISTANCE in info.comps:
            value = _first_cell(query, entity, PIN_PLANE_DISTANCE)
            if isinstance(value, (int, float)) and value > 0.0:
                distance = float(value)
        return PinholeInfo(row.image_from_camera, row.resolution, code or "RDF", distance)

    # ---------------------------------------------------------------- answers

    def _answer(
        self, snap: _Snapshot, query: LatestAt, origin: EntityPath, wanted: tuple[EntityPath, ...]
    ) -> Resolved:
        out = Resolved()
        self._ensure_frames(snap, query, (origin, *wanted))  # origin first: its own key
        nodes, spaces = snap.nodes, snap.spaces
        o = nodes[origin]
        identity = o.root_from_entity is _EYE4
        try:
            origin_from_root = _EYE4 if identity else np.linalg.inv(o.root_from_entity)
        except np.linalg.LinAlgError:
            for entity in wanted:
                out.errors[entity] = f"the transform of the origin {origin} is not invertible"
            return out
        origin_space = spaces.get(o.space) if spaces else None  # type: ignore[arg-type]
        # Each entity's transform is left @ root_from_entity, with left = origin_from_root
        # (same space) or origin <- image plane (inside a pinhole seen from its parent space).
        lefts: dict[EntityPath | None, np.ndarray] = {}
        groups: dict[EntityPath | None, list[tuple[EntityPath, _Node, EntityPath | None]]] = {}
        for entity in wanted:
            e = nodes[entity]
            if e.error:
                out.errors[entity] = e.error
            space = spaces.get(e.space) if spaces else None  # type: ignore[arg-type]
            if e.space is o.space or e.space == o.space:
                key, image_space = None, e.space if space is not None else None
            elif space is not None and space.parent_space == o.space:
                key = image_space = e.space
                if key not in lefts:
                    lefts[key] = (origin_from_root @ space.parent_from_camera
                                  @ space.pinhole.camera_from_image_plane())
            elif origin_space is not None and origin_space.parent_space == e.space:
                out.errors[entity] = f"3D content is not projected into the image space of {o.space}"
                continue
            else:
                out.errors[entity] = f"no transform path from {entity} to {origin}"
                continue
            groups.setdefault(key, []).append((entity, e, image_space))
        for key, members in groups.items():
            left = origin_from_root if key is None else lefts[key]
            if left is _EYE4:
                mats = [e.root_from_entity for _, e, _ in members]
            else:
                mats = _frozen(np.matmul(left, np.stack([e.root_from_entity for _, e, _ in members])))
            for (entity, e, image_space), m in zip(members, mats, strict=True):
                camera = None
                own = spaces.get(entity) if spaces else None
                if own is not None and own.parent_space == o.space:
                    camera = _frozen(origin_from_root @ own.parent_from_camera)
                out[entity] = EntityTransform(m, e.poses, image_space, e.pinhole, camera)
        # keep the caller's order
        ordered = Resolved()
        for entity in wanted:
            if entity in out:
                ordered[entity] = out[entity]
        ordered.errors = out.errors
        return ordered
