"""Visualizers: one module per archetype or small family, each turning an entity's
latest-at components into draw batches in the view origin's coordinates.

Every module has ``ARCHETYPES`` and ``visualize(ctx, entity, out)``; the archetype being
drawn is ``ctx.archetype``. ``REGISTRY`` maps an archetype name to its function,
``REQUIRED`` to the component whose presence means an entity carries it, and ``SPACE``
says where it draws: 3 (3D views), 2 (2D views, or lifted onto a pinhole's image plane in
3D views) or 0 (a pinhole's frustum: 3D views only, although the pinhole entity itself is
in its own image space).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from viewer.scene.visualizers import (
    arrows,
    axes,
    boxes,
    capsules_cylinders,
    ellipses2d,
    ellipsoids,
    image_layers,
    lines,
    mesh,
    pinhole,
    points,
)

_MODULES: tuple[ModuleType, ...] = (
    image_layers, mesh, boxes, ellipses2d, ellipsoids, capsules_cylinders, lines, arrows,
    points, pinhole, axes,
)

REGISTRY: dict[str, Callable] = {arch: m.visualize for m in _MODULES for arch in m.ARCHETYPES}

#: archetype -> its required component (the registry's order is the drawing order of
#: an entity's batches: images first, points last).
REQUIRED: dict[str, str] = {
    "Image": "Image:buffer",
    "EncodedImage": "EncodedImage:blob",
    "DepthImage": "DepthImage:buffer",
    "SegmentationImage": "SegmentationImage:buffer",
    "Mesh3D": "Mesh3D:vertex_positions",
    "Boxes3D": "Boxes3D:half_sizes",
    "Boxes2D": "Boxes2D:half_sizes",
    "Ellipsoids3D": "Ellipsoids3D:half_sizes",
    "Capsules3D": "Capsules3D:lengths",
    "Cylinders3D": "Cylinders3D:lengths",
    "Ellipses2D": "Ellipses2D:half_sizes",
    "LineStrips3D": "LineStrips3D:strips",
    "LineStrips2D": "LineStrips2D:strips",
    "Arrows3D": "Arrows3D:vectors",
    "Arrows2D": "Arrows2D:vectors",
    "Points3D": "Points3D:positions",
    "Points2D": "Points2D:positions",
    "Pinhole": "Pinhole:image_from_camera",
    "TransformAxes3D": "TransformAxes3D:axis_length",
}

SPACE: dict[str, int] = {arch: 3 if arch.endswith("3D") else 2 for arch in REQUIRED}
SPACE["Pinhole"] = 0

assert set(REGISTRY) == set(REQUIRED), "every visualizer needs its required component"
