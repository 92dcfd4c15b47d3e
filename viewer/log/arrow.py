"""ArrowMsg payload <-> one Arrow record batch (a Rerun chunk).

A payload is an Arrow IPC stream with one schema and one batch, optionally compressed as a
raw LZ4 block. pyarrow does both steps, zero-copy where it can.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import sys
from typing import Any

import pyarrow as pa

from viewer.log.joined_stream import JoinedStream, StreamFramingError
from viewer.log.libc import madvise as libc_madvise
from viewer.log.messages import ArrowMsg, Compression, StoreId, Tuid
from viewer.log.protobuf import as_byte_view
from viewer.log.sorbet import CHUNK_ID_KEY, ENTITY_PATH_KEY, KIND_KEY, parse_chunk_id

__all__ = [
    "MAX_UNCOMPRESSED_SIZE",
    "PREPARE_MIN_BYTES",
    "ArrowDecodeError",
    "DecodeScratch",
    "chunk_id_from_schema",
    "decode_arrow_payload",
    "decode_arrow_payload_keyed",
    "decode_arrow_payload_owned",
    "decompress_payload",
    "encode_record_batch",
    "is_big_lz4",
    "liblz4",
    "plausible_lz4_size",
    "is_static_batch",
    "prepare_output",
    "read_joined_table",
    "read_single_batch",
    "schema_message",
    "stream_entity_path",
]

# An LZ4 block expands at most ~255x; anything claiming more is corrupt and must be rejected
# before a buffer of that size is allocated. The absolute cap keeps one bad message from
# taking the machine's memory.
_LZ4_MAX_RATIO = 255
MAX_UNCOMPRESSED_SIZE = 4 << 30

_LZ4 = pa.Codec("lz4_raw")

# Big LZ4 payloads (point clouds, images) can be decompressed into a buffer that another
# thread has already faulted in (`prepare_output`). Fresh memory costs a page fault per 4 KiB
# on first write (~80 000 faults, ~0.1-0.15 s of kernel time for a 320 MB file) and
# pyarrow's decompress pays them on the decoding thread. `madvise(MADV_POPULATE_WRITE)`
# pays them in one syscall on the source thread, which is otherwise idle while the decoder
# works; through ctypes the GIL is released meanwhile (`mmap(MAP_POPULATE)` would hold it).
# Measured in docs/benchmarks/vs-rerun.md (notes). Needs Linux >= 5.14 and the system's
# liblz4; otherwise pyarrow decompresses as before.
PREPARE_MIN_BYTES = 1 << 20
_INT_MAX = (1 << 31) - 1
_MADV_POPULATE_WRITE = 23
_native: Any = None  # (LZ4_decompress_safe, madvise) loaded on first use; False if unavailable
_populate_ok = True  # False once MADV_POPULATE_WRITE failed (old kernel): stop preparing


def _native_calls() -> Any:
    global _native
    if _native is None:
        _native = False
        lz4 = liblz4()
        madvise = libc_madvise()
        if lz4 is not None and madvise is not None:
            _native = (lz4, madvise)
    return _native


_liblz4: Any = False  # False: not loaded yet


def liblz4() -> Any:
    """liblz4's ``LZ4_decompress_safe(src, dst, src_size, dst_capacity)`` through ctypes
    (the GIL released around each call), loaded once; None off Linux or without liblz4."""
    global _liblz4
    if _liblz4 is False:
        _liblz4 = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL("liblz4.so.1").LZ4_decompress_safe
            except (OSError, AttributeError):
                return None
            fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
            fn.restype = ctypes.c_int
            _liblz4 = fn
    return _liblz4


def plausible_lz4_size(size: int, n: int) -> bool:
    """Whether an LZ4 block of ``n`` bytes can expand to ``size`` (at most ~255x, and never
    more than `MAX_UNCOMPRESSED_SIZE`): anything else is refused before allocating."""
    return 0 < size <= min(MAX_UNCOMPRESSED_SIZE, _LZ4_MAX_RATIO * n + 64)


def is_big_lz4(msg: ArrowMsg) -> bool:
    """An LZ4 payload of at least `PREPARE_MIN_BYTES` decompressed: worth faulting its
    output in (or decompressing it) on another thread than the decoder's."""
    return msg.compression == Compression.LZ4 and msg.uncompressed_size >= PREPARE_MIN_BYTES


