"""Runs of same-schema messages become one chunk, with the same data as one chunk each."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from ingest_helpers import latest_at_everything, sdk_recording

from viewer.ingest import IngestSettings
from viewer.ingest.batch_runs import BatchRuns, Payload
from viewer.ingest.items import InboxEntry, ItemKind
from viewer.ingest.worker import IngestionWorker
from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, Compression, SetStoreInfo
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb

SLICE = 50


def _write_slices(path: Path) -> None:
    """`send_columns` in slices of 50 rows: /a then /b then /a again, three timelines,
    and a text log (the SDK's batcher sends it when it flushes)."""
    import rerun as rr

    rec = rr.RecordingStream("run_tests", recording_id="slices")
    rec.save(str(path))
    for entity, starts in (("a", range(0, 400, SLICE)), ("b", range(0, 200, SLICE))):
        for start in starts:
            frames = np.arange(start, start + SLICE, dtype=np.int64)
            rec.send_columns(
                entity,
                indexes=[rr.TimeColumn("frame", sequence=frames),
                         rr.TimeColumn("log_time", timestamp=(1_700_000_000_000 + frames)
                                       .astype("datetime64[ms]")),
                         rr.TimeColumn("sim_time", duration=frames.astype("timedelta64[ms]"))],
                columns=rr.Scalars.columns(scalars=np.sin(frames * 0.01)))
    rec.log("notes", rr.TextLog("between"), static=True)
    frames = np.arange(1000, 1000 + SLICE, dtype=np.int64)
    rec.send_columns("a", indexes=[rr.TimeColumn("frame", sequence=frames),
                                   rr.TimeColumn("log_time", timestamp=(1_700_000_000_000 + frames)
                                                 .astype("datetime64[ms]")),
                                   rr.TimeColumn("sim_time", duration=frames.astype("timedelta64[ms]"))],
                     columns=rr.Scalars.columns(scalars=np.cos(frames * 0.01)))
    rec.flush()
    rec.disconnect()


@pytest.fixture(scope="module")
def slices_rrd(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sdk_recording(tmp_path_factory, "slices.rrd", _write_slices)


RUNS_ONLY = {"merge_max_rows": 100_000, "merge_max_bytes": 1 << 30}


def _run_worker(msgs: list, **settings) -> list:
    worker = IngestionWorker(msgs[0].store_id, IngestSettings(**settings))
    for i, m in enumerate(msgs):
        assert worker.inbox.try_put(InboxEntry(m, None, 0.0, i), 1)
    worker.process(time.monotonic() + 30)
    items = worker.outbox.take_many(10_000)
    assert not len(worker.inbox)
    return items


def _db(store_id, items) -> EntityDb:
    db = EntityDb(store_id)
    for item in items:
        if item.kind is ItemKind.CHUNK:
            db.add_chunk(item.payload)
    return db


def _reference(msgs: list) -> EntityDb:
    db = EntityDb(msgs[0].store_id)
    for m in msgs:
        if isinstance(m, ArrowMsg):
            db.add_chunk(Chunk.from_record_batch(decode_arrow_payload(m), is_static=m.is_static))
    return db


def test_a_run_of_slices_becomes_one_chunk_with_the_same_data(slices_rrd):
    msgs, errors = read_rrd(slices_rrd)
    assert not errors
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    items = _run_worker(arrow, merge_max_rows=0)  # the reference: no runs, no merging
    assert len(items) == len(arrow)
    items = _run_worker(arrow, **RUNS_ONLY)
    chunks = [it.payload for it in items]
    # /a (8 slices, and the one after /b and the text log: runs of several entities are
    # open at once), /b (4), /__properties and the text log alone
    by_entity = sorted((str(c.entity_path), c.num_rows, c.source_chunks) for c in chunks)
    assert by_entity == [("/__properties", 1, 1), ("/a", 9 * SLICE, 9),
                         ("/b", 4 * SLICE, 4), ("/notes", 1, 1)]
    assert sum(it.n_msgs for it in items) == len(arrow)
    got, ref = _db(arrow[0].store_id, items), _reference(arrow)
    assert latest_at_everything(got) == latest_at_everything(ref)
    for path in ref.entities():
        for comp in ref.components(path):
            for tl in ("frame", "log_time", "sim_time"):
                if tl not in ref.timelines_of(path):
                    continue
                a = got.range(path, comp, tl, -(1 << 62), 1 << 62)
                b = ref.range(path, comp, tl, -(1 << 62), 1 << 62)
                np.testing.assert_array_equal(a.times, b.times)
                np.testing.assert_array_equal(a.row_ids, b.row_ids)
                assert a.values.to_pylist() == b.values.to_pylist()


def test_a_run_writes_back_the_bytes_rerun_wrote(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    a_msgs = [m for m in msgs if isinstance(m, ArrowMsg)][1:9]  # the first /a run
    items = _run_worker(a_msgs, **RUNS_ONLY)
    (item,) = items
    back = item.payload.to_record_batch()
    parts = [decode_arrow_payload(m) for m in a_msgs]
    want = pa.Table.from_batches(parts).combine_chunks()
    for name in want.column_names:  # row ids big-endian again, times in their own units
        assert back.column(name).to_pylist() == want.column(name).to_pylist(), name


def test_a_bad_message_inside_a_run_gets_its_own_error(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)][1:9]  # eight /a slices
    good = decode_arrow_payload(arrow[3])
    # A valid LZ4 block whose IPC stream is cut short: it decompresses, then fails to read.
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, good.schema) as writer:
        writer.write_batch(good)
    ipc = sink.getvalue().to_pybytes()
    cut = ipc[: len(ipc) // 2] + ipc[-8:]
    bad_ipc = dataclasses.replace(arrow[3], payload=memoryview(pa.Codec("lz4_raw").compress(cut)),
                                  uncompressed_size=len(cut), compression=Compression.LZ4)
    bad_lz4 = dataclasses.replace(arrow[5], payload=memoryview(b"\x00garbage" * 10))
    feed = arrow[:3] + [bad_ipc] + [arrow[4]] + [bad_lz4] + arrow[6:]
    items = _run_worker(feed, **RUNS_ONLY)
    kinds = [it.kind for it in items]
    errors = [it.payload for it in items if it.kind is ItemKind.ERROR]
    assert len(errors) == 2 and [e.offset for e in errors] == [3, 5]
    assert kinds.index(ItemKind.ERROR) >= 1  # the good messages before it come first
    rows = sum(it.payload.num_rows for it in items if it.kind is ItemKind.CHUNK)
    assert rows == 6 * SLICE  # every good message loaded
    assert sum(it.n_msgs for it in items) == len(feed)


def test_a_run_never_crosses_a_store_info(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    info = next(m for m in msgs if isinstance(m, SetStoreInfo))
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)][1:9]
    feed = arrow[:4] + [info] + arrow[4:]
    items = _run_worker(feed, **RUNS_ONLY)
    assert [it.kind for it in items] == [ItemKind.CHUNK, ItemKind.STORE_INFO, ItemKind.CHUNK]
    assert [it.n_msgs for it in items] == [4, 1, 4]


def _payloads(msgs: list) -> list[Payload]:
    return [Payload.of(InboxEntry(m, None, 0.0, i), m) for i, m in enumerate(msgs)]


def test_batch_runs_join_a_run_without_the_merger(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    a_msgs = [m for m in msgs if isinstance(m, ArrowMsg)][1:9]  # eight /a slices of 50 rows
    runs = BatchRuns(1 << 30)
    built = [b for p in _payloads(a_msgs) for b in runs.add(p)] + runs.flush()
    (entry, chunk, n_msgs), = built
    assert n_msgs == 8 and chunk.num_rows == 8 * SLICE and entry.offset == 0
    assert runs.joined_batches == 8


def test_later_runs_of_a_schema_hold_about_max_rows(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    a_msgs = [m for m in msgs if isinstance(m, ArrowMsg)][1:9]  # eight /a slices of 50 rows
    runs = BatchRuns(1 << 30, max_rows=120)
    first = [b for p in _payloads(a_msgs) for b in runs.add(p)] + runs.flush()
    later = [b for p in _payloads(a_msgs) for b in runs.add(p)] + runs.flush()
    # the first run knows no rows per byte yet: its byte cap alone; later ones stop before
    # passing ~120 rows (two slices), the size of the chunks the merger makes
    assert [c.num_rows for _, c, _ in first] == [8 * SLICE]
    assert [c.num_rows for _, c, _ in later] == [2 * SLICE] * 4


def test_scratch_decoded_chunks_keep_their_data_after_later_runs(slices_rrd):
    """Payloads decoded into the reused scratch buffer and joined in reused run buffers:
    every chunk built, alone or from a run, still holds its own data once later messages
    have gone through the same buffers. Entities taking turns still make runs (one open
    run per entity), and each run goes out in the place of its first message."""
    msgs, _ = read_rrd(slices_rrd)
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    a, b = arrow[1:9], arrow[9:13]  # eight /a slices, four /b slices
    assert {_entity(m) for m in a} == {"/a"} and {_entity(m) for m in b} == {"/b"}
    no_id = dataclasses.replace(a[2], chunk_id=None)  # never joins a run: built alone
    # alternating entities, a message without id (closes every open run), alternating again
    feed = [a[0], b[0], a[1], b[1], *a[2:6], no_id, b[2], b[3], a[6]]
    runs = BatchRuns(1 << 20)
    built = []
    transient = []

    def give(i: int, m: ArrowMsg) -> None:
        payload = runs.decode(InboxEntry(m, None, 0.0, i), m)
        transient.append(payload.transient)
        built.extend(runs.add(payload))

    for i, m in enumerate(feed):
        give(i, m)
    built += runs.flush()
    groups = [[0, 2, 4, 5, 6, 7], [1, 3], [8], [9, 10], [11]]
    assert [n for _, _, n in built] == [len(g) for g in groups]
    assert all(transient)  # every one went through the scratch buffer
    # the last run closed was a single message: the next is decoded into its own buffer
    feed.append(a[7])
    give(len(feed) - 1, a[7])
    built += runs.flush()
    groups.append([12])
    assert transient[-1] is False and [n for _, _, n in built][-1] == 1
    for (entry, chunk, n), group in zip(built, groups, strict=True):
        assert isinstance(chunk, Chunk), chunk
        want = pa.Table.from_batches([decode_arrow_payload(feed[i]) for i in group])
        got = chunk.to_record_batch()
        for name in want.column_names:
            assert got.column(name).to_pylist() == want.column(name).to_pylist(), (group, name)
        assert entry.offset == group[0] and n == len(group)


def _entity(msg: ArrowMsg) -> str:
    return decode_arrow_payload(msg).schema.metadata[b"rerun:entity_path"].decode()


def _built_groups(runs: BatchRuns, feed: list[ArrowMsg]) -> list[list[int]]:
    """Feed messages through ``runs``; the feed indices behind each result, in order."""
    built = []
    for i, m in enumerate(feed):
        built += runs.add(runs.decode(InboxEntry(m, None, 0.0, i), m))
    built += runs.flush()
    groups = []
    for entry, chunk, n in built:
        assert isinstance(chunk, Chunk), chunk
        first = entry.offset
        ids = {tuple(r) for r in chunk.row_ids.tolist()}
        group = [i for i, m in enumerate(feed)
                 if i >= first and _row_ids(m) <= ids]
        assert len(group) == n
        groups.append(group)
    return groups


def _row_ids(msg: ArrowMsg) -> set[tuple[int, int]]:
    chunk = Chunk.from_record_batch(decode_arrow_payload(msg), is_static=msg.is_static)
    return {tuple(r) for r in chunk.row_ids.tolist()}


def test_entities_taking_turns_still_make_runs(slices_rrd):
    msgs, _ = read_rrd(slices_rrd)
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    a, b = arrow[1:9], arrow[9:13]
    feed = [m for pair in zip(a, b, strict=False) for m in pair] + a[4:]
    # a0 b0 a1 b1 a2 b2 a3 b3 a4 .. a7: one run per entity, each in its first message's place
    assert _built_groups(BatchRuns(1 << 20), feed) == [
        [0, 2, 4, 6, *range(8, 12)], [1, 3, 5, 7]]


def test_more_entities_than_open_runs_close_the_oldest(slices_rrd, monkeypatch):
    import viewer.log.run_slots as run_slots  # the rules BatchRuns shares with the helper

    monkeypatch.setattr(run_slots, "MAX_OPEN_RUNS", 1)
    msgs, _ = read_rrd(slices_rrd)
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    a, b = arrow[1:9], arrow[9:13]
    feed = [a[0], a[1], b[0], b[1], a[2], b[2]]
    # one run open at a time: a new entity closes the open one, order stays the feed's
    assert _built_groups(BatchRuns(1 << 20), feed) == [[0, 1], [2, 3], [4], [5]]


def _write_two_schemas(path: Path) -> None:
    """One entity sent with two schemas in turn: scalars on three timelines, then on one."""
    import rerun as rr

    rec = rr.RecordingStream("run_tests", recording_id="two_schemas")
    rec.save(str(path))
    for start in range(0, 200, SLICE):
        frames = np.arange(start, start + SLICE, dtype=np.int64)
        rec.send_columns("a", indexes=[rr.TimeColumn("frame", sequence=frames),
                                       rr.TimeColumn("sim_time",
                                                     duration=frames.astype("timedelta64[ms]"))],
                         columns=rr.Scalars.columns(scalars=np.sin(frames * 0.01)))
        rec.send_columns("a", indexes=[rr.TimeColumn("frame", sequence=frames + 1000)],
                         columns=rr.Scalars.columns(scalars=np.cos(frames * 0.01)))
    rec.flush()
    rec.disconnect()


def test_an_entity_keeps_its_order_across_its_schemas(rerun_home, tmp_path):
    path = tmp_path / "two_schemas.rrd"
    _write_two_schemas(path)
    msgs, errors = read_rrd(path)
    assert not errors
    feed = [m for m in msgs if isinstance(m, ArrowMsg) and _entity(m) == "/a"]
    assert len(feed) == 8
    assert len({tuple(decode_arrow_payload(m).schema.names) for m in feed}) == 2
    # a message of the other schema closes the entity's open run: nothing overtakes
    assert _built_groups(BatchRuns(1 << 20), feed) == [[i] for i in range(8)]
