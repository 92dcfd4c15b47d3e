"""Shared pieces of the visualizers: reading cells as numpy, Rerun's instance rules
(clamping: a short component repeats its last value), colours, radii, labels, and
placing entity-local geometry in the view origin's coordinates.

Everything is vectorized over instances: a visualizer never loops over points, boxes or
strips in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from viewer.scene import colors
from viewer.scene.draw import EntityDraw, Label
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

RGBA = tuple[int, int, int, int]

#: Rerun's instance limit: labels are shown by default only below this many instances.
MAX_DEFAULT_LABELS = 30
#: Labels made per batch at most, even when show_labels asks for all (a label is a
#: Python object; a million of them would stall a rebuild).
MAX_LABELS = 10_000


class VisualizerError(ValueError):
    """Data an archetype cannot be drawn from; the message says why."""


# ---------------------------------------------------------------- reading cells


def cell(ctx: VisualizerContext, entity: EntityPath, component: str) -> pa.Array | None:
    """The latest-at instances of ``Archetype:field`` (None: absent, cleared or empty)."""
    value = ctx.query.cell(entity, component)
    if value is None or len(value) == 0:
        return None
    return value


def vectors(arr: pa.Array | None, dim: int) -> np.ndarray | None:
    """A ``fixed_size_list<float>[dim]`` cell -> (n, dim) float64."""
    if arr is None:
        return None
    flat = arr.flatten().to_numpy(zero_copy_only=False)
    if flat.size % dim:
        raise VisualizerError(f"expected {dim}-vectors, got {flat.size} values")
    return flat.reshape(-1, dim).astype(np.float64, copy=False)


def scalars(arr: pa.Array | None, dtype: type | np.dtype = np.float64) -> np.ndarray | None:
    """A primitive cell -> (n,) array (nulls become 0)."""
    if arr is None:
        return None
    if arr.null_count:
        arr = arr.fill_null(0)
    return arr.to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def mono(arr: pa.Array | None, default: object) -> object:
    """The first instance of a cell as a Python value, or ``default``."""
    if arr is None:
        return default
    value = arr[0].as_py()
    return default if value is None else value


def strings(arr: pa.Array | None) -> list[str]:
    return [] if arr is None else [s if s is not None else "" for s in arr.to_pylist()]


def clamped(values: np.ndarray, n: int) -> np.ndarray:
    """Rerun's clamping: ``values`` made ``n`` long by repeating the last one (a view when
    one value is broadcast)."""
    m = len(values)
    if m == n:
        return values
    if m == 1:
        return np.broadcast_to(values[0], (n, *values.shape[1:]))
    if m > n:
        return values[:n]
    return values[np.minimum(np.arange(n), m - 1)]


def draw_order(ctx: VisualizerContext, entity: EntityPath, archetype: str,
               default: float) -> float:
    return float(mono(cell(ctx, entity, f"{archetype}:draw_order"), default))


# ---------------------------------------------------------------- colours


def unpack_rgba(packed: np.ndarray) -> np.ndarray:
    """``0xRRGGBBAA`` uint32 -> (n, 4) uint8 (the colour module's unpacking)."""
    return colors.unpack_rgba(packed)


def class_color(ctx: VisualizerContext, entity: EntityPath, class_id: int,
                keypoint_id: int | None = None) -> RGBA:
    """Annotation colour of a class (or of a keypoint of it), else the class's default."""
    ann = ctx.annotations_for(entity)
    if keypoint_id is not None:
        _, kp_color = ann.keypoint(class_id, keypoint_id)
        if kp_color is not None:
            return tuple(kp_color)  # type: ignore[return-value]
    color = ann.class_color(class_id)
    return tuple(color) if color is not None else colors.class_color(class_id)  # type: ignore[return-value]


def class_label(ctx: VisualizerContext, entity: EntityPath, class_id: int,
                keypoint_id: int | None = None) -> str | None:
    ann = ctx.annotations_for(entity)
    if keypoint_id is not None:
        label, _ = ann.keypoint(class_id, keypoint_id)
        if label is not None:
            return label
    return ann.class_label(class_id)


def _class_keys(class_ids: np.ndarray, keypoint_ids: np.ndarray | None) -> np.ndarray:
    if keypoint_ids is None:
        return class_ids.astype(np.int64)
    return class_ids.astype(np.int64) * 65536 + keypoint_ids.astype(np.int64)


def instance_colors(ctx: VisualizerContext, entity: EntityPath, archetype: str, n: int,
                    class_ids: np.ndarray | None = None,
                    keypoint_ids: np.ndarray | None = None,
                    field: str = "colors") -> np.ndarray:
    """(n, 4) uint8: explicit colours win, then class / keypoint colours, then the entity's.

    A single colour (explicit or default) is broadcast: a read-only (n, 4) view."""
    packed = scalars(cell(ctx, entity, f"{archetype}:{field}"), np.uint32)
    if packed is not None:
        return clamped(unpack_rgba(packed), n)
    if class_ids is not None and keypoint_ids is None:
        return ctx.annotations_for(entity).colors_for_classes(np.asarray(class_ids))
    if class_ids is not None:
        keys = _class_keys(class_ids, keypoint_ids)
        uniq, inverse = np.unique(keys, return_inverse=True)
        has_kp = keypoint_ids is not None
        table = np.array([class_color(ctx, entity, int(k) >> 16 if has_kp else int(k),
                                      int(k) & 0xFFFF if has_kp else None) for k in uniq],
                         dtype=np.uint8).reshape(-1, 4)
        return table[inverse.reshape(-1)]
    return np.broadcast_to(np.array(colors.entity_color(entity), np.uint8), (n, 4))


def radius_scale(ctx: VisualizerContext, archetype: str) -> float:
    """How much the entity's transform scales a length: the mean length of the columns of
    its linear part (the first two for 2D archetypes, which a pinhole lifts onto its image
    plane). Rerun scales radii in scene units by it; UI-point radii stay as they are."""
    linear = np.asarray(ctx.transform.origin_from_entity, np.float64)[:3, :3]
    k = 2 if archetype.endswith("2D") else 3
    norms = np.sqrt((linear[:, :k] ** 2).sum(axis=0))
    scale = float(norms.mean())
    return scale if np.isfinite(scale) and scale > 0.0 else 1.0


def instance_radii(ctx: VisualizerContext, entity: EntityPath, archetype: str, n: int,
                   default: float, field: str = "radii") -> np.ndarray:
    """(n,) float64 in Rerun's convention (negative = UI points); a positive radius is in
    the entity's own units, so it is scaled like the entity (`radius_scale`)."""
    radii = scalars(cell(ctx, entity, f"{archetype}:{field}"))
    if radii is None:
        return np.broadcast_to(np.float64(default), (n,))
    radii = clamped(radii, n)
    scale = radius_scale(ctx, archetype)
    if scale != 1.0 and (radii > 0).any():
        radii = np.where(radii > 0, radii * scale, radii)
    return radii


def class_ids_of(ctx: VisualizerContext, entity: EntityPath, archetype: str,
                 n: int, field: str = "class_ids") -> np.ndarray | None:
    ids = scalars(cell(ctx, entity, f"{archetype}:{field}"), np.int64)
    return None if ids is None else clamped(ids, n)


def add_labels(ctx: VisualizerContext, entity: EntityPath, archetype: str,
               out: EntityDraw, positions: np.ndarray, colors_: np.ndarray,
               class_ids: np.ndarray | None = None,
               keypoint_ids: np.ndarray | None = None, *,
               extent: np.ndarray | None = None,
               wrap_widths: np.ndarray | None = None) -> None:
    """Rerun's label policy: explicit labels per instance (one label for many instances
    goes to the centre of the bounds of ``extent``, all the batch draws, default: of the
    anchors), else class / keypoint labels; shown by default when there is one label or
    fewer than 30 instances, or as ``show_labels`` says.

    ``positions`` are the anchors (a label is centred under its anchor); ``wrap_widths``
    the widths of labelled 2D rectangles. A 2D archetype lifted into a 3D view (onto a
    pinhole's image plane) gets no labels: Rerun shows 2D labels in 2D views only."""
    n = len(positions)
    if n == 0 or (ctx.dims == 3 and archetype.endswith("2D")):
        return
    texts = strings(cell(ctx, entity, f"{archetype}:labels"))
    show = mono(cell(ctx, entity, f"{archetype}:show_labels"), None)
    if show is None:
        show = len(texts) == 1 or n < MAX_DEFAULT_LABELS
    if not show:
        return
    if len(texts) == 1 and n > 1:
        pts = positions if extent is None else extent.reshape(-1, positions.shape[1])
        finite = pts[np.isfinite(pts).all(axis=1)]
        if not len(finite):
            return
        center = (finite.min(axis=0) + finite.max(axis=0)) / 2.0
        out.labels.append(Label(center, texts[0], _rgba(colors_[0])))
        return
    if not texts and class_ids is None:
        return
    count = min(n if class_ids is not None else min(n, len(texts)), MAX_LABELS)
    for i in range(count):
        text: str | None = texts[i] if i < len(texts) else None
        if text is None and class_ids is not None:
            kp = None if keypoint_ids is None else int(keypoint_ids[i])
            text = class_label(ctx, entity, int(class_ids[i]), kp)
        if text:
            wrap = 0.0 if wrap_widths is None else float(wrap_widths[i])
            out.labels.append(Label(positions[i].copy(), text,
                                    _rgba(colors_[min(i, len(colors_) - 1)]), wrap))


def _rgba(c: np.ndarray | Sequence[int]) -> RGBA:
    return (int(c[0]), int(c[1]), int(c[2]), int(c[3]))


# ---------------------------------------------------------------- placement


def origin_from_instances(ctx: VisualizerContext) -> np.ndarray:
    """(k, 4, 4): origin_from_entity, times each InstancePoses3D pose when there are any."""
    base = np.asarray(ctx.transform.origin_from_entity, np.float64)
    poses = ctx.transform.instance_poses
    if poses is None or len(poses) == 0:
        return base[None]
    return np.einsum("ij,kjl->kil", base, np.asarray(poses, np.float64))


_EYE4 = np.eye(4)
_AFFINE_ROW = np.array([0.0, 0.0, 0.0, 1.0])


def is_identity(m: np.ndarray) -> bool:
    return bool(np.array_equal(m, _EYE4))


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """One 4x4 applied to (n, 3) points -> (n, 3) float64 (projective rows divide by w)."""
    if is_identity(m):
        return pts.astype(np.float64, copy=False)
    out = pts @ m[:3, :3].T + m[:3, 3]
    if not np.array_equal(m[3], _AFFINE_ROW):
        w = pts @ m[3, :3] + m[3, 3]
        out = out / w[:, None]
    return out


def apply_all(ms: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(k, 4, 4) applied to (n, 3) -> (k * n, 3): the whole batch once per transform."""
    if len(ms) == 1:
        return apply(ms[0], pts)
    return np.concatenate([apply(m, pts) for m in ms])


def lift_2d(pts: np.ndarray) -> np.ndarray:
    """(n, 2) -> (n, 3) with z = 0 (2D data in its entity's plane)."""
    out = np.zeros((len(pts), 3))
    out[:, :2] = pts
    return out


def place_2d(ctx: VisualizerContext, pts: np.ndarray) -> np.ndarray:
    """2D entity-local positions to the view: (k * n, 2) pixels in a 2D view, (k * n, 3) on
    the camera's image plane in a 3D view."""
    ms = origin_from_instances(ctx)
    if ctx.dims == 2 and all(is_identity(m) for m in ms):
        return np.tile(pts.astype(np.float64, copy=False), (len(ms), 1)) if len(ms) > 1 \
            else pts.astype(np.float64, copy=False)
    placed = apply_all(ms, lift_2d(pts))
    return placed[:, :2] if ctx.dims == 2 else placed


def tile(values: np.ndarray, k: int) -> np.ndarray:
    """A per-instance array repeated once per instance pose."""
    if k == 1:
        return values
    return np.concatenate([values] * k)


# ---------------------------------------------------------------- rotations


def quaternions_to_matrices(q: np.ndarray) -> np.ndarray:
    """(n, 4) xyzw -> (n, 3, 3). A zero or non-finite quaternion gives a zero matrix (the
    instance collapses, as in Rerun)."""
    norm = np.linalg.norm(q, axis=1)
    ok = np.isfinite(norm) & (norm > 0)
    qn = np.where(ok[:, None], q / np.where(ok, norm, 1.0)[:, None], 0.0)
    x, y, z, w = qn.T
    m = np.empty((len(q), 3, 3))
    m[:, 0, 0] = 1 - 2 * (y * y + z * z)
    m[:, 0, 1] = 2 * (x * y - z * w)
    m[:, 0, 2] = 2 * (x * z + y * w)
    m[:, 1, 0] = 2 * (x * y + z * w)
    m[:, 1, 1] = 1 - 2 * (x * x + z * z)
    m[:, 1, 2] = 2 * (y * z - x * w)
    m[:, 2, 0] = 2 * (x * z - y * w)
    m[:, 2, 1] = 2 * (y * z + x * w)
    m[:, 2, 2] = 1 - 2 * (x * x + y * y)
    m[~ok] = 0.0
    return m


def axis_angles_to_matrices(axes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(n, 3) axes and (n,) radians -> (n, 3, 3) (Rodrigues). A zero axis collapses."""
    norm = np.linalg.norm(axes, axis=1)
    ok = np.isfinite(norm) & (norm > 0) & np.isfinite(angles)
    k = np.where(ok[:, None], axes / np.where(ok, norm, 1.0)[:, None], 0.0)
    c, s = np.cos(angles), np.sin(angles)
    kx, ky, kz = k.T
    cross = np.zeros((len(k), 3, 3))
    cross[:, 0, 1], cross[:, 0, 2] = -kz, ky
    cross[:, 1, 0], cross[:, 1, 2] = kz, -kx
    cross[:, 2, 0], cross[:, 2, 1] = -ky, kx
    outer = np.einsum("ni,nj->nij", k, k)
    m = (c[:, None, None] * np.eye(3) + s[:, None, None] * cross
         + (1 - c)[:, None, None] * outer)
    m[~ok] = 0.0
    return m


def axis_angle_cell(arr: pa.Array | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A ``struct<axis, angle>`` cell -> ((n, 3) axes, (n,) angles)."""
    if arr is None:
        return None
    axes = vectors(arr.field("axis"), 3)
    angles = arr.field("angle").to_numpy(zero_copy_only=False).astype(np.float64)
    assert axes is not None
    return axes, angles


def perpendiculars(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to each (n, 3) vector and to each other."""
    n = len(v)
    length = np.linalg.norm(v, axis=1)
    d = v / np.where(length > 0, length, 1.0)[:, None]
    helper = np.zeros((n, 3))
    use_y = np.abs(d[:, 0]) > 0.9
    helper[~use_y, 0] = 1.0
    helper[use_y, 1] = 1.0
    a = np.cross(d, helper)
    a /= np.maximum(np.linalg.norm(a, axis=1), 1e-300)[:, None]
    b = np.cross(d, a)
    return a, b