def prepare_output(msg: ArrowMsg) -> pa.Buffer | None:
    """A faulted-in buffer to decompress ``msg`` into (`decode_arrow_payload_keyed(out=)`),
    or None when not worth it: not LZ4, smaller than `PREPARE_MIN_BYTES`, an impossible
    size (left to the decoder to report), or no liblz4 / MADV_POPULATE_WRITE. Call it on a
    thread that would otherwise wait (a source thread); count the bytes as queued memory."""
    global _populate_ok
    if not is_big_lz4(msg) or not _populate_ok:
        return None
    size = msg.uncompressed_size
    if size > _INT_MAX or not plausible_lz4_size(size, msg.payload_size):
        return None
    calls = _native_calls()
    if not calls:
        return None
    try:
        buf = pa.py_buffer(mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))
    except (OSError, ValueError, OverflowError):
        return None
    if calls[1](buf.address, size, _MADV_POPULATE_WRITE) != 0:
        # Kernel < 5.14 (EINVAL): stop trying. The decoder keeps its liblz4 handle: buffers
        # prepared before still decode. Out of memory: just not this time.
        if ctypes.get_errno() != errno.ENOMEM:
            _populate_ok = False
        return None
    return buf


class ArrowDecodeError(ValueError):
    """A payload that is not a valid (compressed) one-batch Arrow IPC stream."""


def decode_arrow_payload(msg: ArrowMsg) -> pa.RecordBatch:
    """Decompress and decode the chunk in ``msg``; raises `ArrowDecodeError` on bad data."""
    return _decode(msg, False)[0]


def decode_arrow_payload_keyed(
    msg: ArrowMsg, out: pa.Buffer | None = None
) -> tuple[pa.RecordBatch, bytes | None]:
    """`decode_arrow_payload` plus the bytes of the stream's schema message (None if the
    stream is not framed as expected). Chunks of one entity have the same schema message
    apart from their ``rerun:id``: `Chunk.from_record_batch(schema_key=...)` uses it to do
    the schema work once per entity instead of once per chunk. ``out``: a buffer from
    `prepare_output(msg)` to decompress into (the batch then lives in it)."""
    batch, key, _ = _decode(msg, True, out)
    return batch, key


def decode_arrow_payload_owned(
    msg: ArrowMsg, out: pa.Buffer | None = None
) -> tuple[pa.RecordBatch, bytes | None, pa.Buffer | None]:
    """`decode_arrow_payload_keyed` plus the buffer the batch lives in when that buffer is
    private to this call (decompressed here, never shared; None for an uncompressed payload,
    which is a read-only view of the file). Its owner may modify it in place
    (`Chunk.from_record_batch(owned_buffer=...)`)."""
    return _decode(msg, True, out)


def schema_message(data: pa.Buffer) -> bytes | None:
    """The flatbuffer of the first IPC message (the schema), ~1 µs."""
    view = memoryview(data)
    if len(view) < 8:
        return None
    head = int.from_bytes(view[:8], "little")
    if head & 0xFFFFFFFF == 0xFFFFFFFF:  # continuation marker (Arrow >= 0.15)
        start, size = 8, head >> 32
    else:  # legacy framing: the length alone
        start, size = 4, head & 0xFFFFFFFF
    if size <= 0 or start + size > len(view):
        return None
    return view[start : start + size].tobytes()


def stream_entity_path(data: pa.Buffer) -> bytes | None:
    """The ``rerun:entity_path`` of an IPC stream's schema (None: unreadable or absent)."""
    try:
        meta = pa.ipc.read_schema(pa.BufferReader(data)).metadata or {}
    except (pa.ArrowException, ValueError):
        return None
    return meta.get(ENTITY_PATH_KEY)


def _lz4_into(view: memoryview, out: pa.Buffer) -> pa.Buffer:
    """Decompress the raw LZ4 block ``view`` into ``out``, which must be filled exactly
    (LZ4_decompress_safe never writes past ``out``, whatever the input)."""
    src = pa.py_buffer(view)
    got = _native[0](src.address, out.address, src.size, out.size)
    if got != out.size:
        what = "corrupt block" if got < 0 else f"{got} bytes, expected {out.size}"
        raise ArrowDecodeError(f"LZ4 decompression failed: {what}")
    return out


