"""A blueprint's views as view specs: the entities each one's contents query selects and
its kind can draw, so the window and ``viewer layout`` show the same thing.

An entity outside every view's contents is not shown anywhere. A view of a kind this
viewer lacks is returned with ``spec`` None (callers report it); a hidden view too.
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.scene.blueprint import Blueprint, BlueprintView, EntityFilter
from viewer.scene.heuristics import ViewSpec, is_metadata, view_archetypes
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath


@dataclass(slots=True)
class PlacedView:
    view: BlueprintView
    spec: ViewSpec | None  # None: a kind this viewer does not draw, or hidden


def view_entities(db: EntityDb, spec: ViewSpec, candidates: list[EntityPath]) -> list[EntityPath]:
    """The candidates a view of ``spec.kind`` draws (a dataframe shows any entity)."""
    if spec.kind == "dataframe":
        return [e for e in candidates if db.components(e)]
    return [e for e in candidates if view_archetypes(db, spec, e)]


def blueprint_views(db: EntityDb, bp: Blueprint) -> list[PlacedView]:
    """Every view of ``bp`` in layout order, with its entities in ``db``."""
    candidates = [e for e in db.entities() if not is_metadata(e)]
    out: list[PlacedView] = []
    for bv in bp.views:
        if bv.kind is None or not bv.visible:
            out.append(PlacedView(bv, None))
            continue
        query = EntityFilter(bv.query, bv.origin)
        spec = ViewSpec(bv.kind, bv.name, bv.origin)
        spec.entities = view_entities(db, spec, [e for e in candidates if query.matches(e)])
        out.append(PlacedView(bv, spec))
    return out


def unshown_by_blueprint(db: EntityDb, placed: list[PlacedView]) -> dict[EntityPath, str]:
    """Entities with data that no view of the blueprint shows, with the reason."""
    shown = {e for p in placed if p.spec is not None for e in p.spec.entities}
    out: dict[EntityPath, str] = {}
    for entity in db.entities():
        if entity in shown or not db.components(entity):
            continue
        out[entity] = "metadata" if is_metadata(entity) else "not in any view of the blueprint"
    return out
