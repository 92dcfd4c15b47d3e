"""One path from a wire message to a `Chunk`, shared by ingestion workers and `inspect`."""

from __future__ import annotations

import pyarrow as pa

from viewer.log.arrow import decode_arrow_payload_owned
from viewer.log.messages import ArrowMsg
from viewer.store.chunk import Chunk


def chunk_from_msg(msg: ArrowMsg, out: pa.Buffer | None = None) -> Chunk:
    """Decompress, IPC-decode and build (sort, index) the chunk of ``msg``.

    Raises `ArrowDecodeError` or `ChunkError` (both ValueError) for bad data. The schema
    key lets chunks of one entity share their parsed schema (docs/benchmarks/chunk-cost.md).
    ``out``: a buffer from `viewer.log.arrow.prepare_output(msg)` to decompress into.
    The decompressed buffer is private to the chunk, so its row ids are made native in place
    (no copy).
    """
    batch, schema_key, owned = decode_arrow_payload_owned(msg, out)
    chunk_id = msg.chunk_id.to_bytes() if msg.chunk_id is not None else None
    return Chunk.from_record_batch(batch, is_static=msg.is_static, chunk_id=chunk_id,
                                   schema_key=schema_key, owned_buffer=owned)
