"""A generated recording several times larger than a small memory limit, for the
memory-limit tests and ``scripts/soak.py``-style measurements.

Written with our own writer (`RrdWriter` + `encode_record_batch`): entities ``/big/cloud<i>``
carry 400-value float32 point lists (incompressible, so the file size is the data size),
``/big/scalar`` one float64 per row, ``/big/label`` appears only in the very first chunk
(its latest value is therefore in the oldest chunk), and ``/big/config`` is static. Entities
are interleaved so the worker rarely merges chunks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from viewer.log.arrow import encode_record_batch
from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, StoreKind, Tuid
from viewer.log.writer import RrdWriter
from viewer.store.chunk import ROW_ID_COLUMN

STORE = StoreId(StoreKind.RECORDING, "memory-big", "memory_tests")
ROWS_PER_CHUNK = 50
VALUES_PER_ROW = 400
CLOUDS = 3


def _batch(entity: str, index: int, frames: np.ndarray, columns: dict[str, pa.Array],
           static: bool = False) -> pa.RecordBatch:
    n = len(frames) if not static else len(next(iter(columns.values())))
    rids = [Tuid(index, r).to_bytes() for r in range(n)]
    fields = [pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"})]
    arrays: list[pa.Array] = [pa.array(rids, type=pa.binary(16))]
    if not static:
        fields.append(pa.field("frame", pa.int64(),
                               metadata={"rerun:kind": "index", "rerun:index_name": "frame"}))
        arrays.append(pa.array(frames, type=pa.int64()))
        times = (1_700_000_000_000_000_000 + frames * 1_000_000).astype("datetime64[ns]")
        fields.append(pa.field("time", pa.timestamp("ns"),
                               metadata={"rerun:kind": "index", "rerun:index_name": "time"}))
        arrays.append(pa.array(times, type=pa.timestamp("ns")))
    for name, arr in columns.items():
        fields.append(pa.field(name, arr.type, metadata={"rerun:kind": "data"}))
        arrays.append(arr)
    meta = {"rerun:entity_path": entity, "rerun:id": "chunk_" + str(Tuid(index, 1 << 40))}
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))


def write_big_file(path: Path, target_bytes: int, *, seed: int = 1, compress: bool = True
                   ) -> Path:
    """Write about ``target_bytes`` of chunks to ``path``."""
    rng = np.random.default_rng(seed)
    index = 1
    with RrdWriter(path, footer=False) as w:
        w.write(SetStoreInfo(StoreInfo(STORE)))
        label = pa.array([["first and only label"]], type=pa.list_(pa.string()))
        w.write(encode_record_batch(_batch("/big/label", index, np.array([0]),
                                           {"Text:text": label}), STORE, compress=compress))
        index += 1
        config = pa.array([[1.0, 2.0, 3.0]], type=pa.list_(pa.float64()))
        w.write(encode_record_batch(_batch("/big/config", index, np.array([]),
                                           {"Config:values": config}, static=True),
                                    STORE, compress=compress))
        index += 1
        written = 0
        frame = 0
        while written < target_bytes:
            frames = np.arange(frame, frame + ROWS_PER_CHUNK, dtype=np.int64)
            for c in range(CLOUDS):
                flat = rng.standard_normal(ROWS_PER_CHUNK * VALUES_PER_ROW).astype(np.float32)
                offsets = np.arange(0, len(flat) + 1, VALUES_PER_ROW, dtype=np.int32)
                points = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
                msg = encode_record_batch(_batch(f"/big/cloud{c}", index, frames,
                                                 {"Points:positions": points}),
                                          STORE, compress=compress)
                w.write(msg)
                written += msg.payload_size
                index += 1
            scalars = pa.array([[float(np.sin(f / 50))] for f in frames],
                               type=pa.list_(pa.float64()))
            w.write(encode_record_batch(_batch("/big/scalar", index, frames,
                                               {"Scalars:scalars": scalars}),
                                        STORE, compress=compress))
            index += 1
            frame += ROWS_PER_CHUNK
    return path
