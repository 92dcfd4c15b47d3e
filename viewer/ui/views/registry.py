"""Which views to open for a recording, chosen from its data (no blueprint yet).

- Scalars: one time-series plot per top-level path (``/plots/sin`` and ``/plots/cos`` share
  ``/plots``); scalar entities directly under the root share one plot.
- Points3D: all in one 3D view.
- Points2D: one 2D view per top-level path.
- Images (raw, depth, encoded): one view each.
- TextLog: one log view for all.

Titles name the space a view shows (its origin path) and never change as data arrives, so a
caller can key views by (class, title) and feed new entities to the existing view.

Entities whose path starts with ``__`` (``/__properties``) are metadata and never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from viewer.scene.blueprint import Blueprint, BlueprintContainer, EntityFilter
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.views.base import View
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.spatial.image import ImageView
from viewer.ui.views.spatial.points2d import Points2DView
from viewer.ui.views.spatial.points3d import Points3DView
from viewer.ui.views.text.textlog import TextLogView

#: Every view kind, in the order suggestions are listed (and the first that accepts wins
#: when an entity could go to several: an entity with Scalars is plotted, not listed).
VIEW_KINDS: list[type[View]] = [TimeSeriesView, Points3DView, Points2DView, ImageView,
                                TextLogView]

SuggestedView = tuple[type[View], list[EntityPath], str]


def is_hidden_entity(entity: EntityPath) -> bool:
    return any(part.startswith("__") for part in entity.parts)


def _group_key(entity: EntityPath) -> EntityPath:
    """The top-level path an entity is grouped under (the root for top-level entities)."""
    return EntityPath(entity.parts[:1]) if len(entity) > 1 else EntityPath.root()


def _grouped(kind: type[View], entities: list[EntityPath]) -> list[SuggestedView]:
    groups: dict[EntityPath, list[EntityPath]] = {}
    for entity in entities:
        groups.setdefault(_group_key(entity), []).append(entity)
    return [(kind, members, str(key)) for key, members in sorted(groups.items())]


def suggest_views(db: EntityDb) -> list[SuggestedView]:
    """(view class, entities, title) for every view the data calls for, in a stable order."""
    by_kind: dict[type[View], list[EntityPath]] = {kind: [] for kind in VIEW_KINDS}
    for entity in db.entities():
        if is_hidden_entity(entity):
            continue
        for kind in VIEW_KINDS:
            if kind.accepts(db, entity):
                by_kind[kind].append(entity)
                # Points and images can share an entity with a log or a plot: keep looking
                # only for the text log, which is a different kind of panel.
                if kind is not TextLogView:
                    if TextLogView.accepts(db, entity) and entity not in by_kind[TextLogView]:
                        by_kind[TextLogView].append(entity)
                    break
    out: list[SuggestedView] = []
    out += _grouped(TimeSeriesView, by_kind[TimeSeriesView])
    if by_kind[Points3DView]:
        out.append((Points3DView, by_kind[Points3DView], "/"))
    out += _grouped(Points2DView, by_kind[Points2DView])
    out += [(ImageView, [e], str(e)) for e in by_kind[ImageView]]
    if by_kind[TextLogView]:
        out.append((TextLogView, by_kind[TextLogView], "Text log"))
    return out


def view_kind_by_name(name: str) -> type[View] | None:
    """Look a kind up by its class name or ``kind_name`` (for saved layouts)."""
    for kind in VIEW_KINDS:
        if name in (kind.__name__, kind.kind_name):
            return kind
    return None


# ---------------------------------------------------------------------- layout plans


@dataclass(slots=True)
class PlannedView:
    """One view the window should show: its class, entities, title, and where it sits."""

    key: tuple[str, str]  # (class name, title) for heuristic views, (class name, view id)
    cls: type[View]
    entities: list[EntityPath]
    title: str
    origin: EntityPath = field(default_factory=EntityPath.root)
    view_id: str | None = None  # the blueprint's view id ("view/<uuid>"), if any


@dataclass(slots=True)
class LayoutPlan:
    """The views of one store and, for a blueprint, the container tree they sit in."""

    views: list[PlannedView]
    tree: BlueprintContainer | None = None
    #: Identifies the blueprint state the plan came from (None: heuristics); a host that
    #: sees it change lays its views out anew.
    source: object = None


def heuristic_plan(db: EntityDb) -> LayoutPlan:
    """The views the data calls for without a blueprint."""
    return LayoutPlan([PlannedView((cls.__name__, title), cls, list(entities), title)
                       for cls, entities, title in suggest_views(db)])


#: The view class that shows each view kind of a layout (heuristics or a blueprint).
KIND_CLASSES: dict[str, type[View]] = {
    "time_series": TimeSeriesView,
    "text_log": TextLogView,
    "spatial3d": Points3DView,
    "spatial2d": Points2DView,
}


def blueprint_plan(db: EntityDb, bp: Blueprint, source: object) -> LayoutPlan:
    """The views a blueprint sets, each with the entities its contents query selects and its
    kind can show; views of kinds this viewer lacks are left out (the window reports them)."""
    candidates = [e for e in db.entities() if not is_hidden_entity(e)]
    views: list[PlannedView] = []
    for bv in bp.views:
        cls = KIND_CLASSES.get(bv.kind or "")
        if cls is None:
            continue
        query = EntityFilter(bv.query, bv.origin)
        entities = [e for e in candidates if query.matches(e) and cls.accepts(db, e)]
        views.append(PlannedView((cls.__name__, bv.id), cls, entities, bv.name, bv.origin,
                                 bv.id))
    return LayoutPlan(views, bp.root, source)
