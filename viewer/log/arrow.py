"""ArrowMsg payload <-> one Arrow record batch (a Rerun chunk).

A payload is an Arrow IPC stream with one schema and one batch, optionally compressed as a
raw LZ4 block. pyarrow does both steps, zero-copy where it can.
"""

from __future__ import annotations

import pyarrow as pa

from viewer.log.messages import ArrowMsg, Compression, StoreId, Tuid
from viewer.log.protobuf import as_byte_view

__all__ = [
    "MAX_UNCOMPRESSED_SIZE",
    "ArrowDecodeError",
    "chunk_id_from_schema",
    "decode_arrow_payload",
    "encode_record_batch",
    "is_static_batch",
]

# An LZ4 block expands at most ~255x; anything claiming more is corrupt and must be rejected
# before a buffer of that size is allocated. The absolute cap keeps one bad message from
# taking the machine's memory.
_LZ4_MAX_RATIO = 255
MAX_UNCOMPRESSED_SIZE = 4 << 30

_LZ4 = pa.Codec("lz4_raw")


class ArrowDecodeError(ValueError):
    """A payload that is not a valid (compressed) one-batch Arrow IPC stream."""


def decode_arrow_payload(msg: ArrowMsg) -> pa.RecordBatch:
    """Decompress and decode the chunk in ``msg``; raises `ArrowDecodeError` on bad data."""
    view = as_byte_view(msg.payload)
    n = len(view)
    if msg.compression == Compression.LZ4:
        size = msg.uncompressed_size
        if size <= 0:
            raise ArrowDecodeError("LZ4 payload with uncompressed_size 0")
        if size > _LZ4_MAX_RATIO * n + 64 or size > MAX_UNCOMPRESSED_SIZE:
            raise ArrowDecodeError(
                f"uncompressed_size {size} is impossible for a {n}-byte LZ4 payload"
            )
        try:
            data = _LZ4.decompress(pa.py_buffer(view), decompressed_size=size)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise ArrowDecodeError(f"LZ4 decompression failed: {exc}") from None
    elif msg.compression in (Compression.NONE, Compression.UNSPECIFIED):
        data = pa.py_buffer(view)
    else:  # pragma: no cover - Compression is a closed enum
        raise ArrowDecodeError(f"unknown compression {msg.compression}")
    try:
        reader = pa.ipc.open_stream(data)
        batch = reader.read_next_batch()
    except StopIteration:
        raise ArrowDecodeError("Arrow IPC stream holds no record batch") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ArrowDecodeError(f"invalid Arrow IPC stream: {exc}") from None
    try:
        reader.read_next_batch()
    except StopIteration:
        return batch
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ArrowDecodeError(f"invalid Arrow IPC stream after the batch: {exc}") from None
    raise ArrowDecodeError("Arrow IPC stream holds more than one record batch")


def chunk_id_from_schema(schema: pa.Schema) -> Tuid | None:
    """The chunk id from the ``rerun:id`` schema metadata (``chunk_<32 hex digits>``)."""
    meta = schema.metadata or {}
    raw = meta.get(b"rerun:id")
    if raw is None:
        return None
    text = raw.decode("ascii", "replace").removeprefix("chunk_")
    if len(text) != 32:
        return None
    try:
        return Tuid(int(text[:16], 16), int(text[16:], 16))
    except ValueError:
        return None


def is_static_batch(schema: pa.Schema) -> bool:
    """A chunk is static when none of its columns is an index (timeline) column."""
    for fld in schema:
        meta = fld.metadata
        if meta is not None and meta.get(b"rerun:kind") == b"index":
            return False
    return True


def encode_record_batch(
    batch: pa.RecordBatch,
    store_id: StoreId,
    *,
    compress: bool = True,
    chunk_id: Tuid | None = None,
    is_static: bool | None = None,
) -> ArrowMsg:
    """Wrap one chunk as the ArrowMsg rerun-sdk would send (IPC stream, LZ4 raw block)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    ipc = sink.getvalue()
    if compress:
        payload = _LZ4.compress(ipc)
        compression = Compression.LZ4
    else:
        payload = ipc
        compression = Compression.NONE
    if chunk_id is None:
        chunk_id = chunk_id_from_schema(batch.schema)
    if is_static is None:
        is_static = is_static_batch(batch.schema)
    return ArrowMsg(
        store_id=store_id,
        compression=compression,
        uncompressed_size=ipc.size,
        payload=as_byte_view(payload),
        encoding=1,
        chunk_id=chunk_id,
        is_static=is_static,
    )
