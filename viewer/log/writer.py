"""Write `.rrd` files that rerun-sdk's own reader (and ours) read back identically.

Layout: the 12-byte stream header, one framed message per `write`, and on `close` (when
``footer=True``) an End message whose body is the footer index (a manifest per store listing
its chunks) followed by the stream footer with the End body's xxHash32.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from viewer.log.arrow import chunk_id_from_schema, decode_arrow_payload, is_static_batch
from viewer.log.footer import ChunkEntry, chunk_entry, encode_footer_index
from viewer.log.framing import (
    COMPRESSION_LZ4,
    FOOTER_COUNT,
    FOOTER_ENTRY,
    FOOTER_MAGIC,
    MAGIC,
    MESSAGE_HEADER,
    SERIALIZER_PROTOBUF,
)
from viewer.log.messages import ArrowMsg, LogMsg, MsgKind, StoreId
from viewer.log.protobuf import encode_log_msg
from viewer.log.xxhash32 import FOOTER_SEED, xxh32

__all__ = ["RrdWriter", "stream_header"]



def stream_header(version: tuple[int, int, int, int] = (0, 41, 0, 0)) -> bytes:
    """The 12-byte stream header: magic, version, compression (LZ4), serializer (protobuf)."""
    return MAGIC + bytes(version) + bytes((COMPRESSION_LZ4, SERIALIZER_PROTOBUF, 0, 0))


class RrdWriter:
    """Frame messages into an `.rrd` stream, to a path or an open binary file.

    With ``footer=True`` every ArrowMsg is decoded once on `write` (to learn its entity,
    rows and index ranges for the footer index, which rerun-sdk's reader relies on to list
    chunks); a chunk that cannot be decoded then raises `ArrowDecodeError` and nothing of it
    is written. With ``footer=False`` writing is pure framing (rerun-sdk reads such files
    too, with a warning, by scanning them). A file given as an object is left open.
    """

    def __init__(
        self,
        path_or_file: str | os.PathLike[str] | BinaryIO,
        *,
        footer: bool = True,
        version: tuple[int, int, int, int] = (0, 41, 0, 0),
    ) -> None:
        if isinstance(path_or_file, str | os.PathLike):
            self._file: BinaryIO = open(path_or_file, "wb")  # noqa: SIM115 - closed in close()
            self._owns_file = True
        else:
            self._file = path_or_file
            self._owns_file = False
        self._footer = footer
        self._closed = False
        self._chunks: dict[StoreId, list[ChunkEntry]] = {}
        header = stream_header(version)
        self._file.write(header)
        self._pos = len(header)  # offsets in the footer are relative to the stream start

    def write(self, msg: LogMsg) -> None:
        """Append one message (SetStoreInfo, ArrowMsg or BlueprintActivationCommand)."""
        if self._closed:
            raise ValueError("write to a closed RrdWriter")
        kind, body = encode_log_msg(msg)
        if self._footer and isinstance(msg, ArrowMsg):
            self._remember_chunk(msg, self._pos + MESSAGE_HEADER.size, len(body))
        self._write_framed(kind, body)

    def _write_framed(self, kind: MsgKind, body: bytes) -> None:
        self._file.write(MESSAGE_HEADER.pack(int(kind), len(body)))
        self._file.write(body)
        self._pos += MESSAGE_HEADER.size + len(body)

    def _remember_chunk(self, msg: ArrowMsg, offset: int, size: int) -> None:
        batch = decode_arrow_payload(msg)
        tuid = msg.chunk_id if msg.chunk_id is not None else chunk_id_from_schema(batch.schema)
        is_static = msg.is_static if msg.is_static is not None else is_static_batch(batch.schema)
        entry = chunk_entry(
            batch,
            chunk_id=tuid.to_bytes() if tuid is not None else bytes(16),
            is_static=is_static,
            byte_offset=offset,
            byte_size=size,
            byte_size_uncompressed=msg.uncompressed_size,
        )
        self._chunks.setdefault(msg.store_id, []).append(entry)

    def close(self) -> None:
        """Write the footer (if enabled), flush, and close a file this writer opened."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._footer:
                body = encode_footer_index(self._chunks)
                start = self._pos + MESSAGE_HEADER.size
                self._write_framed(MsgKind.END, body)
                self._file.write(FOOTER_ENTRY.pack(start, len(body), xxh32(body, FOOTER_SEED)))
                self._file.write(FOOTER_MAGIC + FOOTER_COUNT.pack(1))
            self._file.flush()
        finally:
            if self._owns_file:
                self._file.close()

    def __enter__(self) -> RrdWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

