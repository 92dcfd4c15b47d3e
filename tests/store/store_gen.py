"""Generated chunks for memory-limit tests: several entities, components logged in subsets,
two timelines (one sometimes missing), unsorted times, null cells and a few static chunks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from viewer.log.messages import Tuid
from viewer.store.chunk import ROW_ID_COLUMN, Chunk

TIMELINES = ("frame", "time")
COMPONENTS = ("Scalars:scalars", "Points:colors", "Label:text")


def make_chunk(
    index: int,
    entity: str,
    times: dict[str, list[int]],
    cells: dict[str, list[list[float] | None]],
    *,
    static: bool = False,
) -> Chunk:
    """One chunk with row ids (index, row) so that later chunks have greater row ids."""
    n = len(next(iter(cells.values())))
    fields = [pa.field(ROW_ID_COLUMN, pa.binary(16), metadata={"rerun:kind": "control"})]
    arrays: list[pa.Array] = [pa.array([Tuid(index, r).to_bytes() for r in range(n)],
                                       type=pa.binary(16))]
    for tl, values in times.items():
        fields.append(pa.field(tl, pa.int64(),
                               metadata={"rerun:kind": "index", "rerun:index_name": tl}))
        arrays.append(pa.array(values, type=pa.int64()))
    for comp, values in cells.items():
        fields.append(pa.field(comp, pa.list_(pa.float64()), metadata={"rerun:kind": "data"}))
        arrays.append(pa.array(values, type=pa.list_(pa.float64())))
    meta = {"rerun:entity_path": entity, "rerun:id": "chunk_" + str(Tuid(index, 1 << 40))}
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    return Chunk.from_record_batch(batch, is_static=static)


def generated_chunks(seed: int, n_chunks: int = 60, n_entities: int = 4,
                     first_index: int = 1) -> list[Chunk]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_chunks):
        index = first_index + k
        entity = f"/gen/e{int(rng.integers(n_entities))}"
        n = int(rng.integers(1, 9))
        comps = [c for c in COMPONENTS if rng.random() < 0.6] or [COMPONENTS[0]]
        cells = {}
        for comp in comps:
            col: list[list[float] | None] = []
            for _ in range(n):
                if rng.random() < 0.2:
                    col.append(None)
                else:
                    col.append([float(v) for v in rng.normal(size=int(rng.integers(0, 3)))])
            cells[comp] = col
        static = rng.random() < 0.05
        times: dict[str, list[int]] = {}
        if not static:
            tls = [tl for tl in TIMELINES if rng.random() < 0.75] or ["frame"]
            base = k * 3  # time grows with arrival, with jitter (unsorted inside chunks)
            for tl in tls:
                times[tl] = [int(base + rng.integers(-10, 10)) for _ in range(n)]
        out.append(make_chunk(index, entity, times, cells, static=static))
    return out
