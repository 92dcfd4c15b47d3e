"""`Chunk.from_table`: one chunk from a run of same-schema batches, equal to the
merge of one chunk per batch, with row ids stored once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload_keyed
from viewer.log.messages import ArrowMsg
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk, ChunkError, chunk_id_to_str, run_key


def _keyed(mixed_rrd, path: str) -> list[tuple[pa.RecordBatch, bytes, ArrowMsg]]:
    msgs, errors = read_rrd(mixed_rrd)
    assert not errors
    out = []
    for m in msgs:
        if isinstance(m, ArrowMsg) and not m.is_static:
            batch, key = decode_arrow_payload_keyed(m)
            if batch.schema.metadata[b"rerun:entity_path"] == path.encode():
                out.append((batch, key, m))
    return out


def _key(batch: pa.RecordBatch, key: bytes, msg: ArrowMsg) -> bytes | None:
    return run_key(key, chunk_id_to_str(msg.chunk_id.to_bytes()).encode())


def test_a_run_equals_the_merge_of_its_parts(mixed_rrd) -> None:
    keyed = _keyed(mixed_rrd, "/plots/sine")
    # chunks differ in their `rerun:is_sorted` field metadata: keep the biggest group of
    # one schema (apart from the chunk ids)
    keys = [_key(*k) for k in keyed]
    assert None not in keys and len(set(keys)) < len(keys)
    common = max(set(keys), key=keys.count)
    keyed = [k for k, key in zip(keyed, keys, strict=True) if key == common]
    assert len(keyed) >= 2
    parts = [Chunk.from_record_batch(b, schema_key=k) for b, k, _ in keyed]
    merged = Chunk.concat(parts)
    run = Chunk.from_table(pa.Table.from_batches([b for b, _, _ in keyed]), keyed[0][1])
    assert run.id == parts[0].id and run.source_chunks == len(parts)
    assert run.num_rows == merged.num_rows
    np.testing.assert_array_equal(run.row_ids, merged.row_ids)
    for name, tc in merged.timelines.items():
        np.testing.assert_array_equal(run.timelines[name].times, tc.times)
        assert run.timelines[name].is_sorted == tc.is_sorted  # frames go backwards here
        np.testing.assert_array_equal(run.timelines[name].sorted_times, tc.sorted_times)
    assert run.components["Scalars:scalars"].to_pylist() == \
        merged.components["Scalars:scalars"].to_pylist()
    # the row ids are stored once (native), as in a chunk that swapped them in place
    assert run.nbytes <= sum(p.nbytes for p in parts)
    # written back: big-endian row ids and the first chunk's id, like the source batches
    back = run.to_record_batch()
    want = pa.Table.from_batches([b for b, _, _ in keyed]).combine_chunks()
    for name in want.column_names:
        assert back.column(name).equals(want.column(name).chunk(0)), name
    assert back.schema.metadata[b"rerun:id"] == keyed[0][0].schema.metadata[b"rerun:id"]


def test_concat_keeps_row_ids_once_and_writes_them_back(mixed_rrd) -> None:
    keyed = _keyed(mixed_rrd, "/plots/pair")
    parts = [Chunk.from_record_batch(b, schema_key=k) for b, k, _ in keyed]
    merged = Chunk.concat(parts)
    assert merged.nbytes <= sum(p.nbytes for p in parts) + 64 * len(merged.timelines)
    back = merged.to_record_batch().column("rerun.controls.RowId")
    want = pa.concat_arrays([b.column("rerun.controls.RowId") for b, _, _ in keyed])
    assert back.to_pylist() == want.to_pylist()


def test_a_corrupt_part_is_refused_by_name(mixed_rrd) -> None:
    keyed = _keyed(mixed_rrd, "/plots/sine")
    batches = [b for b, _, _ in keyed]
    victim = batches[1]
    idx = victim.schema.get_field_index("Scalars:scalars")
    col = victim.column(idx)
    offsets = np.frombuffer(col.buffers()[1], dtype=np.int32).copy()
    offsets[1] = 1 << 20  # points far past the values
    bad = pa.Array.from_buffers(col.type, len(col), [col.buffers()[0], pa.py_buffer(offsets)],
                                children=[col.values])
    batches[1] = victim.set_column(idx, victim.schema.field(idx), bad)
    with pytest.raises(ChunkError, match=r"/plots/sine.*corrupt.*offset"):
        Chunk.from_table(pa.Table.from_batches(batches), keyed[0][1])


def test_no_key_no_run() -> None:
    assert run_key(None, b"chunk_1") is None
    assert run_key(b"abc", None) is None
    assert run_key(b"x chunk_1 y chunk_1", b"chunk_1") is None  # ambiguous
    assert run_key(b"x chunk_1 y", b"chunk_1") == b"x  y"


def test_times_read_from_a_column_count_once(mixed_rrd) -> None:
    keyed = _keyed(mixed_rrd, "/plots/pair")
    chunk = Chunk.from_record_batch(keyed[0][0], schema_key=keyed[0][1])
    batch_bytes = chunk.to_record_batch().get_total_buffer_size()
    beyond = {name: tc.nbytes_beyond_column for name, tc in chunk.timelines.items()}
    for name, tc in chunk.timelines.items():
        if tc.is_sorted:  # a view of the Arrow column: nothing beyond it
            assert beyond[name] == 0, name
        else:  # its sort order and the times in that order
            assert beyond[name] == tc.order.nbytes + tc.sorted_times.nbytes, name
    # built without its private buffer, the chunk also keeps a native copy of its row ids
    assert chunk.nbytes == batch_bytes + chunk.row_ids.nbytes + sum(beyond.values())
