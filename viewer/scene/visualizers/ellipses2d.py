"""Ellipses2D: each ellipse as a closed 64-segment outline in pixel space."""

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
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Ellipses2D",)
SEGMENTS = 64
_ANGLES = np.linspace(0.0, 2 * np.pi, SEGMENTS + 1)
_UNIT = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)  # closed: last = first


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    half = vectors(cell(ctx, entity, f"{arch}:half_sizes"), 2)
    if half is None:
        return
    n = len(half)  # Rerun draws one ellipse per half size; centers are clamped to them
    centers = vectors(cell(ctx, entity, f"{arch}:centers"), 2)
    centers = np.zeros((n, 2)) if centers is None else np.asarray(clamped(centers, n))
    outline = centers[:, None, :] + _UNIT[None] * half[:, None, :]  # (n, 65, 2)
    ends = np.stack([outline[:, :-1], outline[:, 1:]], axis=2)  # (n, 64, 2, 2)
    placed = place_2d(ctx, ends.reshape(-1, 2))
    segs = placed.reshape(-1, 2, placed.shape[1])
    k = len(segs) // (SEGMENTS * n)
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, DEFAULT_LINE_RADIUS, field="line_radii")
    out.lines.append(LineBatch(entity, arch, segs,
                               tile(np.repeat(colors, SEGMENTS, axis=0), k),
                               tile(np.repeat(radii, SEGMENTS), k),
                               draw_order=draw_order(ctx, entity, arch, 10.0)))
    out.instances += n
    anchors = segs[: SEGMENTS * n].reshape(n, SEGMENTS, 2, -1)[:, :, 0].mean(axis=1)
    add_labels(ctx, entity, arch, out, anchors, colors, class_ids, extent=segs)
