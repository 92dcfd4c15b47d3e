"""Points3D and Points2D: one point batch, labels, and keypoint connections as lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import DEFAULT_POINT_RADIUS, EntityDraw, LineBatch, PointBatch
from viewer.scene.visualizers._common import (
    add_labels,
    apply_all,
    cell,
    clamped,
    class_color,
    class_ids_of,
    draw_order,
    instance_colors,
    instance_radii,
    origin_from_instances,
    place_2d,
    scalars,
    tile,
    vectors,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Points3D", "Points2D")
#: Rerun draws keypoint connections 1.5 UI points wide.
KEYPOINT_LINE_RADIUS = -1.5


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    dim = 3 if arch == "Points3D" else 2
    local = vectors(cell(ctx, entity, f"{arch}:positions"), dim)
    if local is None:
        return
    n = len(local)
    class_ids = class_ids_of(ctx, entity, arch, n)
    # keypoint ids only mean something within a class: without class ids they are unused
    kp = scalars(cell(ctx, entity, f"{arch}:keypoint_ids"), np.int64)
    keypoint_ids = None if kp is None or class_ids is None else clamped(kp, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids, keypoint_ids)
    radii = instance_radii(ctx, entity, arch, n, DEFAULT_POINT_RADIUS)
    if dim == 3:
        ms = origin_from_instances(ctx)
        positions = apply_all(ms, local)
    else:
        ms = origin_from_instances(ctx)
        positions = place_2d(ctx, local)
    k = len(ms)
    order = draw_order(ctx, entity, arch, 30.0)
    out.points.append(PointBatch(entity, arch, positions, tile(colors, k), tile(radii, k),
                                 draw_order=order))
    out.instances += n
    for i in range(k):  # every instance pose draws the whole batch, labels included
        add_labels(ctx, entity, arch, out, positions[i * n:(i + 1) * n], colors, class_ids,
                   keypoint_ids)
    if keypoint_ids is not None and class_ids is not None:
        _connections(ctx, entity, arch, out, positions, n, k, class_ids, keypoint_ids, order)


def _connections(ctx: VisualizerContext, entity: EntityPath, arch: str, out: EntityDraw,
                 positions: np.ndarray, n: int, k: int, class_ids: np.ndarray,
                 keypoint_ids: np.ndarray, order: float) -> None:
    """Segments between the keypoints an annotation context connects, per class."""
    ann = ctx.annotations_for(entity)
    starts: list[int] = []
    ends: list[int] = []
    seg_colors: list[tuple[int, int, int, int]] = []
    for cid in np.unique(class_ids):
        pairs = ann.connections(int(cid))
        if not pairs:
            continue
        in_class = np.flatnonzero(class_ids == cid)
        # the last point logged with a keypoint id wins, as a dict would
        index = dict(zip(keypoint_ids[in_class].tolist(), in_class.tolist(), strict=True))
        color = class_color(ctx, entity, int(cid))
        for a, b in pairs:
            if a in index and b in index:
                starts.append(index[a])
                ends.append(index[b])
                seg_colors.append(color)
    if not starts:
        return
    s = np.array(starts)
    e = np.array(ends)
    segs = np.concatenate([np.stack([positions[s + i * n], positions[e + i * n]], axis=1)
                           for i in range(k)])
    cols = np.tile(np.array(seg_colors, np.uint8), (k, 1))
    out.lines.append(LineBatch(entity, arch, segs, cols,
                               np.full(len(segs), KEYPOINT_LINE_RADIUS), draw_order=order))
