"""The window's side of blueprints: which plan each recording's views host follows.

`BlueprintChoice` (Qt-free) decides which blueprint store applies to an application; this
class turns it into each host's planner, re-lays out the hosts of an application when its
blueprint changes (an activation, new blueprint chunks over a live stream, a reset), applies
the panel states the blueprint sets, and reports once per blueprint what it holds that the
window does not apply yet.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDockWidget

from viewer.log.messages import BlueprintActivationCommand, StoreId, StoreKind
from viewer.scene.blueprint import Blueprint
from viewer.scene.blueprint_choice import BlueprintChoice
from viewer.store.entity_db import EntityDb
from viewer.ui.views.registry import LayoutPlan, blueprint_plan, heuristic_plan
from viewer.ui.views_area import ViewsArea


class BlueprintLayouts:
    """Planners for the hosts of ``views_area``, from the blueprints in ``dbs``."""

    def __init__(self, views_area: ViewsArea, db_of: Callable[[StoreId], EntityDb | None],
                 panels: dict[str, QDockWidget],
                 notify: Callable[[str, str], None]) -> None:
        self.choice = BlueprintChoice()
        self._views_area = views_area
        self._db_of = db_of
        self._panels = panels  # "blueprint" / "selection" / "time" -> the dock it sets
        self._notify = notify
        self._reported: set[StoreId] = set()
        #: Blueprints whose activation command arrived: complete (it follows their chunks).
        self._complete: set[StoreId] = set()

    def blueprint_for(self, app_id: str) -> tuple[StoreId, Blueprint] | None:
        sid = self.choice.store_for(app_id)
        db = self._db_of(sid) if sid is not None else None
        if sid is None or db is None:
            return None
        bp = self.choice.blueprint(db)
        if bp is None or bp.root is None:
            return None
        return sid, bp

    def plan(self, db: EntityDb) -> LayoutPlan:
        """The plan of a recording: its application's blueprint, else the heuristics."""
        found = self.blueprint_for(db.store_id.application_id)
        if found is None:
            return heuristic_plan(db)
        sid, bp = found
        bdb = self._db_of(sid)
        token = (sid, self.choice.generation(db.store_id.application_id),
                 bdb.num_chunks if bdb is not None else 0)
        return blueprint_plan(db, bp, token)

    def add_store(self, store_id: StoreId) -> None:
        if store_id.kind == StoreKind.BLUEPRINT:
            self.choice.add_store(store_id)
            self.relayout(store_id.application_id)
        else:
            host = self._views_area.host(store_id)
            if host is not None:
                host.planner = self.plan

    def remove_store(self, store_id: StoreId) -> None:
        if store_id.kind == StoreKind.BLUEPRINT:
            self.choice.remove_store(store_id)
            self.relayout(store_id.application_id)

    def on_activation(self, cmd: BlueprintActivationCommand) -> None:
        self._complete.add(cmd.blueprint_id)
        self.choice.on_activation(cmd)
        self.relayout(cmd.blueprint_id.application_id)

    def on_blueprint_data(self, store_id: StoreId) -> None:
        """New chunks in a blueprint store (a live blueprint): lay out again if in use."""
        if self.choice.store_for(store_id.application_id) == store_id:
            self.relayout(store_id.application_id)

    def reset(self, app_id: str) -> None:
        self.choice.reset_to_default(app_id)
        for host in self._hosts(app_id):
            host.force_relayout()
        self.relayout(app_id)

    def relayout(self, app_id: str) -> None:
        """Hosts of ``app_id`` take their plan again (a new source lays them out anew)."""
        for host in self._hosts(app_id):
            host.stale = True
            if host.isVisible():
                host.sync(limit=0)
                host.stale = False
        self.apply_panels(app_id)

    def apply_panels(self, app_id: str) -> None:
        found = self.blueprint_for(app_id)
        if found is None:
            return
        sid, bp = found
        for name, state in bp.panels.items():
            dock = self._panels.get(name)
            if dock is not None:
                dock.setVisible(state != "hidden")
        # What a blueprint lacks is said once it is complete (a half-loaded one names
        # containers whose chunks have not arrived yet).
        if sid not in self._reported and sid in self._complete:
            self._reported.add(sid)
            notes = list(bp.problems)
            if bp.unapplied:
                notes.append("not applied yet: " + ", ".join(bp.unapplied))
            unknown = sorted({v.class_identifier for v in bp.views if v.kind is None})
            if unknown:
                notes.append("view kinds not supported: " + ", ".join(unknown))
            if notes:
                self._notify(f"Blueprint of {app_id}", "; ".join(notes))

    def _hosts(self, app_id: str) -> list:
        return [h for sid, h in self._views_area.hosts.items()
                if sid.application_id == app_id and sid.kind != StoreKind.BLUEPRINT]
