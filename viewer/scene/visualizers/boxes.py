"""Boxes3D (12 edges and / or 12 triangles per box, rotated and instanced) and Boxes2D
(4 edges per box in pixel space)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import DEFAULT_LINE_RADIUS, EntityDraw, LineBatch
from viewer.scene.visualizers._common import (
    add_labels,
    cell,
    clamped,
    class_ids_of,
    draw_order,
    instance_colors,
    instance_radii,
    place_2d,
    tile,
    vectors,
)
from viewer.scene.visualizers._procedural import (
    SHAPE_LINE_RADIUS,
    box_template,
    emit,
    fill_mode,
    instance_frames,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Boxes3D", "Boxes2D")


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    if ctx.archetype == "Boxes3D":
        _boxes3d(ctx, entity, out)
    else:
        _boxes2d(ctx, entity, out)


def _boxes3d(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = "Boxes3D"
    half = vectors(cell(ctx, entity, f"{arch}:half_sizes"), 3)
    if half is None:
        return
    lin, off = instance_frames(ctx, entity, arch, len(half), "centers")
    n = len(off)
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, SHAPE_LINE_RADIUS)
    emit(ctx, entity, out, box_template(), lin, off, np.asarray(clamped(half, n)), None,
         colors, radii, fill_mode(ctx, entity, arch), class_ids)


#: The 4 edges of a rectangle as (corner, corner) pairs of (sx, sy) signs.
_RECT = np.array([[[-1, -1], [1, -1]], [[1, -1], [1, 1]], [[1, 1], [-1, 1]],
                  [[-1, 1], [-1, -1]]], np.float64)


def _boxes2d(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = "Boxes2D"
    half = vectors(cell(ctx, entity, f"{arch}:half_sizes"), 2)
    if half is None:
        return
    centers = vectors(cell(ctx, entity, f"{arch}:centers"), 2)
    n = max(len(half), 0 if centers is None else len(centers))
    half = clamped(half, n)
    centers = np.zeros((n, 2)) if centers is None else clamped(centers, n)
    local = centers[:, None, None, :] + _RECT[None] * half[:, None, None, :]  # (n, 4, 2, 2)
    placed = place_2d(ctx, local.reshape(-1, 2))
    segs = placed.reshape(-1, 2, placed.shape[1])
    k = len(segs) // (4 * n)
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, DEFAULT_LINE_RADIUS)
    out.lines.append(LineBatch(entity, arch, segs, tile(np.repeat(colors, 4, axis=0), k),
                               tile(np.repeat(radii, 4), k),
                               draw_order=draw_order(ctx, entity, arch, 10.0)))
    out.instances += n
    if ctx.dims == 2:  # Rerun draws 2D labels in 2D views only
        # a box's label hangs under the middle of its bottom edge, wrapped to its width
        corners = segs[: 4 * n, 0].reshape(n, 4, 2)
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        anchors = np.stack([(lo[:, 0] + hi[:, 0]) / 2.0, hi[:, 1]], axis=1)
        add_labels(ctx, entity, arch, out, anchors, colors, class_ids,
                   extent=corners, wrap_widths=hi[:, 0] - lo[:, 0])
