"""The decode helper: a child process that reads an `.rrd` file and decompresses its small
LZ4 payloads into a ring of shared memory, so the viewer's own process only copies them on.

Why a process: a file of many small chunks keeps one decoding thread busy, and everything
but LZ4 itself runs under the GIL, so a second thread in the same process does not help
(docs/benchmarks/vs-rerun.md, notes). Reading, parsing and LZ4 take ~1.3-1.7 s of the
~5 s load of 40 000 500-row chunks; here they run on the other core.

What crosses the process boundary (``python -m viewer.log.decode_helper RING_FD CTL_FD``,
started by `viewer.log.helper_launch`, frames on standard output):

- the job: the file's path, first on the control pipe (the helper imports what it needs
  before it waits for it);
- the ring: a shared memory file (``RING_FD``); the helper writes each small payload's
  decompressed IPC stream into it, one after the other, wrapping around;
- frames on standard output: a 4-byte little-endian length, then a pickled
  ``(bytes_read, records)``; records are tuples (`RING`, `FILE`, `MESSAGE`, `ERROR`, `DONE`
  below), in file order;
- the control pipe (``CTL_FD``, parent -> helper): 8-byte little-endian totals, how many
  ring bytes (counted from the start) the parent no longer uses. The helper waits on it
  when the ring is full, after flushing what it has.

Payloads the ring does not take (big ones, uncompressed ones over the ring's limit, and any
the helper cannot decompress) travel as their place in the file: the parent reads them
itself and decodes them as if it had read the file, so errors come out the same way and
in the same place.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import pickle
import struct
import sys
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from viewer.log.messages import ArrowMsg, Compression
from viewer.log.reader import RrdReader

__all__ = ["DONE", "ERROR", "FILE", "FRAME_HEADER", "MESSAGE", "RING", "RING_MAX_PAYLOAD",
           "ring_max_payload", "TAIL", "lz4_available", "main", "private_bytes", "read_frames", "serve"]

#: Payloads (decompressed) the ring takes; bigger ones go by their place in the file. A
#: quarter of the ring at most (`ring_max_payload`), so a waiting helper always gets room
#: once the parent let go of everything (see `_Ring.reserve`).
RING_MAX_PAYLOAD = 1 << 20
#: Record kinds (the first item of each record tuple).
RING = 0  # (RING, offset, msg fields..., ring end total, length): decompressed, in the ring
FILE = 1  # (FILE, offset, msg fields..., compression, file position, length): read it
MESSAGE = 2  # (MESSAGE, offset, msg): not an ArrowMsg, pickled whole
ERROR = 3  # (ERROR, ReadError)
DONE = 4  # (DONE, private bytes): the whole file was read; the helper's own memory
FRAME_HEADER = struct.Struct("<I")
TAIL = struct.Struct("<Q")

_FLUSH_RECORDS = 64
_FLUSH_RING_BYTES = 4 << 20  # (or an eighth of a smaller ring)
# The helper's own file pages are handed back this far behind its read position: it never
# reads a byte twice.
_RELEASE_BEHIND = 2 << 20
_LZ4_MAX_RATIO = 255


def _lz4() -> Any:
    """liblz4's LZ4_decompress_safe (ctypes releases the GIL around it), or None."""
    try:
        fn = ctypes.CDLL("liblz4.so.1").LZ4_decompress_safe
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
    fn.restype = ctypes.c_int
    return fn


def ring_max_payload(ring_bytes: int) -> int:
    return min(RING_MAX_PAYLOAD, ring_bytes // 4)


def lz4_available() -> bool:
    return _lz4() is not None


class _Ring:
    """The helper's side of the ring: where the next payload goes, waiting for the parent
    to hand space back when it is full."""

    def __init__(self, ring: mmap.mmap, ctl_fd: int) -> None:
        self.size = len(ring)
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(ring))
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


def serve(path: str, ring: mmap.mmap, ctl_fd: int, out: Any) -> int:
    """Read ``path`` into frames on ``out``; 0 when done, 1 when the parent went away."""
    lz4 = _lz4()
    shared = _Ring(ring, ctl_fd)
    most = ring_max_payload(shared.size)
    flush_bytes = min(_FLUSH_RING_BYTES, shared.size // 8)
    reader = RrdReader(path, release_behind=_RELEASE_BEHIND)
    records: list[tuple] = []
    errors_sent = 0
    pending_ring = 0

    def take_errors() -> None:
        nonlocal errors_sent
        while errors_sent < len(reader.errors):  # in their place among the messages
            records.append((ERROR, reader.errors[errors_sent]))
            errors_sent += 1

    def flush() -> None:
        nonlocal pending_ring
        take_errors()
        if records:
            data = pickle.dumps((reader.bytes_read, records), pickle.HIGHEST_PROTOCOL)
            out.write(FRAME_HEADER.pack(len(data)))
            out.write(data)
            out.flush()
            records.clear()
        pending_ring = 0

    for offset, msg in reader.entries():
        if errors_sent < len(reader.errors):
            take_errors()
        if not isinstance(msg, ArrowMsg):
            flush()
            records.append((MESSAGE, offset, msg))
            flush()
            continue
        view = memoryview(msg.payload)
        n = len(view)
        src = pa.py_buffer(view).address if n else 0
        where = reader.position_of(view)
        size = msg.uncompressed_size
        if msg.compression == Compression.LZ4:
            fits = (lz4 is not None and 0 < size <= most
                    and size <= _LZ4_MAX_RATIO * n + 64)
        else:
            fits = msg.compression == Compression.NONE and n <= most
            size = n
        if fits:
            place = shared.reserve(size, flush)
            if place is None:
                return 1
            pos, end = place
            dst = shared.address + pos
            if msg.compression == Compression.LZ4:
                got = lz4(src, dst, n, size)
            else:
                ctypes.memmove(dst, src, n)
                got = n
            if got == size:
                records.append((RING, offset, *_fields(msg), end, size))
                pending_ring += size
            else:  # the parent decodes it and reports what is wrong, in its place
                records.append((FILE, offset, *_fields(msg), msg.compression, where, n))
        else:
            records.append((FILE, offset, *_fields(msg), msg.compression, where, n))
        if len(records) >= _FLUSH_RECORDS or pending_ring >= flush_bytes:
            flush()
    take_errors()
    records.append((DONE, private_bytes()))
    flush()
    reader.close()
    return 0


def read_frames(stream: Any) -> Iterator[tuple[int, list[tuple]]]:
    """The parent's side: ``(bytes_read, records)`` per frame until the helper closes its
    output (a cut frame ends it too: the helper died)."""
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


def _read_job(ctl_fd: int) -> str | None:
    """The path the parent sends first (None: it closed the pipe, nothing to do)."""
    head = _read_exactly(ctl_fd, 4)
    if head is None:
        return None
    raw = _read_exactly(ctl_fd, int.from_bytes(head, "little"))
    return None if raw is None else os.fsdecode(raw)


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
    path = _read_job(ctl_fd)
    if path is None:
        return 0
    out = os.fdopen(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False)
    try:
        return serve(path, ring, ctl_fd, out)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
