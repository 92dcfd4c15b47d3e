"""Default views: the views a recording gets when it brings no blueprint.

The spatial rules follow Rerun's spawn heuristics (docs/default-layout.md states them):
spaces are split at pinholes; a 3D view opens at every ``ViewCoordinates`` entity of the
root space and at the root when 3D data is left outside those; a 2D view opens per pinhole
space and, outside pinholes, per image (images of one size and at most one colour and one
depth image share a view, with the 2D primitives beside them). Time series are grouped per
top-level path and text logs share one view, as the window always did; bar charts, tensors,
text documents and graphs get a view per entity and geodata one map, as in Rerun. Everything is a pure
function of the store's entities and components (never of the time cursor), so the result
is stable while data streams in, and deterministic (sorted by path).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

#: Archetypes a 3D view draws in its own space.
ARCHETYPES_3D = ("Arrows3D", "Boxes3D", "Capsules3D", "Ellipsoids3D", "LineStrips3D",
                 "Mesh3D", "Points3D", "TransformAxes3D")
#: Images: what splits 2D views.
IMAGE_ARCHETYPES = ("DepthImage", "EncodedImage", "Image", "SegmentationImage")
#: Archetypes a 2D view draws (a 3D view draws them too, below a pinhole, on its image plane).
ARCHETYPES_2D = ("Arrows2D", "Boxes2D", "LineStrips2D", "Points2D", *IMAGE_ARCHETYPES)
PINHOLE = "Pinhole"
SCALARS = "Scalars"
TEXT_LOG = "TextLog"

#: The component that makes an entity a pinhole (and its subtree an image space).
PINHOLE_COMPONENT = "Pinhole:image_from_camera"
#: The component that opens a 3D view at its entity.
VIEW_COORDINATES = "ViewCoordinates:xyz"
SCALARS_COMPONENT = "Scalars:scalars"
TEXT_COMPONENT = "TextLog:text"

#: Kinds with one view per entity (Rerun's rule for them): the component that calls for
#: the view, and the archetypes such a view draws.
PER_ENTITY_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bar_chart": ("BarChart:values", ("BarChart",)),
    "tensor": ("Tensor:data", ("Tensor",)),
    "text_document": ("TextDocument:text", ("TextDocument",)),
    "graph": ("GraphNodes:node_ids", ("GraphEdges", "GraphNodes")),
}
#: One map view at the root shows every entity with one of these components.
GRAPH_EDGES = "GraphEdges:edges"
MAP_COMPONENTS = ("GeoPoints:positions", "GeoLineStrings:line_strings")
MAP_ARCHETYPES = ("GeoLineStrings", "GeoPoints")

#: Rerun spawns at most this many views of one kind from heuristics.
MAX_VIEWS_PER_KIND = 8

_ARCHETYPE_PREFIX = "rerun.archetypes."

ROOT = EntityPath.root()


@dataclass
class ViewSpec:
    """One view: ``kind`` ("spatial3d", "spatial2d", "time_series", "text_log", "bar_chart",
    "tensor", "text_document", "graph", "map"), its title, origin, and every entity it
    draws (sorted)."""

    kind: str
    name: str
    origin: EntityPath
    entities: list[EntityPath] = field(default_factory=list)


# ------------------------------------------------------------------ small helpers


def is_metadata(entity: EntityPath) -> bool:
    """``/__properties`` and anything else below a ``__`` part: recording metadata."""
    return any(part.startswith("__") for part in entity.parts)


def archetype_of(component: str) -> str:
    """``Points3D:positions`` -> ``Points3D`` (a ``rerun.archetypes.`` prefix is dropped)."""
    name = component.split(":", 1)[0]
    return name[len(_ARCHETYPE_PREFIX):] if name.startswith(_ARCHETYPE_PREFIX) else name


def archetypes_of(components: Iterable[str]) -> set[str]:
    return {archetype_of(c) for c in components}


def view_name(origin: EntityPath) -> str:
    """Rerun's title for an unnamed view: the origin's last parts, shortened from the left
    once more than 10 characters are gathered ("…/camera/image"); "/" for the root."""
    acc = ""
    for part in reversed(origin.parts):
        if len(acc) > 10:
            return f"…/{acc}"
        acc = f"{part}/{acc}" if acc else part
    return acc or "/"


def _under(entity: EntityPath, origin: EntityPath) -> bool:
    """``entity`` is ``origin`` or below it."""
    prefix = origin.parts
    return entity.parts[: len(prefix)] == prefix


def _by_path(entities: Iterable[EntityPath]) -> list[EntityPath]:
    """Sorted as EntityPath sorts, comparing the parts tuples in C."""
    return sorted(entities, key=lambda e: e.parts)


def _assign(entities: Iterable[EntityPath], recs: list[_Rec]) -> list[list[EntityPath]]:
    """The entities each recommendation covers, in O(entities x depth)."""
    subtree = {r.origin.parts: i for i, r in enumerate(recs) if r.subtree}
    single = {r.origin: i for i, r in enumerate(recs) if not r.subtree}
    out: list[list[EntityPath]] = [[] for _ in recs]
    for entity in entities:
        parts = entity.parts
        hits = {subtree[parts[:i]] for i in range(len(parts) + 1) if parts[:i] in subtree}
        if entity in single:
            hits.add(single[entity])
        for i in hits:
            out[i].append(entity)
    return out


def common_ancestor(paths: Iterable[EntityPath]) -> EntityPath:
    """The deepest path every one of ``paths`` is at or below (a single path: itself)."""
    common: tuple[str, ...] | None = None
    for path in paths:
        parts = path.parts
        if common is None:
            common = parts
            continue
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return EntityPath(common or ())


# ------------------------------------------------------------------ what a store holds


class _Topology:
    """Entities, their archetypes and their spaces: the root space, cut at every pinhole."""

    def __init__(self, db: EntityDb) -> None:
        self.db = db
        self.all_entities = db.entities()
        self.entities = [e for e in self.all_entities if not is_metadata(e)]
        self.components = {e: db.components(e) for e in self.entities}
        self.archetypes = {e: archetypes_of(c) for e, c in self.components.items()}
        self.pinholes = {e for e in self.entities if PINHOLE_COMPONENT in self.components[e]}
        self._pinhole_parts = {p.parts: p for p in self.pinholes}
        self.space: dict[EntityPath, EntityPath] = {e: self.space_of(e) for e in self.entities}
        self._image_dims: dict[EntityPath, tuple[int, int, set[str]] | None] = {}
        # The entity tree as parts tuples (cheap to build for thousands of entities).
        self._children: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for entity in self.all_entities:
            parts = entity.parts
            for i in range(len(parts), 0, -1):
                kids = self._children.setdefault(parts[: i - 1], set())
                if parts[:i] in kids:
                    break  # this branch is already linked up to the root
                kids.add(parts[:i])
        # Entities with image components; dims are read only when a split asks for them.
        self.image_entities = [e for e in self.entities
                               if not self.archetypes[e].isdisjoint(IMAGE_ARCHETYPES)]
        self.image_above = {e.parts[:i] for e in self.image_entities for i in range(len(e) + 1)}

    def space_of(self, entity: EntityPath) -> EntityPath:
        """The origin of the space ``entity`` is in: its nearest pinhole (itself included),
        else the root."""
        if not self._pinhole_parts:
            return ROOT
        parts = entity.parts
        for i in range(len(parts), -1, -1):
            found = self._pinhole_parts.get(parts[:i])
            if found is not None:
                return found
        return ROOT

    def has_3d(self, entity: EntityPath) -> bool:
        return not self.archetypes[entity].isdisjoint(ARCHETYPES_3D)

    def has_2d(self, entity: EntityPath) -> bool:
        return not self.archetypes[entity].isdisjoint(ARCHETYPES_2D)

    def children(self, origin: EntityPath) -> list[EntityPath]:
        """The entity tree's children of ``origin`` (paths with no data of their own too)."""
        return [EntityPath(kid) for kid in sorted(self._children.get(origin.parts, ()))]

    def image_dims(self, entity: EntityPath) -> tuple[int, int, set[str]] | None:
        """(max width, max height, image archetypes) over every row, None: no image."""
        if entity not in self._image_dims:
            self._image_dims[entity] = _image_dims(self.db, entity, self.components.get(entity, []))
        return self._image_dims[entity]


