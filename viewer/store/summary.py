"""The JSON summary of stores printed by `viewer inspect` / `viewer ingest`.

"chunks" counts chunks as the source sent them (`Chunk.source_chunks`), so the numbers do
not depend on whether ingestion merged small chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from viewer.store.entity_db import EntityDb


def summarize_db(db: EntityDb) -> dict[str, Any]:
    store_id = db.store_info.store_id if db.store_info is not None else db.store_id
    entities: dict[str, dict[str, Any]] = {}
    rows = db.rows_per_entity
    for path in db.entities():
        entities[str(path)] = {
            "rows": rows[path],
            "chunks": db.source_chunks_of(path),
            "timelines": sorted(db.timelines_of(path)),
            "components": db.components(path),
        }
    return {
        "kind": store_id.kind.label,
        "application_id": store_id.application_id,
        "recording_id": store_id.recording_id,
        "entities": entities,
    }


def summarize(dbs: Iterable[EntityDb]) -> dict[str, Any]:
    """`{"stores": [...]}` in the order the databases are given."""
    return {"stores": [summarize_db(db) for db in dbs]}
