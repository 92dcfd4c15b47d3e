"""Mesh3D: indexed triangles (consecutive vertex triples when no indices are given),
vertex colours (white when absent, or class colours) times the albedo factor, and the
vertex normals when given."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viewer.scene.draw import EntityDraw, TriangleBatch
from viewer.scene.visualizers._common import (
    VisualizerError,
    apply,
    cell,
    clamped,
    origin_from_instances,
    scalars,
    unpack_rgba,
    vectors,
)
from viewer.store.entity_path import EntityPath

if TYPE_CHECKING:
    from viewer.scene.visualizer_context import VisualizerContext

ARCHETYPES = ("Mesh3D",)


def visualize(ctx: VisualizerContext, entity: EntityPath, out: EntityDraw) -> None:
    arch = ctx.archetype
    verts = vectors(cell(ctx, entity, f"{arch}:vertex_positions"), 3)
    if verts is None:
        return
    v = len(verts)
    idx_cell = cell(ctx, entity, f"{arch}:triangle_indices")
    if idx_cell is None:
        tris = np.arange(v - v % 3, dtype=np.int64).reshape(-1, 3)
    else:
        tris = idx_cell.flatten().to_numpy(zero_copy_only=False).astype(np.int64).reshape(-1, 3)
        if len(tris) and (tris.max() >= v or tris.min() < 0):
            raise VisualizerError(f"triangle index {int(tris.max())} out of range for {v} "
                                  "vertices")
    colors = _vertex_colors(ctx, entity, arch, v)
    normals = vectors(cell(ctx, entity, f"{arch}:vertex_normals"), 3)
    if normals is not None:
        normals = np.asarray(clamped(normals, v))
    for m in origin_from_instances(ctx):
        placed_normals = None
        if normals is not None:
            nm = normals @ np.linalg.inv(m[:3, :3])  # inverse transpose, applied to rows
            placed_normals = nm / np.maximum(np.linalg.norm(nm, axis=1), 1e-300)[:, None]
        out.triangles.append(TriangleBatch(entity, arch, apply(m, verts), tris, colors,
                                           placed_normals))
    out.instances += 1  # one mesh (its triangles are not instances)


def _vertex_colors(ctx: VisualizerContext, entity: EntityPath, arch: str, v: int) -> np.ndarray:
    packed = scalars(cell(ctx, entity, f"{arch}:vertex_colors"), np.uint32)
    class_ids = scalars(cell(ctx, entity, f"{arch}:class_ids"), np.int64)
    if packed is not None:
        rgba = np.array(clamped(unpack_rgba(packed), v))
    elif class_ids is not None:
        rgba = ctx.annotations_for(entity).colors_for_classes(np.asarray(clamped(class_ids, v)))
    else:
        rgba = np.full((v, 4), 255, np.uint8)
    albedo = scalars(cell(ctx, entity, f"{arch}:albedo_factor"), np.uint32)
    if albedo is not None:
        factor = unpack_rgba(albedo[:1])[0].astype(np.uint16)
        rgba = ((rgba.astype(np.uint16) * factor + 127) // 255).astype(np.uint8)
    return rgba
