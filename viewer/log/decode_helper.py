"""The decode helper: a child process that reads an `.rrd` file, decompresses its small LZ4
payloads and joins runs of them into one record batch each (`helper_runs`), written into a
ring of shared memory, so the viewer's own process only copies them on and wraps them.

Why a process: a file of many small chunks keeps one decoding thread busy, and everything
but LZ4 itself runs under the GIL, so a second thread in the same process does not help.
On 40 000 500-row chunks (696 MB) the load took 5.2 s in-process and 2.8 s with this
helper on the other core (docs/benchmarks/vs-rerun.md, notes).

What crosses the process boundary (``python -m viewer.log.decode_helper RING_FD CTL_FD``,
started by `viewer.log.helper_launch`, frames on standard output):

- the job, first on the control pipe: a 4-byte little-endian length, then a pickled
  ``(path, max_bytes, max_rows)`` (the file and the viewer's run caps; the helper imports
  what it needs before it waits for it);
- the ring: a shared memory file (``RING_FD``); the helper writes each run's combined
  stream, or a payload left alone decompressed, into it, one after the other, wrapping
  around;
- frames on standard output: a 4-byte little-endian length, then a pickled
  ``(bytes_read, low, records)``; records are tuples (`RING`, `JOINED`, `FILE`, `MESSAGE`,
  `ERROR`, `DONE` below), in file order of their (first) message; every message before
  offset ``low`` is in this frame or an earlier one (later ones may be too: runs hold
  messages back while other entities' messages go on);
- the control pipe (``CTL_FD``, parent -> helper): 8-byte little-endian totals, how many
  ring bytes (counted from the start) the parent no longer uses. The helper waits on it
  when the ring is full, after flushing what it has.

Payloads the ring does not take (big ones, uncompressed ones over the ring's limit, and any
the helper cannot decompress) travel as their place in the file: the parent reads them
itself and decodes them as if it had read the file, so errors come out the same way and
in the same place.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from viewer.log.arrow import liblz4, plausible_lz4_size
from viewer.log.helper_runs import HelperRuns, Part, run_key_of
from viewer.log.messages import ArrowMsg, Compression
from viewer.log.protobuf import as_byte_view
from viewer.log.reader import RrdReader

__all__ = ["DONE", "ERROR", "FILE", "FRAME_HEADER", "JOINED", "MESSAGE", "RING", "RING_MAX_PAYLOAD",
           "ring_max_payload", "TAIL", "main", "private_bytes", "read_frames", "serve"]

#: Payloads (decompressed) the ring takes; bigger ones go by their place in the file. A
#: quarter of the ring at most (`ring_max_payload`), so a waiting helper always gets room
#: once the parent let go of everything (see `_Ring.reserve`).
RING_MAX_PAYLOAD = 1 << 20
#: Record kinds (the first item of each record tuple).
RING = 0  # (RING, offset, msg fields..., ring end total, length): decompressed, in the ring
FILE = 1  # (FILE, offset, msg fields..., compression, file position, length): read it
MESSAGE = 2  # (MESSAGE, offset, msg): not an ArrowMsg, pickled whole
JOINED = 5  # (JOINED, [offsets], head's msg fields..., ring end total, length): a run,
#            combined into one single-batch stream (`helper_runs`)
ERROR = 3  # (ERROR, ReadError)
DONE = 4  # (DONE, private bytes): the whole file was read; the helper's own memory
FRAME_HEADER = struct.Struct("<I")
TAIL = struct.Struct("<Q")

_FLUSH_RECORDS = 64
_FLUSH_RING_BYTES = 4 << 20  # (or an eighth of a smaller ring)
# The helper's own file pages are handed back this far behind its read position: it never
# reads a byte twice.
_RELEASE_BEHIND = 2 << 20


def ring_max_payload(ring_bytes: int) -> int:
    return min(RING_MAX_PAYLOAD, ring_bytes // 4)


class _Ring:
    """The helper's side of the ring: where the next payload goes, waiting for the parent
    to hand space back when it is full."""

    def __init__(self, ring: mmap.mmap, ctl_fd: int) -> None:
        self.size = len(ring)
        self.view = memoryview(ring)
        self.head = 0  # bytes handed out so far, padding at the wrap included
        self.tail = 0  # bytes the parent gave back so far
        self._ctl = ctl_fd
        self._partial = b""

    def reserve(self, n: int, before_wait: Any) -> tuple[int, int] | None:
        """(ring position, end total) for ``n`` bytes; waits for the parent while the ring
        is full (calling ``before_wait`` first, so the parent has what it must finish).
        None when the parent is gone."""
        pos = self.head % self.size
        pad = self.size - pos if pos + n > self.size else 0
        need = pad + n
        while self.size - (self.head - self.tail) < need:
            before_wait()
            if not self._read_tail():
                return None
        self.head += need
        return (0 if pad else pos), self.head

    def _read_tail(self) -> bool:
        data = os.read(self._ctl, 4096)
        if not data:
            return False
        data = self._partial + data
        whole = len(data) - len(data) % TAIL.size
        if whole:
            self.tail = TAIL.unpack_from(data, whole - TAIL.size)[0]
        self._partial = data[whole:]
        return True


def _fields(msg: ArrowMsg) -> tuple:
    return (msg.store_id, msg.uncompressed_size, msg.encoding, msg.chunk_id, msg.is_static)


class _Server:
    """One job: read the file, group and decompress, write frames."""

    def __init__(self, path: str, ring: mmap.mmap, ctl_fd: int, out: Any,
                 max_bytes: int, max_rows: int) -> None:
        self.lz4 = liblz4()
        self.ring = _Ring(ring, ctl_fd)
        self.most = ring_max_payload(self.ring.size)
        self.flush_bytes = min(_FLUSH_RING_BYTES, self.ring.size // 8)
        self.reader = RrdReader(path, release_behind=_RELEASE_BEHIND)
        self.runs = HelperRuns(max_bytes, max_rows)
        self.out = out
        self.records: list[tuple] = []
        self.errors_sent = 0
        self.pending_ring = 0
        self._scratch: pa.Buffer | None = None

    def take_errors(self) -> None:
        errors = self.reader.errors
        while self.errors_sent < len(errors):  # in their place among the messages
            self.records.append((ERROR, errors[self.errors_sent]))
            self.errors_sent += 1

    def flush(self) -> None:
        self.take_errors()
        if self.records:
            held = self.runs.open_offsets
            low = min(held) if held else self.reader.bytes_read
            data = pickle.dumps((self.reader.bytes_read, low, self.records),
                                pickle.HIGHEST_PROTOCOL)
            self.out.write(FRAME_HEADER.pack(len(data)))
            self.out.write(data)
            self.out.flush()
            self.records.clear()
        self.pending_ring = 0

    def serve(self) -> int:
        reader = self.reader
        runs = self.runs
        for offset, msg in reader.entries():
            if self.errors_sent < len(reader.errors):
                self.take_errors()
            if not isinstance(msg, ArrowMsg):
                self.emit(runs.flush())
                self.records.append((MESSAGE, offset, msg))
                self.flush()
                continue
            part = Part(offset, msg)
            data = self.decompress(msg)
            if data is None:
                self.emit(runs.single(part, None))
            else:
                key = run_key_of(data, msg) if runs.takes(data.size) else None
                self.emit(runs.add(part, data, key) if key is not None
                          else runs.single(part, data))
            if len(self.records) >= _FLUSH_RECORDS or self.pending_ring >= self.flush_bytes:
                self.flush()
        self.emit(runs.flush())
        self.take_errors()
        self.records.append((DONE, private_bytes()))
        self.flush()
        reader.close()
        return 0

    def decompress(self, msg: ArrowMsg) -> pa.Buffer | None:
        """The message's IPC stream when the ring takes it (into a reused scratch buffer for
        LZ4: valid until the next call), else None: it stays in the file for the parent."""
        view = memoryview(msg.payload)
        n = len(view)
        if msg.compression == Compression.NONE:
            return pa.py_buffer(view) if n <= self.most else None
        size = msg.uncompressed_size
        if (msg.compression != Compression.LZ4 or self.lz4 is None or size > self.most
                or not plausible_lz4_size(size, n)):
            return None
        scratch = self._scratch
        if scratch is None:
            scratch = self._scratch = pa.allocate_buffer(self.most)
        got = self.lz4(pa.py_buffer(view).address if n else 0, scratch.address, n, size)
        return scratch.slice(0, size) if got == size else None

    def emit(self, outs: list) -> None:
        for kind, what, data in outs:
            if kind == "one":
                if data is None or not self.to_ring(
                        RING, what.offset, what.msg, data.size,
                        lambda view, data=data: _copy_into(view, data)):
                    self.in_file(what)
            elif data is None or not self.to_ring(
                    JOINED, [p.offset for p in what], what[0].msg, _stream_size(data),
                    lambda view, batch=data: _write_stream(view, batch)):
                for part in what:
                    self.in_file(part)

    def to_ring(self, kind: int, offset: Any, msg: ArrowMsg, size: int,
                write: Callable[[memoryview], None]) -> bool:
        """Reserve ``size`` bytes of the ring (False: more than it takes), let ``write``
        fill them, and record them for the parent."""
        if size > self.most:
            return False
        place = self.ring.reserve(size, self.flush)
        if place is None:
            raise BrokenPipeError("the viewer went away")
        pos, end = place
        write(self.ring.view[pos:pos + size])
        self.records.append((kind, offset, *_fields(msg), end, size))
        self.pending_ring += size
        return True

    def in_file(self, part: Part) -> None:
        msg = part.msg
        view = memoryview(msg.payload)
        self.records.append((FILE, part.offset, *_fields(msg), msg.compression,
                             self.reader.position_of(view), len(view)))


def _copy_into(view: memoryview, data: pa.Buffer) -> None:
    view[:] = as_byte_view(data)


def _stream_size(batch: pa.RecordBatch) -> int:
    """Bytes of ``batch`` written as a one-batch IPC stream (`_write_stream`)."""
    mock = pa.MockOutputStream()
    _write_to(mock, batch)
    return mock.size()


def _write_stream(view: memoryview, batch: pa.RecordBatch) -> None:
    """``batch`` as a one-batch IPC stream straight into ``view`` (exactly its size)."""
    _write_to(pa.FixedSizeBufferWriter(pa.py_buffer(view)), batch)


def _write_to(sink: Any, batch: pa.RecordBatch) -> None:
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)


def serve(path: str, ring: mmap.mmap, ctl_fd: int, out: Any, max_bytes: int = 0,
          max_rows: int = 0) -> int:
    """Read ``path`` into frames on ``out``; 0 when done, 1 when the parent went away.
    ``max_bytes`` / ``max_rows``: the viewer's run caps (0 bytes: no runs)."""
    try:
        return _Server(path, ring, ctl_fd, out, max_bytes, max_rows).serve()
    except BrokenPipeError:
        return 1


