"""TransformAxes3D: the entity's X (red), Y (green) and Z (blue) axes, ``axis_length``
long, from its origin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import EntityDraw, Label, LineBatch
from viewer.scene.visualizers._common import apply, cell, mono, origin_from_instances
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("TransformAxes3D",)
AXIS_COLORS = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]], np.uint8)
AXIS_RADIUS = -1.0  # UI points


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    length = float(mono(cell(ctx, entity, "TransformAxes3D:axis_length"), 1.0))
    if length == 0.0:
        return
    local = np.zeros((3, 2, 3))
    local[:, 1] = np.eye(3) * length
    show_frame = bool(mono(cell(ctx, entity, "TransformAxes3D:show_frame"), False))
    for m in origin_from_instances(ctx):
        segs = apply(m, local.reshape(-1, 3)).reshape(3, 2, 3)
        out.lines.append(LineBatch(entity, "TransformAxes3D", segs, AXIS_COLORS.copy(),
                                   np.full(3, AXIS_RADIUS)))
        if show_frame:
            out.labels.append(Label(segs[0, 0].copy(), str(entity), (255, 255, 255, 255)))
    out.instances += 1
