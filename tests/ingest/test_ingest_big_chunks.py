"""Big LZ4 chunks go through the prepared-buffer path (faulted in on the source thread)
and give the same store as a direct read; the prepared bytes count as queued bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from ingest_helpers import latest_at_everything

import viewer.ingest.state as state_module
from viewer.log import arrow
from viewer.log.arrow import PREPARE_MIN_BYTES, decode_arrow_payload, encode_record_batch
from viewer.log.messages import ArrowMsg, SetStoreInfo, StoreId, StoreInfo, StoreKind, Tuid
from viewer.log.reader import read_rrd
from viewer.log.writer import RrdWriter
from viewer.store.chunk import ROW_ID_COLUMN, Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.summary import summarize

STORE = StoreId(StoreKind.RECORDING, "big-chunks", "ingest_tests")
POINTS = PREPARE_MIN_BYTES // 12 + 1000  # xyz float32: a bit over the threshold per cloud


def _cloud(i: int, rng: np.random.Generator) -> pa.RecordBatch:
    flat = pa.array(rng.standard_normal(POINTS * 3).astype(np.float32))
    positions = pa.FixedSizeListArray.from_arrays(flat, 3)
    cloud = pa.ListArray.from_arrays(pa.array([0, POINTS], type=pa.int32()), positions)
    fields = [pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"}),
              pa.field("frame", pa.int64(),
                       metadata={"rerun:kind": "index", "rerun:index_name": "frame"}),
              pa.field("Points3D:positions", cloud.type, metadata={"rerun:kind": "data"})]
    meta = {"rerun:entity_path": "/cloud", "rerun:id": "chunk_" + str(Tuid(i, 1 << 40))}
    arrays = [pa.array([Tuid(i, 7).to_bytes()], type=pa.binary(16)),
              pa.array([i], type=pa.int64()), cloud]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def _write(path, clouds: int) -> None:
    rng = np.random.default_rng(5)
    with RrdWriter(path, footer=False) as w:
        w.write(SetStoreInfo(StoreInfo(STORE)))
        for i in range(1, clouds + 1):
            w.write(encode_record_batch(_cloud(i, rng), STORE))


def _direct(path) -> EntityDb:
    msgs, errors = read_rrd(path)
    assert not errors
    db = EntityDb(STORE)
    for m in msgs:
        if isinstance(m, ArrowMsg):
            db.add_chunk(Chunk.from_record_batch(decode_arrow_payload(m), is_static=m.is_static))
    return db


@pytest.mark.skipif(not arrow._native_calls(), reason="no liblz4 / MADV_POPULATE_WRITE here")
def test_big_chunks_use_prepared_buffers_and_match_a_direct_read(make_hub, tmp_path,
                                                                 monkeypatch):
    path = tmp_path / "clouds.rrd"
    _write(path, clouds=6)
    prepared: list[int] = []

    def counting(msg):
        out = arrow.prepare_output(msg)
        if out is not None:
            prepared.append(out.size)
        return out

    monkeypatch.setattr(state_module, "prepare_output", counting)
    hub = make_hub("threaded")
    src = hub.open_file(path)
    assert hub.run_until_idle(30)
    assert not src.errors and not hub.errors()
    assert len(prepared) == 6 and min(prepared) >= PREPARE_MIN_BYTES
    worker = hub.state.workers[0]
    assert worker.inbox.peak_bytes >= min(prepared)  # counted while queued
    db = hub.db(STORE)
    reference = _direct(path)
    assert summarize([db]) == summarize([reference])
    assert latest_at_everything(db) == latest_at_everything(reference)
