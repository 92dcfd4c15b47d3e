"""Capsules3D and Cylinders3D, placed like boxes (translations / centers, rotations,
instance poses); instances: the longer of lengths and radii.

A capsule is a cylinder of radius ``radii`` from z = 0 up to z = ``lengths`` along the
instance's +Z, closed by hemispheres at both ends. A cylinder is centred on its centre,
``lengths`` long along +Z, with flat caps."""

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
    scalars,
)
from viewer.scene.visualizers._procedural import (
    SHAPE_LINE_RADIUS,
    capsule_template,
    cylinder_template,
    emit,
    fill_mode,
    instance_frames,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Capsules3D", "Cylinders3D")


def _clean(values: np.ndarray) -> np.ndarray:
    """Negative, NaN and infinite sizes collapse to 0, as Rerun does."""
    return np.where(np.isfinite(values) & (values > 0), values, 0.0)


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    lengths = scalars(cell(ctx, entity, f"{arch}:lengths"))
    radii = scalars(cell(ctx, entity, f"{arch}:radii"))
    if lengths is None:
        return
    n_shapes = max(len(lengths), 0 if radii is None else len(radii))
    radii = np.ones(1) if radii is None else radii
    capsule = arch == "Capsules3D"
    lin, off = instance_frames(ctx, entity, arch, n_shapes,
                               "translations" if capsule else "centers")
    n = len(off)
    r = _clean(np.asarray(clamped(radii, n), np.float64))
    length = _clean(np.asarray(clamped(lengths, n), np.float64))
    class_ids = class_ids_of(ctx, entity, arch, n)
    colors = instance_colors(ctx, entity, arch, n, class_ids)
    line_radii = instance_radii(ctx, entity, arch, n, SHAPE_LINE_RADIUS, field="line_radii")
    mode = fill_mode(ctx, entity, arch)
    if capsule:
        emit(ctx, entity, out, capsule_template(), lin, off, np.repeat(r[:, None], 3, axis=1),
             length, colors, line_radii, mode, class_ids)
    else:  # the unit cylinder spans z = -1 .. 1: scale z by half the length
        scale = np.stack([r, r, length / 2.0], axis=1)
        emit(ctx, entity, out, cylinder_template(), lin, off, scale, None, colors, line_radii,
             mode, class_ids)
