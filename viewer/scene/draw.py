"""Draw lists: what a spatial view paints, as plain numpy arrays.

Every archetype becomes a few primitive batches in the coordinates of the view's origin
(3D: scene units; 2D: image pixels, y down), so a renderer needs to know three primitives
(points, line segments, triangles) plus labels and images, not forty archetypes. Batches
keep their entity so a renderer can pick (double-click to focus) and a caller can count.

Radii follow Rerun's convention: a positive radius is in scene units, a negative one is
in UI points (``-2.0`` draws 2 points wide at any zoom).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.store.entity_path import EntityPath

#: Rerun's default point radius in UI points, negative by convention.
DEFAULT_POINT_RADIUS = -2.5
#: Rerun's default line radius in UI points.
DEFAULT_LINE_RADIUS = -0.75


@dataclass(slots=True)
class Label:
    """A text drawn under an instance, in the batch's coordinates.

    As in Rerun, every label is centred horizontally on its anchor with its top a few UI
    points below it: the visualizer picks the anchor (a point's centre, the bottom centre
    of a 2D box, a 3D shape's centre). ``wrap_width`` is the width of the labelled 2D
    rectangle in the same units: the painter wraps the text to it (never narrower than
    a minimum); 0 means no wrapping."""

    position: np.ndarray  # (3,) or (2,)
    text: str
    color: tuple[int, int, int, int]
    wrap_width: float = 0.0


@dataclass(slots=True)
class PointBatch:
    entity: EntityPath
    archetype: str  # "Points3D", "Points2D", ...
    positions: np.ndarray  # (n, 3) or (n, 2) float64
    colors: np.ndarray  # (n, 4) uint8 RGBA
    radii: np.ndarray  # (n,) float64, Rerun convention (see module doc)
    draw_order: float = 30.0  # 2D only: higher is drawn later (on top)


@dataclass(slots=True)
class LineBatch:
    """Independent segments: strips, box and ellipsoid wireframes, arrows, frusta, axes."""

    entity: EntityPath
    archetype: str
    segments: np.ndarray  # (m, 2, 3) or (m, 2, 2) float64: start and end of each segment
    colors: np.ndarray  # (m, 4) uint8
    radii: np.ndarray  # (m,) float64, Rerun convention
    draw_order: float = 20.0


@dataclass(slots=True)
class TriangleBatch:
    """Indexed triangles: meshes, solid boxes, ellipsoids, capsules, arrow heads."""

    entity: EntityPath
    archetype: str
    vertices: np.ndarray  # (v, 3) float64
    triangles: np.ndarray  # (t, 3) int64 indices into vertices
    colors: np.ndarray  # (v, 4) uint8 vertex colours (albedo already applied)
    normals: np.ndarray | None = None  # (v, 3) when given or computed; None: flat shading
    draw_order: float = 10.0


@dataclass(slots=True)
class ImageLayer:
    """A 2D image at pixel (0, 0) of its space. ``rgba`` is what is drawn (colormapped,
    annotation-coloured, decoded); ``values`` what hovering a pixel reports."""

    entity: EntityPath
    archetype: str  # "Image", "EncodedImage", "DepthImage", "SegmentationImage"
    rgba: np.ndarray | None  # (h, w, 4) uint8; None for an encoded image not decoded here
    values: np.ndarray | None = None  # (h, w) or (h, w, c) raw values, for hover
    encoded: bytes | None = None  # EncodedImage: the blob (the UI decodes it)
    media_type: str | None = None
    meter: float | None = None  # DepthImage: raw units per metre
    opacity: float = 1.0
    draw_order: float = 0.0
    class_labels: dict[int, str] = field(default_factory=dict)  # SegmentationImage hover

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) in pixels, when known."""
        src = self.rgba if self.rgba is not None else self.values
        return None if src is None else (int(src.shape[1]), int(src.shape[0]))


@dataclass(slots=True)
class EntityDraw:
    """Everything one entity contributes to one view at the time cursor."""

    entity: EntityPath
    archetypes: list[str] = field(default_factory=list)
    instances: int = 0  # instances drawn (0 when cleared or empty)
    transform: np.ndarray = field(default_factory=lambda: np.eye(4))  # origin_from_entity
    points: list[PointBatch] = field(default_factory=list)
    lines: list[LineBatch] = field(default_factory=list)
    triangles: list[TriangleBatch] = field(default_factory=list)
    images: list[ImageLayer] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    error: str | None = None  # why this entity could not be drawn (others still are)


@dataclass(slots=True)
class Scene:
    """A view's draw list at one time: ``dims`` 3 (scene units) or 2 (pixels, y down)."""

    dims: int
    origin: EntityPath
    entities: dict[EntityPath, EntityDraw] = field(default_factory=dict)
    #: 3D only: the up axis of the view origin from ViewCoordinates ("+Z" default, "+Y", ...)
    up: str = "+Z"

    def bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(lo, hi) of every drawn position (one with a NaN or inf is skipped), or None for
        an empty scene. Each batch is reduced on its own (no copy of a million positions into
        one array); an image adds its corners only in 2D, where it lies at pixel (0, 0)."""
        los: list[np.ndarray] = []
        his: list[np.ndarray] = []

        def add(xyz: np.ndarray) -> None:
            arr = np.asarray(xyz, dtype=np.float64)
            if not arr.size:
                return
            flat = arr.reshape(-1, arr.shape[-1])[:, : self.dims]
            # Column by column: a reduction along axis 0 of an (n, 3) array is ~10x slower.
            lo = np.array([flat[:, k].min() for k in range(flat.shape[1])])
            hi = np.array([flat[:, k].max() for k in range(flat.shape[1])])
            if not (np.isfinite(lo).all() and np.isfinite(hi).all()):  # NaN or inf: skip rows
                flat = flat[np.isfinite(flat).all(axis=1)]
                if not len(flat):
                    return
                lo = np.array([flat[:, k].min() for k in range(flat.shape[1])])
                hi = np.array([flat[:, k].max() for k in range(flat.shape[1])])
            los.append(lo)
            his.append(hi)

        for ed in self.entities.values():
            for b in ed.points:
                add(b.positions)
            for b in ed.lines:
                add(b.segments)
            for b in ed.triangles:
                add(b.vertices)
            if self.dims == 2:
                for img in ed.images:
                    if img.size is not None:
                        w, h = img.size
                        add(np.array([[0.0, 0.0], [w, h]]))
        if not los:
            return None
        return np.min(los, axis=0), np.max(his, axis=0)
