"""`ChunkMerger` on its own (no queues, no threads): which runs it joins and what it emits."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from viewer.ingest.items import ItemKind
from viewer.ingest.merger import ChunkMerger
from viewer.log.sorbet import TuidGenerator, chunk_batch
from viewer.store.chunk import Chunk

_IDS = TuidGenerator(start_ns=1_000)


class _Src:
    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list = []


def _chunk(entity: str, frames: list[int]) -> Chunk:
    n = len(frames)
    values = pa.array([[float(f)] for f in frames], type=pa.list_(pa.float64()))
    batch = chunk_batch(entity, _IDS.next(), _IDS.row_id_array(n),
                        [("frame", pa.array(frames, pa.int64()))],
                        [("Scalars", "scalars", "Scalar", values)])
    return Chunk.from_record_batch(batch)


def _frames(item) -> list[int]:
    return item.payload.timelines["frame"].times.tolist()


def test_merger_joins_a_run_of_one_entity_and_keeps_the_first_read_time():
    src = _Src("a")
    m = ChunkMerger(max_rows=100, max_bytes=1 << 20)
    assert m.add(_chunk("/e", [1, 2]), 10.0, src) == []
    assert m.add(_chunk("/e", [3]), 11.0, src) == []
    (item,) = m.flush()
    assert item.kind is ItemKind.CHUNK and item.n_msgs == 2
    assert _frames(item) == [1, 2, 3] and item.t_read == 10.0 and item.source is src
    assert m.merged_chunks == 2 and m.flush() == []


def test_merger_ends_a_run_at_another_entity_or_source():
    a, b = _Src("a"), _Src("b")
    m = ChunkMerger(max_rows=100, max_bytes=1 << 20)
    assert m.add(_chunk("/e", [1]), 1.0, a) == []
    out = m.add(_chunk("/f", [2]), 2.0, a)  # another entity: the single /e chunk goes out
    assert [(it.n_msgs, _frames(it)) for it in out] == [(1, [1])]
    out = m.add(_chunk("/f", [3]), 3.0, b)  # same entity, another source
    assert [(it.n_msgs, _frames(it), it.source) for it in out] == [(1, [2], a)]
    assert [(it.n_msgs, _frames(it), it.source) for it in m.flush()] == [(1, [3], b)]
    assert m.merged_chunks == 0


def test_merger_flushes_at_the_row_bound_and_passes_big_chunks_alone_in_order():
    src = _Src("a")
    m = ChunkMerger(max_rows=4, max_bytes=1 << 20)
    assert m.add(_chunk("/e", [1, 2]), 1.0, src) == []
    out = m.add(_chunk("/e", [3, 4]), 2.0, src)  # reaches 4 rows: flushed at once
    assert [(it.n_msgs, _frames(it)) for it in out] == [(2, [1, 2, 3, 4])]
    assert m.add(_chunk("/e", [5]), 3.0, src) == []
    big = _chunk("/e", list(range(6, 12)))  # 6 rows >= max_rows: never merged
    out = m.add(big, 4.0, src)
    assert [(it.n_msgs, _frames(it)) for it in out] == [(1, [5]), (1, list(range(6, 12)))]
    assert out[1].payload is big


def test_merger_with_zero_rows_merges_nothing():
    m = ChunkMerger(max_rows=0, max_bytes=1 << 20)
    c = _chunk("/e", [1])
    out = m.add(c, 1.0, None)
    assert len(out) == 1 and out[0].payload is c and m.flush() == []


def test_merger_falls_back_to_the_parts_when_a_concat_fails(monkeypatch):
    src = _Src("a")
    m = ChunkMerger(max_rows=100, max_bytes=1 << 20)
    parts = [_chunk("/e", [1]), _chunk("/e", [2])]
    for c in parts:
        m.add(c, 1.0, src)

    def broken(chunks):
        raise ValueError("no")

    monkeypatch.setattr(Chunk, "concat", broken)
    out = m.flush()
    assert [it.payload for it in out] == parts and all(it.n_msgs == 1 for it in out)
    assert np.all([it.kind is ItemKind.CHUNK for it in out]) and m.merged_chunks == 0
