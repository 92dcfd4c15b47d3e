"""Arrows3D and Arrows2D: the shaft as a segment and the head as short lines back from
the tip (four in 3D, two in 2D), 15 % of the arrow long."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import DEFAULT_LINE_RADIUS, EntityDraw, LineBatch
from viewer.scene.visualizers._common import (
    add_labels,
    apply_all,
    cell,
    clamped,
    class_ids_of,
    draw_order,
    instance_colors,
    instance_radii,
    lift_2d,
    origin_from_instances,
    perpendiculars,
    place_2d,
    tile,
    vectors,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Arrows3D", "Arrows2D")
HEAD_LENGTH = 0.15  # of the arrow's length
HEAD_WIDTH = 0.06  # half-width of the head, of the arrow's length


def arrow_lines(origins: np.ndarray, vecs: np.ndarray, dim: int) -> np.ndarray:
    """(n, 3) origins and vectors -> (n, 1 + heads, 2, 3) segments: shaft, then head."""
    tips = origins + vecs
    length = np.linalg.norm(vecs, axis=1)[:, None]
    back = tips - HEAD_LENGTH * vecs
    if dim == 3:
        a, b = perpendiculars(vecs)
        sides = [a, -a, b, -b]
    else:
        d = vecs / np.where(length > 0, length, 1.0)
        a = np.stack([-d[:, 1], d[:, 0], np.zeros(len(d))], axis=1)
        sides = [a, -a]
    segs = [np.stack([origins, tips], axis=1)]
    segs += [np.stack([tips, back + HEAD_WIDTH * length * s], axis=1) for s in sides]
    return np.stack(segs, axis=1)


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    dim = 3 if arch == "Arrows3D" else 2
    vecs = vectors(cell(ctx, entity, f"{arch}:vectors"), dim)
    if vecs is None:
        return
    n = len(vecs)
    origins = vectors(cell(ctx, entity, f"{arch}:origins"), dim)
    origins = np.zeros((n, dim)) if origins is None else clamped(origins, n)
    if dim == 2:
        vecs, origins = lift_2d(vecs), lift_2d(origins)
    local = arrow_lines(origins, vecs, dim)  # (n, per, 2, 3)
    per = local.shape[1]
    flat = local.reshape(-1, 3)
    ms = origin_from_instances(ctx)
    placed = apply_all(ms, flat) if dim == 3 else place_2d(ctx, flat[:, :2])
    segs = placed.reshape(-1, 2, placed.shape[1])
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, DEFAULT_LINE_RADIUS)
    k = len(ms)
    out.lines.append(LineBatch(entity, arch, segs, tile(np.repeat(colors, per, axis=0), k),
                               tile(np.repeat(radii, per), k),
                               draw_order=draw_order(ctx, entity, arch, 20.0)))
    out.instances += n
    # a label sits 45 % along its arrow (the head takes the end)
    shafts = segs[: n * per].reshape(n, per, 2, -1)[:, 0]
    add_labels(ctx, entity, arch, out, shafts[:, 0] + 0.45 * (shafts[:, 1] - shafts[:, 0]),
               colors, class_ids, extent=segs)
