"""Which blueprint lays out a recording: Rerun's active/default rule, per application.

A blueprint applies to the recordings of its application id. Activation commands arrive in
store order (after the blueprint's chunks): ``make_default`` makes it the application's
default blueprint, ``make_active`` the one in use now. A blueprint store that arrives with
no command (an older file) is used when the application has none. "Reset to default
layout" goes back to the default blueprint; without one, to the heuristic layout.
Blueprints are parsed once per store change (the chunk and row counts as the token).
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.log.messages import BlueprintActivationCommand, StoreId, StoreKind
from viewer.scene.blueprint import Blueprint, read_blueprint
from viewer.store.entity_db import EntityDb


@dataclass(slots=True)
class _AppChoice:
    active: StoreId | None = None
    default: StoreId | None = None
    fallback: StoreId | None = None  # a blueprint that arrived without any command
    generation: int = 0  # bumped whenever the choice changes (hosts lay out anew)


class BlueprintChoice:
    """Tracks active/default blueprints per application id and parses them lazily."""

    def __init__(self) -> None:
        self._apps: dict[str, _AppChoice] = {}
        self._parsed: dict[StoreId, tuple[tuple[int, int], Blueprint | None]] = {}

    def _app(self, app_id: str) -> _AppChoice:
        choice = self._apps.get(app_id)
        if choice is None:
            choice = self._apps[app_id] = _AppChoice()
        return choice

    def add_store(self, store_id: StoreId) -> None:
        if store_id.kind != StoreKind.BLUEPRINT:
            return
        choice = self._app(store_id.application_id)
        if choice.fallback is None:
            choice.fallback = store_id
            choice.generation += 1

    def remove_store(self, store_id: StoreId) -> None:
        self._parsed.pop(store_id, None)
        choice = self._apps.get(store_id.application_id)
        if choice is None:
            return
        for attr in ("active", "default", "fallback"):
            if getattr(choice, attr) == store_id:
                setattr(choice, attr, None)
                choice.generation += 1

    def on_activation(self, cmd: BlueprintActivationCommand) -> None:
        choice = self._app(cmd.blueprint_id.application_id)
        if cmd.make_default:
            choice.default = cmd.blueprint_id
        if cmd.make_active:
            choice.active = cmd.blueprint_id
        choice.generation += 1

    def reset_to_default(self, app_id: str) -> None:
        """The default blueprint becomes active again (none: heuristics)."""
        choice = self._app(app_id)
        choice.active = choice.default
        if choice.default is None:
            choice.fallback = None
        choice.generation += 1

    def store_for(self, app_id: str) -> StoreId | None:
        """The blueprint store in use for recordings of ``app_id``, if any."""
        choice = self._apps.get(app_id)
        if choice is None:
            return None
        return choice.active or choice.default or choice.fallback

    def generation(self, app_id: str) -> int:
        choice = self._apps.get(app_id)
        return 0 if choice is None else choice.generation

    def blueprint(self, db: EntityDb) -> Blueprint | None:
        """``db`` (a blueprint store) parsed, cached until it changes."""
        token = (db.num_chunks, db.num_rows)
        cached = self._parsed.get(db.store_id)
        if cached is not None and cached[0] == token:
            return cached[1]
        parsed = read_blueprint(db)
        self._parsed[db.store_id] = (token, parsed)
        return parsed
