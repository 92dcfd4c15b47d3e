"""LineStrips3D and LineStrips2D: every strip becomes its consecutive segments."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import DEFAULT_LINE_RADIUS, EntityDraw, LineBatch
from viewer.scene.visualizers._common import (
    add_labels,
    apply_all,
    cell,
    class_ids_of,
    draw_order,
    instance_colors,
    instance_radii,
    origin_from_instances,
    place_2d,
    tile,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("LineStrips3D", "LineStrips2D")


def strip_segments(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat strip points and list offsets -> (start indices of segments, strip of each)."""
    total = len(points)
    if total < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.arange(total - 1)
    strip = np.searchsorted(offsets, starts, side="right") - 1
    keep = starts + 1 < offsets[strip + 1]
    return starts[keep], strip[keep]


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    dim = 3 if arch == "LineStrips3D" else 2
    strips = cell(ctx, entity, f"{arch}:strips")
    if strips is None:
        return
    n = len(strips)
    offsets = strips.offsets.to_numpy().astype(np.int64)
    offsets = offsets - offsets[0]
    flat = strips.flatten().flatten().to_numpy(zero_copy_only=False)
    local = flat.reshape(-1, dim).astype(np.float64, copy=False)
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, DEFAULT_LINE_RADIUS)
    ms = origin_from_instances(ctx)
    placed = apply_all(ms, local) if dim == 3 else place_2d(ctx, local)
    starts, strip = strip_segments(local, offsets)
    k = len(ms)
    total = len(local)
    segs = np.concatenate([np.stack([placed[starts + i * total], placed[starts + 1 + i * total]],
                                    axis=1) for i in range(k)])
    out.lines.append(LineBatch(entity, arch, segs, tile(colors[strip], k),
                               tile(np.asarray(radii)[strip], k),
                               draw_order=draw_order(ctx, entity, arch, 20.0)))
    out.instances += n
    if class_ids is not None or cell(ctx, entity, f"{arch}:labels") is not None:
        # a strip's label sits at the mean of its points (an empty strip at the origin)
        counts = np.diff(offsets)
        first = placed[:total]
        sums = np.zeros((n, first.shape[1]))
        nonempty = counts > 0
        if total:
            sums[nonempty] = np.add.reduceat(first, offsets[:-1][nonempty], axis=0)
        anchors = sums / np.maximum(counts, 1)[:, None]
        add_labels(ctx, entity, arch, out, anchors, colors, class_ids, extent=placed)
