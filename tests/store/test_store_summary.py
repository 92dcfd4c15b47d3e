"""summarize(): the JSON shape and numbers, checked against rerun-sdk's own chunk listing."""

from __future__ import annotations

import json
from collections import defaultdict

from viewer.log.messages import StoreId, StoreInfo, StoreKind
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.summary import summarize


def oracle_entities(mixed_chunks) -> dict:
    out: dict = defaultdict(lambda: {"rows": 0, "chunks": 0, "timelines": set(), "components": set()})
    for c in mixed_chunks:
        e = out[c.entity_path]
        e["rows"] += c.num_rows
        e["chunks"] += 1
        e["timelines"] |= set(c.timeline_names)
        batch = c.to_record_batch()
        e["components"] |= {
            f.name for f in batch.schema if (f.metadata or {}).get(b"rerun:kind") == b"data"
        }
    return {
        path: {**e, "timelines": sorted(e["timelines"]), "components": sorted(e["components"])}
        for path, e in out.items()
    }


def test_summary_matches_oracle(mixed_chunks, mixed_rrd) -> None:
    recording = StoreId(StoreKind.RECORDING, mixed_rrd.stem, "store_tests")
    db = EntityDb(recording)
    db.set_store_info(StoreInfo(recording))
    for c in mixed_chunks:
        db.add_chunk(Chunk.from_record_batch(c.to_record_batch(), is_static=c.is_static))
    blueprint = EntityDb(StoreId(StoreKind.BLUEPRINT, "bp1", "store_tests"))

    summary = summarize([db, blueprint])
    assert json.loads(json.dumps(summary)) == summary  # plain JSON
    rec, bp = summary["stores"]
    assert (rec["kind"], rec["application_id"], rec["recording_id"]) == (
        "recording", "store_tests", "mixed",
    )
    assert rec["entities"] == oracle_entities(mixed_chunks)
    assert list(rec["entities"]) == sorted(rec["entities"])
    assert bp == {"kind": "blueprint", "application_id": "store_tests", "recording_id": "bp1",
                  "entities": {}}


def test_merged_chunks_count_as_their_sources(mixed_chunks) -> None:
    """Ingestion may merge chunks of one entity: the summary must not change."""
    sid = StoreId(StoreKind.RECORDING, "r", "a")
    plain, merged = EntityDb(sid), EntityDb(sid)
    groups: dict[tuple[str, bool], list[Chunk]] = defaultdict(list)
    for c in mixed_chunks:
        chunk = Chunk.from_record_batch(c.to_record_batch(), is_static=c.is_static)
        plain.add_chunk(chunk)
        groups[(c.entity_path, c.is_static)].append(chunk)
    for parts in groups.values():
        merged.add_chunk(Chunk.concat(parts))
    assert merged.num_chunks < plain.num_chunks
    assert summarize([merged]) == summarize([plain])


def test_latest_store_info_names_the_store() -> None:
    db = EntityDb(StoreId(StoreKind.RECORDING, "r", "old"))
    db.set_store_info(StoreInfo(StoreId(StoreKind.RECORDING, "r", "new")))
    assert summarize([db])["stores"][0]["application_id"] == "new"
