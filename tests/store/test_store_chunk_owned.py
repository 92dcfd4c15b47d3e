"""Chunks built the ingest way (`chunk_from_msg`): row ids made native in place inside the
decompressed buffer, and one schema object per entity. Everything a chunk exposes must be
what the plain path (`Chunk.from_record_batch(decode_arrow_payload(msg))`, a row-id copy
and the batch as decoded) gives, the written-back batch included."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload, encode_record_batch
from viewer.log.messages import ArrowMsg, Compression
from viewer.log.reader import read_rrd
from viewer.store.chunk import ROW_ID_COLUMN, Chunk, row_ids_from_arrow
from viewer.store.decode import chunk_from_msg


@pytest.fixture(scope="module")
def mixed_msgs(mixed_rrd) -> list[ArrowMsg]:
    msgs, errors = read_rrd(mixed_rrd)
    assert not errors
    arrow_msgs = [m for m in msgs if isinstance(m, ArrowMsg)]
    assert all(m.compression == Compression.LZ4 for m in arrow_msgs)
    return arrow_msgs


def _plain(msg: ArrowMsg) -> Chunk:
    return Chunk.from_record_batch(decode_arrow_payload(msg), is_static=msg.is_static)


def _assert_same(ours: Chunk, plain: Chunk) -> None:
    assert ours.id == plain.id and ours.chunk_id_str == plain.chunk_id_str
    assert ours.entity_path == plain.entity_path and ours.is_static == plain.is_static
    assert ours.row_ids.dtype == np.uint64 and ours.row_ids.shape == plain.row_ids.shape
    np.testing.assert_array_equal(ours.row_ids, plain.row_ids)
    assert ours.timelines.keys() == plain.timelines.keys()
    for name, tc in ours.timelines.items():
        np.testing.assert_array_equal(tc.times, plain.timelines[name].times)
    assert ours.components.keys() == plain.components.keys()
    for name, arr in ours.components.items():
        assert arr.equals(plain.components[name])
    assert ours.descriptors == plain.descriptors
    back = ours.to_record_batch()
    assert back.equals(plain.to_record_batch(), check_metadata=True)
    assert ours.batch.equals(back, check_metadata=True)
    np.testing.assert_array_equal(row_ids_from_arrow(back.column(ROW_ID_COLUMN)), plain.row_ids)


def test_ingest_built_chunks_equal_plain_ones(mixed_msgs) -> None:
    chunks = [chunk_from_msg(m) for m in mixed_msgs]
    swapped = [c for c in chunks if c._native_row_id_column >= 0]
    assert len(swapped) == len(chunks)  # every LZ4 chunk had its row ids swapped in place
    for msg, chunk in zip(mixed_msgs, chunks, strict=True):
        _assert_same(chunk, _plain(msg))
        assert chunk.nbytes <= _plain(msg).nbytes  # the row-id copy is not counted twice


def test_chunks_of_one_schema_share_it_but_keep_their_ids(mixed_msgs) -> None:
    chunks = [chunk_from_msg(m) for m in mixed_msgs]
    assert all(c._plan is not None for c in chunks)
    by_plan: dict[int, list[Chunk]] = {}
    for c in chunks:
        by_plan.setdefault(id(c._plan), []).append(c)
    shared = [cs for cs in by_plan.values() if len(cs) > 1]
    assert shared, "the mixed recording has entities with several chunks of one schema"
    for cs in shared:
        assert len({str(c.entity_path) for c in cs}) == 1
        assert all(c.schema.equals(cs[0].schema, check_metadata=True) for c in cs)
        assert b"rerun:id" not in (cs[0].schema.metadata or {})
    ids = [c.to_record_batch().schema.metadata[b"rerun:id"].decode() for c in chunks]
    assert ids == [c.chunk_id_str for c in chunks] and len(set(ids)) == len(chunks)


def test_uncompressed_payloads_are_not_modified(mixed_msgs) -> None:
    msg = mixed_msgs[-1]
    plain_batch = decode_arrow_payload(msg)
    raw = encode_record_batch(plain_batch, msg.store_id, compress=False)
    before = bytes(raw.payload)
    chunk = chunk_from_msg(raw)
    assert chunk._native_row_id_column == -1  # the file's bytes are read-only: copied
    assert bytes(raw.payload) == before
    _assert_same(chunk, _plain(msg))


def test_sorting_and_merging_swapped_chunks_match_the_plain_path(mixed_msgs) -> None:
    ours = [chunk_from_msg(m) for m in mixed_msgs]
    plain = [_plain(m) for m in mixed_msgs]
    for o, p in zip(ours, plain, strict=True):
        for name in o.timelines:
            _assert_same(o.sorted_by(name), p.sorted_by(name))
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, c in enumerate(ours):
        groups.setdefault((str(c.entity_path), c.is_static), []).append(i)
    merged_any = False
    for idx in groups.values():
        if len(idx) < 2 or not Chunk.can_concat(ours[idx[0]], ours[idx[1]]):
            continue
        a = Chunk.concat([ours[i] for i in idx[:2]])
        b = Chunk.concat([plain[i] for i in idx[:2]])
        _assert_same(a, b)
        merged_any = True
    assert merged_any


def test_a_batch_with_an_extension_or_offset_row_id_column_still_works(mixed_msgs) -> None:
    msg = mixed_msgs[0]
    batch = decode_arrow_payload(msg)
    sliced = batch.slice(1)  # the row-id column starts one value into its buffer
    again = encode_record_batch(sliced, msg.store_id)
    again = dataclasses.replace(again, chunk_id=msg.chunk_id, is_static=msg.is_static)
    chunk = chunk_from_msg(again)
    np.testing.assert_array_equal(chunk.row_ids, _plain(msg).row_ids[1:])
    assert chunk.to_record_batch().equals(sliced, check_metadata=True)
    assert isinstance(chunk.to_record_batch().column(ROW_ID_COLUMN), pa.Array)
