"""`JoinedStream`: one Arrow IPC stream assembled from a run of one-batch streams, in a
buffer that is reused from run to run.

A run of small chunks of one entity is read as one table (one `open_stream` instead of one
per message, ~15 µs each) and combined into one chunk. Joining the streams with
``b"".join`` wrote every byte once more into fresh memory, and decompressing each message
into a buffer of its own did the same: on these machines the first write to a fresh page
costs more than the copy itself (docs/benchmarks/vs-rerun.md, notes). Here every part is
copied into one buffer that stays mapped and cache-warm: the first part whole (schema
message and batch), the next ones without their schema message, and the end marker last.
Once the run's table has been combined into new buffers (`Chunk.from_table`), the caller
hands the buffer back with `release`, which reuses it unless some array still points into
it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from viewer.log.protobuf import as_byte_view

__all__ = ["EOS", "JoinedStream", "StreamFramingError", "schema_frame_end"]

#: The IPC end-of-stream marker (continuation marker, zero length).
EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def schema_frame_end(data: pa.Buffer | memoryview) -> int | None:
    """Where the schema message (marker, length, flatbuffer) of a stream ends, or None when
    the stream does not start with a continuation-framed schema message."""
    view = as_byte_view(data)
    if len(view) < 8:
        return None
    head = int.from_bytes(view[:8], "little")
    if head & 0xFFFFFFFF != 0xFFFFFFFF:
        return None
    size = head >> 32
    if size <= 0 or size % 8 or 8 + size > len(view):
        return None
    return 8 + size


class StreamFramingError(ValueError):
    """A part that is not framed as schema message + batch message + end marker."""


class JoinedStream:
    """Collects the parts of one run; `read` gives its table. Not thread-safe: one per
    decoding worker."""

    def __init__(self) -> None:
        self._buf: pa.Buffer | None = None
        self._view: memoryview | None = None
        self._used = 0
        self.parts = 0
        self.part_bytes = 0  # the parts' own sizes (schema messages and end markers included)

    def add(self, data: pa.Buffer | memoryview) -> None:
        """Append one part, a complete one-batch IPC stream (`StreamFramingError` if it is
        not framed as expected; then nothing was appended)."""
        view = as_byte_view(data)
        framing = schema_frame_end(view)
        if framing is None or len(view) < framing + 8:
            raise StreamFramingError("IPC stream without the expected schema framing")
        if view[-8:] != EOS:
            raise StreamFramingError("IPC stream without an end-of-stream marker")
        body = view[:-8] if self.parts == 0 else view[framing:-8]
        end = self._used + len(body)
        self._reserve(end + len(EOS))
        self._view[self._used:end] = body  # type: ignore[index]
        self._used = end
        self.parts += 1
        self.part_bytes += len(view)

    def read(self) -> pa.Table:
        """The run's batches as one table (all with the first part's schema, ``rerun:id``
        included: the caller has checked that the schemas agree otherwise). The table's
        buffers point into this stream's buffer: combine them before `release`.
        `pa.ArrowInvalid` when the joined stream is not one batch per part."""
        if self.parts == 0:
            raise StreamFramingError("an empty run")
        end = self._used + len(EOS)
        self._view[self._used:end] = EOS  # type: ignore[index]
        table = pa.ipc.open_stream(self._buf.slice(0, end)).read_all()  # type: ignore[union-attr]
        found = table.column(0).num_chunks if table.num_columns else 0
        if found != self.parts:
            raise pa.ArrowInvalid(f"{found} batches in a run of {self.parts} streams")
        return table

    def single(self) -> pa.Buffer:
        """The one part of a one-part run as a stream of its own, in a new buffer (the
        chunk built from it keeps it; this stream's buffer is reused)."""
        if self.parts != 1:
            raise StreamFramingError(f"a run of {self.parts} parts is not a single stream")
        end = self._used
        fresh = pa.allocate_buffer(end + len(EOS))
        view = as_byte_view(fresh)
        view[:end] = self._view[:end]  # type: ignore[index]
        view[end:] = EOS
        return fresh

    def release(self, kept: Iterable[pa.Array]) -> None:
        """Start a new run. The buffer is reused unless an array of ``kept`` (what the run's
        chunk holds) still points into it; then the next run gets a new buffer."""
        self._used = 0
        self.parts = 0
        self.part_bytes = 0
        buf = self._buf
        if buf is None:
            return
        lo, hi = buf.address, buf.address + buf.size
        for array in kept:
            for b in array.buffers():
                if b is not None and b.size and lo < b.address + b.size and b.address < hi:
                    self._buf = self._view = None
                    return

    def _reserve(self, need: int) -> None:
        buf = self._buf
        if buf is not None and buf.size >= need:
            return
        size = max(need, 2 * buf.size if buf is not None else 1 << 16)
        fresh = pa.allocate_buffer(size)
        view = as_byte_view(fresh)
        if buf is not None and self._used:
            view[:self._used] = self._view[:self._used]  # type: ignore[index]
        self._buf, self._view = fresh, view
