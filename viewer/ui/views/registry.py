"""Which view class shows each view kind, and the layout plan of a store.

The views themselves are chosen by the Qt-free scene layer, so the window and ``viewer
layout --json`` agree: `viewer.scene.heuristics.default_views` without a blueprint, the
blueprint's own views (`viewer.scene.blueprint`) with one. This module maps those view
specs to widget classes, gives spatial views their scene source (`build_scene` at the time
cursor, one transform cache per store), and describes the plan a `ViewsHost` lays out.

Entities whose path starts with ``__`` (``/__properties``) are metadata and never shown.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from viewer.scene.blueprint import Blueprint, BlueprintContainer
from viewer.scene.blueprint_views import blueprint_views
from viewer.scene.build import SceneCache, build_scene
from viewer.scene.heuristics import ViewSpec, default_views, is_metadata
from viewer.scene.transforms import TransformResolver
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.chart.bar_chart import BarChartView
from viewer.ui.views.dataframe.dataframe_view import DataframeView
from viewer.ui.views.document.text_document import TextDocumentView
from viewer.ui.views.graph.graph_view import GraphView
from viewer.ui.views.map.map_view import MapView
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.spatial.scene_view import SceneView
from viewer.ui.views.spatial.view2d import Spatial2DView
from viewer.ui.views.spatial.view3d import Spatial3DView
from viewer.ui.views.tensor.tensor_view import TensorView
from viewer.ui.views.text.textlog import TextLogView

#: The view class that shows each view kind of a layout (heuristics or a blueprint).
KIND_CLASSES: dict[str, type[View]] = {
    "spatial3d": Spatial3DView,
    "spatial2d": Spatial2DView,
    "time_series": TimeSeriesView,
    "text_log": TextLogView,
    "text_document": TextDocumentView,
    "bar_chart": BarChartView,
    "tensor": TensorView,
    "graph": GraphView,
    "map": MapView,
    "dataframe": DataframeView,
}


def is_hidden_entity(entity: EntityPath) -> bool:
    return is_metadata(entity)


@dataclass(slots=True)
class PlannedView:
    """One view the window should show: its class, entities, title, and where it sits."""

    key: tuple[str, str]  # (class name, title|origin) for heuristic views, (class, view id)
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


def planned_view(spec: ViewSpec, view_id: str | None = None) -> PlannedView | None:
    cls = KIND_CLASSES.get(spec.kind)
    if cls is None:
        return None
    key = (cls.__name__, view_id or f"{spec.name}|{spec.origin}")
    return PlannedView(key, cls, list(spec.entities), spec.name, spec.origin, view_id)


def heuristic_plan(db: EntityDb) -> LayoutPlan:
    """The views the data calls for without a blueprint."""
    views = [planned_view(spec) for spec in default_views(db)]
    return LayoutPlan([v for v in views if v is not None])


def blueprint_plan(db: EntityDb, bp: Blueprint, source: object) -> LayoutPlan:
    """The views a blueprint sets (`viewer.scene.blueprint_views`); views of kinds this
    viewer lacks are left out (the window reports them)."""
    views = [planned_view(p.spec, p.view.id) for p in blueprint_views(db, bp)
             if p.spec is not None]
    return LayoutPlan([v for v in views if v is not None], bp.root, source)


_RESOLVERS: weakref.WeakKeyDictionary[EntityDb, TransformResolver] = weakref.WeakKeyDictionary()


def transform_resolver(db: EntityDb) -> TransformResolver:
    """One resolver per store, shared by its views (its cache is per time cursor)."""
    resolver = _RESOLVERS.get(db)
    if resolver is None:
        resolver = _RESOLVERS[db] = TransformResolver(db)
    return resolver


def create_view(planned: PlannedView, db: EntityDb, time_control: TimeControl) -> View:
    """The widget of a planned view; spatial views get their scene from the scene layer."""
    cls = planned.cls
    if issubclass(cls, SceneView):
        view = cls(db, planned.entities, time_control, planned.title, origin=planned.origin)
        dims = cls.dims
        resolver = transform_resolver(db)
        cache = SceneCache()

        def scene():  # noqa: ANN202 (a Scene)
            built = build_scene(db, view.origin, view.entities, dims, time_control.timeline,
                                time_control.time, resolver, cache)
            for entity in view.entities:
                drawn = built.entities.get(entity)
                view.report_entity_error(entity, None if drawn is None else drawn.error)
            return built

        view.scene_source = scene
        return view
    return cls(db, planned.entities, time_control, planned.title)
