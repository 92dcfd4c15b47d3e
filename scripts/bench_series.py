"""Cost of the plot series cache while a series grows chunk by chunk (live/streaming case).

    .venv/bin/python scripts/bench_series.py
"""
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import numpy as np
import pyarrow as pa

from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator, chunk_batch
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath

ids = TuidGenerator(1)
db = EntityDb(StoreId(StoreKind.RECORDING, "r", "a"))
e = EntityPath.parse("/s")
rows = 500
times = []
for i in range(2000):
    f = np.arange(i*rows, (i+1)*rows, dtype=np.int64)
    vals = pa.ListArray.from_arrays(pa.array(np.arange(rows+1, dtype=np.int32)), pa.array(np.sin(f*0.01)))
    b = chunk_batch("/s", ids.next(), ids.row_id_array(rows), [("frame", pa.array(f))], [("Scalars","scalars","Scalar", vals)])
    db.add_chunk(Chunk.from_record_batch(b))
    t0 = time.perf_counter(); db.scalar_series(e, "Scalars:scalars", "frame"); times.append(time.perf_counter()-t0)
t = np.array(times)*1000
print(f"1M rows, query after each 500-row chunk: mean {t.mean():.3f} ms, last-100 mean {t[-100:].mean():.3f} ms, max {t.max():.2f} ms, total {t.sum():.0f} ms")
