"""The data model: chunks, entity paths, per-store databases and their queries (no Qt here)."""

from viewer.store.chunk import Chunk, ChunkError, ComponentDescriptor, TimeColumn, TimelineKind
from viewer.store.entity_db import ChunkAdded, EntityDb, LatestAtResult, RangeResult
from viewer.store.entity_path import EntityPath
from viewer.store.entity_tree import EntityTree, EntityTreeNode
from viewer.store.summary import summarize

__all__ = [
    "Chunk",
    "ChunkAdded",
    "ChunkError",
    "ComponentDescriptor",
    "EntityDb",
    "EntityPath",
    "EntityTree",
    "EntityTreeNode",
    "LatestAtResult",
    "RangeResult",
    "TimeColumn",
    "TimelineKind",
    "summarize",
]