def read_frames(stream: Any) -> Iterator[tuple[int, int, list[tuple]]]:
    """The parent's side: ``(bytes_read, low, records)`` per frame until the helper closes
    its output (a cut frame ends it too: the helper died)."""
    while True:
        head = stream.read(FRAME_HEADER.size)
        if len(head) < FRAME_HEADER.size:
            return
        (length,) = FRAME_HEADER.unpack(head)
        data = stream.read(length)
        if len(data) < length:
            return
        yield pickle.loads(data)


def private_bytes() -> int:
    """This process's private memory (its shared ring and libraries are counted by the
    parent, which maps the same pages); 0 where /proc does not tell."""
    total = 0
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return total


def _read_job(ctl_fd: int) -> tuple[str, int, int] | None:
    """What the parent sends first (None: it closed the pipe, nothing to do)."""
    head = _read_exactly(ctl_fd, 4)
    if head is None:
        return None
    raw = _read_exactly(ctl_fd, int.from_bytes(head, "little"))
    return None if raw is None else pickle.loads(raw)


def _read_exactly(fd: int, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        part = os.read(fd, n - len(data))
        if not part:
            return None
        data += part
    return data


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m viewer.log.decode_helper RING_FD CTL_FD", file=sys.stderr)
        return 2
    ring_fd, ctl_fd = int(args[0]), int(args[1])
    ring = mmap.mmap(ring_fd, 0)
    job = _read_job(ctl_fd)
    if job is None:
        return 0
    path, max_bytes, max_rows = job
    out = os.fdopen(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)
    return serve(path, ring, ctl_fd, out, max_bytes, max_rows)


if __name__ == "__main__":
    sys.exit(main())