def _image_dims(db: EntityDb, entity: EntityPath,
                components: list[str]) -> tuple[int, int, set[str]] | None:
    width = height = 0
    kinds: set[str] = set()
    for archetype in ("Image", "DepthImage", "SegmentationImage"):
        comp = f"{archetype}:format"
        if comp not in components:
            continue
        for chunk in db.chunks_of(entity):
            column = chunk.components.get(comp)
            if column is None:
                continue
            formats = column.flatten()
            if not len(formats):
                continue
            w = np.asarray(formats.field("width").to_numpy(zero_copy_only=False))
            h = np.asarray(formats.field("height").to_numpy(zero_copy_only=False))
            width, height = max(width, int(w.max())), max(height, int(h.max()))
            kinds.add(archetype)
    if "EncodedImage:blob" in components:
        for chunk in db.chunks_of(entity):
            column = chunk.components.get("EncodedImage:blob")
            if column is None:
                continue
            for blob in _blobs(column):
                size = encoded_image_size(blob)
                if size is not None:
                    width, height = max(width, size[0]), max(height, size[1])
                    kinds.add("EncodedImage")
    return (width, height, kinds) if kinds else None


def _blobs(column: pa.Array) -> Iterable[memoryview]:
    """Each blob of a ``list<list<uint8>>`` column as a zero-copy view of its bytes."""
    blobs = column.flatten()  # one list<uint8> per instance
    if not len(blobs) or not pa.types.is_list(blobs.type):
        return
    offsets = np.asarray(blobs.offsets)
    data = blobs.values
    buf = data.buffers()[1]
    if buf is None:
        return
    view = memoryview(buf).cast("B")[data.offset:]
    for i in range(len(blobs)):
        if blobs[i].is_valid:
            yield view[int(offsets[i]):int(offsets[i + 1])]


