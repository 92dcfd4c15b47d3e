"""One path from a wire message to a `Chunk`, shared by ingestion workers and `inspect`."""

from __future__ import annotations

from viewer.log.arrow import decode_arrow_payload_keyed
from viewer.log.messages import ArrowMsg
from viewer.store.chunk import Chunk


def chunk_from_msg(msg: ArrowMsg) -> Chunk:
    """Decompress, IPC-decode and build (sort, index) the chunk of ``msg``.

    Raises `ArrowDecodeError` or `ChunkError` (both ValueError) for bad data. The schema
    key lets chunks of one entity share their parsed schema (docs/benchmarks/chunk-cost.md).
    """
    batch, schema_key = decode_arrow_payload_keyed(msg)
    chunk_id = msg.chunk_id.to_bytes() if msg.chunk_id is not None else None
    return Chunk.from_record_batch(batch, is_static=msg.is_static, chunk_id=chunk_id,
                                   schema_key=schema_key)
