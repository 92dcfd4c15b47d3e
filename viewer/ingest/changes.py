"""`FrameChanges`: what one frame of ingestion changed, emitted once per frame.

Widgets update from this summary (batched model updates, one repaint), never per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from viewer.log.messages import BlueprintActivationCommand, StoreId
from viewer.log.reader import ReadError

if TYPE_CHECKING:
    from viewer.ingest.memory_governor import EvictionReport
    from viewer.ingest.sources import Source
    from viewer.store.entity_path import EntityPath


@dataclass(slots=True)
class StoreChanges:
    new_entities: list[EntityPath] = field(default_factory=list)  # parents first
    # Every entity that got rows this frame (new or not): views redraw only these.
    changed_entities: set[EntityPath] = field(default_factory=set)
    rows_added: int = 0
    chunks_added: int = 0  # as applied (a merged chunk counts once)
    new_timelines: list[str] = field(default_factory=list)
    timelines_changed: list[str] = field(default_factory=list)  # range grew (new ones too)
    store_info_changed: bool = False
    store_infos_applied: int = 0
    chunks_evicted: int = 0  # dropped by the memory limit this frame
    rows_evicted: int = 0


@dataclass(slots=True)
class FrameChanges:
    new_stores: list[StoreId] = field(default_factory=list)
    stores: dict[StoreId, StoreChanges] = field(default_factory=dict)
    closed_stores: list[StoreId] = field(default_factory=list)
    blueprint_activations: list[BlueprintActivationCommand] = field(default_factory=list)
    new_errors: list[ReadError] = field(default_factory=list)
    sources_changed: list[Source] = field(default_factory=list)  # state or progress
    memory: EvictionReport | None = None  # the memory limit dropped data: show a notice

    def store(self, store_id: StoreId) -> StoreChanges:
        sc = self.stores.get(store_id)
        if sc is None:
            sc = self.stores[store_id] = StoreChanges()
        return sc

    def __bool__(self) -> bool:
        return bool(self.new_stores or self.stores or self.closed_stores
                    or self.blueprint_activations or self.new_errors or self.sources_changed
                    or self.memory is not None)