def encoded_image_size(blob: memoryview | bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding; None if neither."""
    if isinstance(blob, memoryview) and blob.format != "B":
        blob = blob.cast("B")
    data = bytes(blob[:24])
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] != b"\xff\xd8":
        return None
    i, n = 2, len(blob)
    while i + 9 < n:  # walk the JPEG segments up to a start-of-frame marker
        if blob[i] != 0xFF:
            return None
        marker = blob[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = (blob[i + 2] << 8) | blob[i + 3]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = (blob[i + 5] << 8) | blob[i + 6]
            width = (blob[i + 7] << 8) | blob[i + 8]
            return width, height
        i += 2 + length
    return None


# ------------------------------------------------------------------ spatial views


def _spatial3d_views(topo: _Topology) -> list[ViewSpec]:
    """Views at the ViewCoordinates entities of the root space, plus one at the root when
    3D data (or a camera) is left outside them. Nothing below a pinhole opens a 3D view."""
    if ROOT in topo.pinholes:
        return []
    space = [e for e in topo.entities if topo.space[e] == ROOT]
    cameras = sorted(p for p in topo.pinholes if p.parent is not None and topo.space_of(p.parent) == ROOT)
    if not space and not cameras:
        return []
    origins = sorted(e for e in space if VIEW_COORDINATES in topo.components[e])
    indicated = [e for e in space if topo.has_3d(e) or VIEW_COORDINATES in topo.components[e]]

    def uncovered(e: EntityPath) -> bool:
        return not any(_under(e, o) for o in origins)

    if ROOT not in origins and (any(map(uncovered, indicated)) or any(map(uncovered, cameras))):
        origins.append(ROOT)
    views = []
    for origin in sorted(origins):
        entities = [e for e in space if _under(e, origin) and topo.has_3d(e)]
        for camera in cameras:
            if _under(camera, origin):
                entities.append(camera)
                entities += [e for e in topo.entities
                             if e != camera and topo.space[e] == camera and topo.has_2d(e)]
        views.append(ViewSpec("spatial3d", view_name(origin), origin, _by_path(entities)))
    return views


@dataclass
class _Rec:
    """A recommended 2D view: the whole subtree at ``origin``, or that one entity."""

    origin: EntityPath
    subtree: bool


def _image_splits(topo: _Topology, origin: EntityPath, relevant: set[EntityPath],
                  out: list[_Rec]) -> None:
    """Rerun's image split: one view for a subtree whose images can be stacked (one size,
    at most one colour and one depth image), else recurse into the children."""
    dims: set[tuple[int, int]] = set()
    color = depth = 0
    for entity in topo.image_entities:
        if not _under(entity, origin):
            continue
        found = topo.image_dims(entity)
        if found is None:
            continue
        width, height, kinds = found
        dims.add((width, height))
        color += ("Image" in kinds) + ("EncodedImage" in kinds)
        depth += "DepthImage" in kinds
    if not dims:
        return  # no image below: nothing to split
    stackable = len(dims) == 1 and color <= 1 and depth <= 1
    if stackable and origin in relevant:
        out.append(_Rec(origin, subtree=True))
        return
    before = len(out)
    if origin in relevant:
        out.append(_Rec(origin, subtree=False))
    for child in topo.children(origin):
        if child.parts in topo.image_above:  # a subtree without images adds no view
            _image_splits(topo, child, relevant, out)
    if not stackable:
        return
    added = out[before:]
    # Rerun keeps a single child view rather than a wider one; we widen it when that
    # child view would leave 2D entities beside it (an image's sibling marks) unshown.
    below = [e for e in relevant if _under(e, origin)]
    left_out = len(added) == 1 and len(_assign(below, added)[0]) < len(below)
    if len(added) > 1 or left_out:
        del out[before:]
        out.append(_Rec(origin, subtree=True))


def _spatial2d_views(topo: _Topology) -> list[ViewSpec]:
    """Per space (the root, each pinhole): its 2D entities, split by images."""
    spaces = ([] if ROOT in topo.pinholes else [ROOT]) + sorted(topo.pinholes)
    views = []
    for space in spaces:
        relevant = {e for e in topo.entities if topo.space[e] == space and topo.has_2d(e)}
        if not relevant:
            continue
        root = space if space in topo.pinholes else common_ancestor(relevant)
        recs: list[_Rec] = []
        _image_splits(topo, root, relevant, recs)
        if not recs:
            recs = [_Rec(root, subtree=True)]
        for rec, entities in zip(recs, _assign(relevant, recs), strict=True):
            views.append(ViewSpec("spatial2d", view_name(rec.origin), rec.origin,
                                  _by_path(entities)))
    return sorted(views, key=lambda v: v.origin.parts)


def _drop_redundant(views: list[ViewSpec]) -> list[ViewSpec]:
    """Drop a view whose entities another view of the same kind already shows (Rerun drops
    a recommendation another one contains); of two equal views the first stays."""
    kept = []
    for i, view in enumerate(views):
        mine = set(view.entities)
        redundant = any(
            j != i and other.kind == view.kind and mine <= set(other.entities)
            and (mine != set(other.entities) or j < i)
            for j, other in enumerate(views)
        )
        if not redundant:
            kept.append(view)
    return kept


# ------------------------------------------------------------------ plots and logs


def _top_level(entity: EntityPath) -> EntityPath:
    """The top-level path an entity is grouped under (the root for top-level entities)."""
    return EntityPath(entity.parts[:1]) if len(entity) > 1 else ROOT


def _time_series_views(topo: _Topology) -> list[ViewSpec]:
    groups: dict[EntityPath, list[EntityPath]] = {}
    for entity in topo.entities:
        if SCALARS_COMPONENT in topo.components[entity]:
            groups.setdefault(_top_level(entity), []).append(entity)
    return [ViewSpec("time_series", view_name(key), key, members)
            for key, members in sorted(groups.items())]


def _text_log_views(topo: _Topology) -> list[ViewSpec]:
    logs = [e for e in topo.entities if TEXT_COMPONENT in topo.components[e]]
    return [ViewSpec("text_log", view_name(ROOT), ROOT, logs)] if logs else []


def _per_entity_views(topo: _Topology, kind: str) -> list[ViewSpec]:
    """Bar charts, tensors, text documents, graphs: one view per entity, as Rerun does."""
    component = PER_ENTITY_KINDS[kind][0]
    return [ViewSpec(kind, view_name(e), e, [e]) for e in topo.entities
            if component in topo.components[e]][:MAX_VIEWS_PER_KIND]


def _map_views(topo: _Topology) -> list[ViewSpec]:
    geo = [e for e in topo.entities if any(c in topo.components[e] for c in MAP_COMPONENTS)]
    return [ViewSpec("map", view_name(ROOT), ROOT, geo)] if geo else []


# ------------------------------------------------------------------ public


def default_views(db: EntityDb) -> list[ViewSpec]:
    """Every view the data calls for: 3D, 2D, time series, text log, then bar charts,
    tensors, text documents, graphs and a map; each kind by origin."""
    topo = _Topology(db)
    views: list[ViewSpec] = []
    for spatial in (_spatial3d_views(topo), _spatial2d_views(topo)):
        views += _drop_redundant(spatial)[:MAX_VIEWS_PER_KIND]
    views += _time_series_views(topo)
    views += _text_log_views(topo)
    for kind in PER_ENTITY_KINDS:
        views += _per_entity_views(topo, kind)
    views += _map_views(topo)
    return views


def view_archetypes(db: EntityDb, view: ViewSpec, entity: EntityPath) -> list[str]:
    """The archetypes of ``entity`` that ``view`` draws, sorted."""
    archetypes = archetypes_of(db.components(entity))
    if view.kind == "spatial3d":
        lifted = any(PINHOLE_COMPONENT in db.components(p) for p in (entity, *entity.ancestors()))
        wanted: tuple[str, ...] = (PINHOLE, *ARCHETYPES_2D) if lifted else ARCHETYPES_3D
    elif view.kind == "spatial2d":
        wanted = ARCHETYPES_2D
    elif view.kind == "time_series":
        wanted = (SCALARS,)
    elif view.kind == "text_log":
        wanted = (TEXT_LOG,)
    elif view.kind in PER_ENTITY_KINDS:
        wanted = PER_ENTITY_KINDS[view.kind][1]
    elif view.kind == "map":
        wanted = MAP_ARCHETYPES
    else:
        wanted = ()
    return sorted(archetypes.intersection(wanted))


def unshown(db: EntityDb, views: list[ViewSpec]) -> dict[EntityPath, str]:
    """Every entity with data that no view draws, with the reason, sorted by path."""
    topo = _Topology(db)
    shown = {e for view in views for e in view.entities}
    per_kind: dict[str, int] = {}
    for view in views:
        per_kind[view.kind] = per_kind.get(view.kind, 0) + 1
    per_entity = {kind: component for kind, (component, _) in PER_ENTITY_KINDS.items()}
    out: dict[EntityPath, str] = {}
    for entity in topo.all_entities:
        if entity in shown:
            continue
        if is_metadata(entity):
            out[entity] = "metadata"
            continue
        space = topo.space[entity]
        if topo.has_3d(entity) and space != ROOT and not topo.has_2d(entity):
            out[entity] = f"3D data below the pinhole {space}: only 2D data is shown in an image space"
        elif over := [k for k in _kinds_wanting(topo, entity, per_entity)
                      if per_kind.get(k, 0) >= MAX_VIEWS_PER_KIND]:
            out[entity] = (f"more than {MAX_VIEWS_PER_KIND} {over[0]} views: "
                           "only the first are opened")
        elif _kinds_wanting(topo, entity, per_entity):
            out[entity] = "not in any default view"
        else:
            out[entity] = "no visualizer for: " + ", ".join(topo.components[entity])
    return out


def _kinds_wanting(topo: _Topology, entity: EntityPath, per_entity: dict[str, str]) -> list[str]:
    """The view kinds that could draw ``entity`` (whether or not a view was opened)."""
    comps = topo.components[entity]
    kinds = [k for k, c in per_entity.items() if c in comps]
    if GRAPH_EDGES in comps and "graph" not in kinds:
        kinds.append("graph")  # a graph view draws edges, but only nodes open one
    if topo.has_3d(entity) or PINHOLE_COMPONENT in comps:
        kinds.append("spatial3d")
    if topo.has_2d(entity):
        kinds.append("spatial2d")
    if any(c in comps for c in MAP_COMPONENTS):
        kinds.append("map")
    return kinds
