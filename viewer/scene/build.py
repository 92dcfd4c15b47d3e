"""One view's draw list at one time cursor: transforms, annotations and visualizers.

`build_scene` makes one `LatestAt` (Clear-aware, memoized) for the whole build, resolves
every entity's transform once, then runs each archetype an entity carries through the
visualizer registry. Batches come out in the view origin's coordinates. An entity whose
data cannot be drawn gets `EntityDraw.error`; the others still draw.

Rebuilding at another time is cheap for what did not change: pass the same `SceneCache`
and an entity whose component rows, transform and annotation context are the ones it was
last drawn with reuses its previous `EntityDraw` (a 1 M-point cloud is not re-converted
because a transform elsewhere moved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from viewer.scene.draw import EntityDraw, Scene
from viewer.scene.query import LatestAt, result_index
from viewer.scene.transforms import EntityTransform, TransformResolver
from viewer.scene.visualizer_context import VisualizerContext
from viewer.scene.visualizers import REGISTRY, REQUIRED, SPACE
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath


class SceneCache:
    """Per-entity draws of the previous build of one view, reused when nothing they
    depend on changed. One cache per view; it holds at most one draw per entity."""

    def __init__(self) -> None:
        self._draws: dict[EntityPath, tuple[tuple, EntityDraw]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, entity: EntityPath, key: tuple) -> EntityDraw | None:
        hit = self._draws.get(entity)
        if hit is not None and hit[0] == key:
            self.hits += 1
            return hit[1]
        self.misses += 1
        return None

    def put(self, entity: EntityPath, key: tuple, draw: EntityDraw) -> None:
        self._draws[entity] = (key, draw)

    def retain(self, entities: Iterable[EntityPath]) -> None:
        keep = set(entities)
        for entity in [e for e in self._draws if e not in keep]:
            del self._draws[entity]


def carried_archetypes(db: EntityDb, entity: EntityPath) -> list[str]:
    """Archetypes with a visualizer whose required component the entity has, in the
    registry's order."""
    comps = set(db.components(entity))
    return [arch for arch, required in REQUIRED.items() if required in comps]


def build_scene(
    db: EntityDb,
    origin: EntityPath,
    entities: Iterable[EntityPath],
    dims: int,
    timeline: str | None,
    t: int | None,
    resolver: TransformResolver,
    cache: SceneCache | None = None,
) -> Scene:
    """The draw list of a ``dims``-D view (3: scene units, 2: pixels, y down) at ``t``."""
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    entities = list(entities)
    query = LatestAt(db, timeline, t)
    scene = Scene(dims=dims, origin=origin)
    if dims == 3:
        scene.up = resolver.up_axis(query, origin)
    transforms = resolver.resolve(query, origin, entities)
    base = VisualizerContext(query=query, dims=dims, origin=origin,
                             transform=_IDENTITY_TRANSFORM)
    for entity in entities:
        archetypes = carried_archetypes(db, entity)
        transform = transforms.get(entity)
        if not archetypes:
            continue
        if transform is None:
            why = getattr(transforms, "errors", {}).get(entity)
            scene.entities[entity] = EntityDraw(
                entity, archetypes=archetypes, error=why or "no transform to the view's origin")
            continue
        pin = transform.image_space
        if dims == 2 and pin is not None and not (origin == pin or origin.is_descendant_of(pin)):
            # in a camera's image below a 3D origin: only lifted into 3D views
            flat = [a for a in archetypes if SPACE[a] == 2]
            if flat:
                scene.entities[entity] = EntityDraw(
                    entity, archetypes=flat,
                    error=f"in the image space of {pin}: a 2D view of {pin} shows it")
            continue
        ctx = replace(base, transform=transform)
        ctx._annotations = base._annotations  # share the memo across the build
        key = None
        if cache is not None:
            try:
                key = _draw_key(db, ctx, entity, transform)
            except Exception:  # noqa: BLE001 - drawn uncached; draw_entity reports the cause
                key = None
            cached = None if key is None else cache.get(entity, key)
            if cached is not None:
                if cached.archetypes:
                    scene.entities[entity] = cached
                continue
        draw = draw_entity(ctx, entity, archetypes)
        if cache is not None and key is not None:
            cache.put(entity, key, draw)
        if draw.archetypes:  # nothing this view can show (3D data in a 2D view, ...)
            scene.entities[entity] = draw
    if cache is not None:
        cache.retain(entities)
    return scene


def draw_entity(ctx: VisualizerContext, entity: EntityPath,
                archetypes: list[str]) -> EntityDraw:
    """Run each archetype's visualizer; a failing one sets ``error`` and drops only its own
    batches."""
    out = EntityDraw(entity, transform=np.asarray(ctx.transform.origin_from_entity))
    errors: list[str] = []
    for arch in archetypes:
        if not _drawn_in(ctx, SPACE[arch]):
            continue
        out.archetypes.append(arch)
        ctx.archetype = arch
        mark = _marks(out)
        try:
            REGISTRY[arch](ctx, entity, out)
        except Exception as exc:  # noqa: BLE001 - one entity's bad data never stops a view
            _rollback(out, mark)
            errors.append(f"{arch}: {exc}")
    if errors:
        out.error = "; ".join(errors)
    return out


def _drawn_in(ctx: VisualizerContext, space: int) -> bool:
    """3D data draws in 3D views; 2D data (and images) in 2D views, and in 3D views only
    inside a pinhole's image space, lifted onto its image plane."""
    if space == 0:  # a camera's frustum: 3D views, though the entity is in its image space
        return ctx.dims == 3
    if space == 3:
        return ctx.dims == 3 and ctx.transform.image_space is None
    return ctx.dims == 2 or ctx.transform.image_space is not None


def _marks(out: EntityDraw) -> tuple[int, ...]:
    return (len(out.points), len(out.lines), len(out.triangles), len(out.images),
            len(out.labels), out.instances)


def _rollback(out: EntityDraw, mark: tuple[int, ...]) -> None:
    del out.points[mark[0]:], out.lines[mark[1]:], out.triangles[mark[2]:]
    del out.images[mark[3]:], out.labels[mark[4]:]
    out.instances = mark[5]


def _draw_key(db: EntityDb, ctx: VisualizerContext, entity: EntityPath,
              transform: EntityTransform) -> tuple:
    """Everything an entity's draw depends on: its component rows at the cursor, its
    transform, its pinhole space and the annotation context row it sees."""
    query = ctx.query
    rows = []
    for comp in db.components(entity):
        res = query.result(entity, comp)
        rows.append(None if res is None else result_index(res))
    ann = ctx.annotations_for(entity)
    poses = transform.instance_poses
    camera = getattr(transform, "origin_from_camera", None)
    pin = transform.pinhole  # its plane distance may be a default that follows the scene
    return (
        ctx.dims, ctx.origin, tuple(rows), (ann.source, ann.row_id),
        np.asarray(transform.origin_from_entity, np.float64).tobytes(),
        None if poses is None else np.asarray(poses, np.float64).tobytes(),
        None if camera is None else np.asarray(camera, np.float64).tobytes(),
        transform.image_space,
        None if pin is None else (np.asarray(pin.image_from_camera, np.float64).tobytes(),
                                  pin.resolution, pin.camera_xyz, pin.image_plane_distance),
    )


_IDENTITY_TRANSFORM = EntityTransform(
    origin_from_entity=np.eye(4), instance_poses=None, image_space=None, pinhole=None)
