"""Ellipsoids3D: unit spheres scaled by half_sizes, placed like boxes. Major wireframe:
the three axis-aligned cross-section ellipses; dense: parallels and meridians; solid:
a latitude / longitude triangle mesh."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import EntityDraw
from viewer.scene.visualizers._common import (
    cell,
    clamped,
    class_ids_of,
    instance_colors,
    instance_radii,
    vectors,
)
from viewer.scene.visualizers._procedural import (
    SHAPE_LINE_RADIUS,
    emit,
    fill_mode,
    instance_frames,
    sphere_template,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Ellipsoids3D",)


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    half = vectors(cell(ctx, entity, f"{arch}:half_sizes"), 3)
    if half is None:
        return
    lin, off = instance_frames(ctx, entity, arch, len(half), "centers")
    n = len(off)
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    radii = instance_radii(ctx, entity, arch, n, SHAPE_LINE_RADIUS, field="line_radii")
    emit(ctx, entity, out, sphere_template(), lin, off, np.asarray(clamped(half, n)), None,
         colors, radii, fill_mode(ctx, entity, arch), class_ids)
