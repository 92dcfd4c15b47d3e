"""The worker's processing step on its own (no threads): merging, order, errors, bounds."""

from __future__ import annotations

import dataclasses
import time

from ingest_helpers import (
    chunk_tokens,
    entity_order,
    expected_tokens,
    file_messages,
    grouped_by_entity,
)

from viewer.ingest.items import InboxEntry, ItemKind
from viewer.ingest.settings import IngestSettings
from viewer.ingest.worker import IngestionWorker
from viewer.log.messages import ArrowMsg, message_nbytes


def _feed(worker: IngestionWorker, msgs) -> None:
    for i, m in enumerate(msgs):
        assert worker.inbox.try_put(InboxEntry(m, None, time.monotonic(), i), message_nbytes(m))


def _tokens(items) -> list:
    out = []
    for it in items:
        if it.kind is ItemKind.CHUNK:
            out.extend(chunk_tokens(it.payload))
        elif it.kind is ItemKind.STORE_INFO:
            out.append(("info", it.payload))
        elif it.kind is ItemKind.ERROR:
            out.append(("error", it.payload.message))
    return out


def test_ingest_worker_merges_adjacent_small_chunks_only():
    msgs = grouped_by_entity(file_messages("scalars.rrd"))
    sid = msgs[0].store_id
    settings = IngestSettings(merge_max_rows=120, merge_max_bytes=20_000)
    w = IngestionWorker(sid, settings)
    _feed(w, msgs)
    assert w.process(time.monotonic() + 10) == len(msgs)
    items = w.outbox.take_many(10_000)
    assert entity_order(_tokens(items)) == entity_order(expected_tokens(msgs)[sid])
    chunks = [it for it in items if it.kind is ItemKind.CHUNK]
    assert sum(it.n_msgs for it in items) == len(msgs)
    assert any(it.n_msgs > 1 for it in chunks)
    at = 0
    for it in items:  # items take the input messages in order, n_msgs each
        behind = msgs[at : at + it.n_msgs]
        at += it.n_msgs
        if it.kind is not ItemKind.CHUNK:
            continue
        # runs of same-schema messages are joined up to merge_max_bytes of IPC data, the
        # merger joins what is left up to merge_max_rows rows
        ipc_bytes = sum(m.uncompressed_size for m in behind)
        assert (it.payload.num_rows <= 120 or it.n_msgs == 1
                or ipc_bytes <= settings.merge_max_bytes)
        assert it.payload.source_chunks == it.n_msgs
    # one entity per merged chunk, and a merged chunk never spans a non-chunk message
    assert len(chunks) < sum(isinstance(m, ArrowMsg) for m in msgs)


def test_ingest_worker_never_merges_across_non_chunk_messages():
    chunks = [m for m in grouped_by_entity(file_messages("scalars.rrd")) if isinstance(m, ArrowMsg)]
    info = next(m for m in file_messages("scalars.rrd") if not isinstance(m, ArrowMsg))
    a, b = chunks[1], chunks[2]  # same entity, adjacent after grouping
    msgs = [a, info, b]
    w = IngestionWorker(a.store_id, IngestSettings(merge_max_rows=4096))
    _feed(w, msgs)
    w.process(time.monotonic() + 10)
    items = w.outbox.take_many(100)
    assert [it.kind for it in items] == [ItemKind.CHUNK, ItemKind.STORE_INFO, ItemKind.CHUNK]
    assert entity_order(_tokens(items)) == entity_order(expected_tokens(msgs)[a.store_id])


def test_ingest_worker_decode_error_is_reported_and_skipped():
    msgs = [m for m in file_messages("scalars.rrd") if isinstance(m, ArrowMsg)][:4]
    bad = dataclasses.replace(msgs[1], payload=memoryview(b"\\x00garbage" * 10))
    w = IngestionWorker(msgs[0].store_id, IngestSettings(merge_max_rows=0))
    _feed(w, [msgs[0], bad, msgs[2]])
    w.process(time.monotonic() + 10)
    items = w.outbox.take_many(100)
    assert [it.kind for it in items] == [ItemKind.CHUNK, ItemKind.ERROR, ItemKind.CHUNK]
    err = items[1].payload
    assert str(msgs[0].store_id) in err.message and err.offset == 1
    assert w.decode_errors == 1


def test_ingest_worker_stops_at_full_outbox_and_budget():
    msgs = [m for m in file_messages("scalars.rrd") if isinstance(m, ArrowMsg)]
    w = IngestionWorker(msgs[0].store_id, IngestSettings(merge_max_rows=0, outbox_max_items=3))
    _feed(w, msgs)
    assert w.process(time.monotonic() + 10) == 3
    assert len(w.outbox) == 3 and w.outbox.is_full() and not w.can_progress()
    w.outbox.take_many(2)
    assert w.can_progress()
    assert w.process(time.monotonic() + 10, max_msgs=1) == 1
    assert w.process(time.monotonic() - 1) == 1  # an expired budget still makes progress


def test_ingest_worker_never_merges_chunks_above_the_byte_bound():
    msgs = grouped_by_entity(file_messages("scalars.rrd"))
    sid = msgs[0].store_id
    merged = IngestionWorker(sid, IngestSettings(merge_max_rows=4096))
    bounded = IngestionWorker(sid, IngestSettings(merge_max_rows=4096, merge_max_bytes=64))
    for w in (merged, bounded):
        _feed(w, msgs)
        w.process(time.monotonic() + 10)
    merged_items = merged.outbox.take_many(10_000)
    bounded_items = bounded.outbox.take_many(10_000)
    assert any(it.n_msgs > 1 for it in merged_items)  # merging happens without the bound
    assert all(it.n_msgs == 1 for it in bounded_items)  # every chunk is above 64 bytes
    assert entity_order(_tokens(bounded_items)) == entity_order(expected_tokens(msgs)[sid])


def test_ingest_worker_does_not_merge_in_web_mode():
    msgs = grouped_by_entity(file_messages("scalars.rrd"))
    sid = msgs[0].store_id
    w = IngestionWorker(sid, IngestSettings(web_mode=True, merge_max_rows=4096))
    _feed(w, msgs)
    w.process(time.monotonic() + 10)
    items = w.outbox.take_many(10_000)
    assert all(it.n_msgs == 1 for it in items)
    assert entity_order(_tokens(items)) == entity_order(expected_tokens(msgs)[sid])
