"""Cost of the plot series cache while a series grows chunk by chunk (the streaming case).

    .venv/bin/python scripts/bench_series.py [--chunks 2000] [--rows 500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewer.log.messages import StoreId, StoreKind  # noqa: E402
from viewer.log.sorbet import TuidGenerator, chunk_batch  # noqa: E402
from viewer.store.chunk import Chunk  # noqa: E402
from viewer.store.entity_db import EntityDb  # noqa: E402
from viewer.store.entity_path import EntityPath  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    ids = TuidGenerator(1)
    db = EntityDb(StoreId(StoreKind.RECORDING, "bench", "bench"))
    entity = EntityPath.parse("/s")
    offsets = pa.array(np.arange(args.rows + 1, dtype=np.int32))
    costs = []
    for i in range(args.chunks):
        frames = np.arange(i * args.rows, (i + 1) * args.rows, dtype=np.int64)
        values = pa.ListArray.from_arrays(offsets, pa.array(np.sin(frames * 0.01)))
        batch = chunk_batch("/s", ids.next(), ids.row_id_array(args.rows),
                            [("frame", pa.array(frames))],
                            [("Scalars", "scalars", "Scalar", values)])
        db.add_chunk(Chunk.from_record_batch(batch))
        t0 = time.perf_counter()
        db.scalar_series(entity, "Scalars:scalars", "frame")
        costs.append(time.perf_counter() - t0)
    ms = np.array(costs) * 1000.0
    print(f"{args.chunks * args.rows:,} rows, query after each {args.rows}-row chunk: "
          f"mean {ms.mean():.3f} ms, last 100 mean {ms[-100:].mean():.3f} ms, "
          f"max {ms.max():.2f} ms, total {ms.sum():.0f} ms")


if __name__ == "__main__":
    main()