def _decode(msg: ArrowMsg, want_key: bool, out: pa.Buffer | None = None
            ) -> tuple[pa.RecordBatch, bytes | None, pa.Buffer | None]:
    data, owned = decompress_payload(msg, out)
    batch = read_single_batch(data)
    return batch, (schema_message(data) if want_key else None), owned


def decompress_payload(msg: ArrowMsg, out: pa.Buffer | None = None
                       ) -> tuple[pa.Buffer, pa.Buffer | None]:
    """The Arrow IPC stream inside ``msg``, and the same buffer again when it is private to
    this call (decompressed here, or a `ArrowMsg.private` payload; None for an uncompressed
    payload, a view of the file).
    ``out``: a buffer from `prepare_output(msg)`. Raises `ArrowDecodeError`."""
    view = as_byte_view(msg.payload)
    n = len(view)
    if msg.compression == Compression.LZ4:
        size = msg.uncompressed_size
        if size <= 0:
            raise ArrowDecodeError("LZ4 payload with uncompressed_size 0")
        if not plausible_lz4_size(size, n):
            raise ArrowDecodeError(
                f"uncompressed_size {size} is impossible for a {n}-byte LZ4 payload"
            )
        if out is not None and out.size == size and n <= _INT_MAX and _native:
            data = _lz4_into(view, out)
        else:
            try:
                data = _LZ4.decompress(pa.py_buffer(view), decompressed_size=size)
            except (pa.ArrowException, OSError, ValueError) as exc:
                # worded as `_lz4_into` words it: which path decoded a message must not
                # change what the user reads
                what = "corrupt block" if "corrupt" in str(exc).lower() else str(exc)
                raise ArrowDecodeError(f"LZ4 decompression failed: {what}") from None
        return data, data
    if msg.compression in (Compression.NONE, Compression.UNSPECIFIED):
        data = pa.py_buffer(view)
        return data, (data if msg.private else None)
    raise ArrowDecodeError(f"unknown compression {msg.compression}")  # pragma: no cover


def read_single_batch(data: pa.Buffer) -> pa.RecordBatch:
    """The one record batch of an IPC stream; `ArrowDecodeError` unless there is exactly one."""
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


def read_joined_table(streams: list[pa.Buffer]) -> pa.Table:
    """The batches of several one-batch IPC streams with the same schema, read as one
    table (one record batch per stream), through a `JoinedStream` of their own.

    All batches get the first stream's schema, ``rerun:id`` included: the caller must have
    checked that the schemas agree otherwise. `ArrowDecodeError` if a stream is not framed
    as schema message + batch message + end marker, or the joined stream does not hold one
    batch per input; then read them one by one to learn which one is bad.
    """
    joined = JoinedStream()
    try:
        for data in streams:
            joined.add(data)
        return joined.read()
    except StreamFramingError as exc:
        raise ArrowDecodeError(str(exc)) from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ArrowDecodeError(f"invalid Arrow IPC stream in a run: {exc}") from None


class DecodeScratch:
    """One reused buffer to decompress small LZ4 payloads into, for a decoder that copies
    them on at once (into a `JoinedStream`): a fresh buffer per message would cost its page
    faults on every run (docs/benchmarks/vs-rerun.md, notes). What it returns is valid
    until its next use. ``max_bytes``: larger payloads are not its business (None)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buf: pa.Buffer | None = None

    def output_for(self, msg: ArrowMsg) -> pa.Buffer | None:
        """A buffer of exactly ``msg``'s uncompressed size for `decompress_payload(out=)`,
        or None (not LZ4, larger than ``max_bytes``, no liblz4)."""
        size = msg.uncompressed_size
        if msg.compression != Compression.LZ4 or not 0 < size <= self.max_bytes:
            return None
        if not _native_calls():
            return None
        buf = self._buf
        if buf is None or buf.size < size:
            buf = self._buf = pa.allocate_buffer(max(size, 1 << 16))
        return buf.slice(0, size)


def chunk_id_from_schema(schema: pa.Schema) -> Tuid | None:
    """The chunk id from the ``rerun:id`` schema metadata (``chunk_<32 hex digits>``)."""
    raw = parse_chunk_id((schema.metadata or {}).get(CHUNK_ID_KEY))
    return Tuid.from_bytes(raw) if raw is not None else None


def is_static_batch(schema: pa.Schema) -> bool:
    """A chunk is static when none of its columns is an index (timeline) column."""
    for fld in schema:
        meta = fld.metadata
        if meta is not None and meta.get(KIND_KEY) == b"index":
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
