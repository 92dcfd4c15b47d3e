"""Read `.rrd` files: framing, stream headers/footers, damage recovery.

The file is memory-mapped and every ArrowMsg payload is a zero-copy slice of the map, so a
multi-GB recording costs page cache, not heap. Mapped pages a process has touched count in
its RSS until unmapped, so pages more than ``release_behind`` bytes behind the read position
are handed back with ``madvise(MADV_DONTNEED)`` (Linux): payload slices stay valid, a later
access just faults the page in again from the page cache. This keeps RSS bounded while a
file much larger than the memory limit is read. Bad data never raises out of `messages()`:
each problem becomes a `ReadError` and reading goes on with whatever is still intact:

- a body that fails to decode is skipped (its framing is intact, the next message follows);
- a header whose length runs past the end (a cut tail, or a damaged length) and any garbage
  where a header was expected make the reader scan forward for the next plausible message
  or stream header, and report how many bytes it skipped;
- concatenated streams (``cat a.rrd b.rrd``), End messages with stream footers, and files
  without a footer are all normal.
"""

from __future__ import annotations

import mmap
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from viewer.log.framing import (
    FOOTER_COUNT,
    FOOTER_ENTRY,
    FOOTER_ENTRY_SIZE,
    FOOTER_MAGIC,
    MAGIC,
    MESSAGE_HEADER,
    MESSAGE_HEADER_SIZE,
    SERIALIZER_PROTOBUF,
    STREAM_HEADER_SIZE,
)
from viewer.log.inputs import STDIN
from viewer.log.libc import madvise as libc_madvise
from viewer.log.messages import LogMsg
from viewer.log.protobuf import ProtobufError, as_byte_view, decode_log_msg_span
from viewer.log.xxhash32 import FOOTER_SEED, xxh32

__all__ = ["ReadError", "RrdReader", "read_rrd"]

_KIND_NAMES = {1: "SetStoreInfo", 2: "ArrowMsg", 3: "BlueprintActivationCommand"}
_MAX_FOOTER_ENTRIES = 64
_MAX_CHECKSUM_BYTES = 256 * 1024  # pure-Python xxh32 is ~2 µs per 16 bytes: verify small footers only
_SCAN_WINDOW = 4 << 20
# every real body holds at least a StoreId (kind, recording id, application id): >= 10 bytes;
# requiring 8 keeps runs of small integers in uncompressed payloads from looking like headers
_MIN_BODY = 8
#: Default distance behind the read position from which mapped pages are released. A consumer
#: (the ingest queues) may still be decoding payloads this far behind; releasing those only
#: costs a re-read from the page cache.
DEFAULT_RELEASE_BEHIND = 32 << 20
_RELEASE_STEP = 1 << 20  # release in steps of at least this many bytes (one syscall each)


def _make_page_releaser() -> Any:
    """``release(address, length)`` dropping file-backed pages from this process, or None."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if not sys.platform.startswith("linux") or advice is None:
        return None  # elsewhere DONTNEED semantics differ; pages then stay until close()
    madvise = libc_madvise()
    if madvise is None:
        return None

    def release(address: int, length: int) -> None:
        madvise(address, length, advice)  # advisory: a failure only leaves pages resident

    return release


_release_pages = _make_page_releaser()


@dataclass(frozen=True, slots=True)
class ReadError:
    """One problem found while reading: where (source, byte offset) and what."""

    source: str
    offset: int
    message: str

    def __str__(self) -> str:
        return f"{self.source} @ {self.offset}: {self.message}"


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


class RrdReader:
    """Iterate the messages of an `.rrd` file (or bytes) in file order.

    ``bytes_read`` advances as messages are produced (for progress bars); ``errors`` collects
    every problem met so far. ``verify_footer`` checks the xxHash32 of End bodies up to 256 KiB
    (off by default: the footer index is not needed to read the messages, and pure-Python
    hashing costs ~1 ms per 16 KiB).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        verify_footer: bool = False,
        release_behind: int | None = DEFAULT_RELEASE_BEHIND,
    ) -> None:
        self.source = str(path)
        self.verify_footer = verify_footer
        #: Release mapped pages this many bytes behind the read position (None: never).
        self.release_behind = release_behind
        self._map: pa.MemoryMappedFile | None = None
        self._map_address: int | None = None  # only our own file map is ever released
        self._released = 0
        self._view = memoryview(b"")
        self._base_address = 0
        self.errors: list[ReadError] = []
        self.bytes_read = 0
        self._stream_start = 0
        if self.source == STDIN:
            # Standard input cannot be mapped: read it whole, then parse like a file.
            try:
                data = sys.stdin.buffer.read()
            except (OSError, ValueError, AttributeError) as exc:
                self.errors.append(ReadError(self.source, 0, f"cannot read standard input: {exc}"))
                data = b""
            self.source = "standard input"
            self._view = memoryview(data)
            self._base_address = pa.py_buffer(data).address
            self._open_errors = list(self.errors)
            self.total_bytes = len(self._view)
            return
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                kind = _file_kind(st.st_mode)
                hint = "" if stat.S_ISDIR(st.st_mode) else "; pipe it to standard input as '-'"
                raise OSError(f"not a regular file ({kind}){hint}")
            size = st.st_size
            if size > 0:
                self._map = pa.memory_map(self.source, "r")
                whole = self._map.read_buffer()
                self._view = as_byte_view(whole)
                self._map_address = whole.address
                self._base_address = whole.address
        except OSError as exc:
            self.errors.append(ReadError(self.source, 0, f"cannot open: {exc}"))
        self._open_errors = list(self.errors)
        self.total_bytes = len(self._view)

    @classmethod
    def from_bytes(
        cls, data: Any, source: str = "<bytes>", *, verify_footer: bool = False
    ) -> RrdReader:
        """A reader over an in-memory buffer (bytes, memoryview, pyarrow Buffer); no copy."""
        self = cls.__new__(cls)
        self.source = source
        self.verify_footer = verify_footer
        self._map = None
        self._map_address = None  # caller's memory: never released
        self._released = 0
        self.release_behind = None
        self._view = as_byte_view(data)
        self._base_address = pa.py_buffer(self._view).address
        self.errors = []
        self._open_errors = []
        self.bytes_read = 0
        self._stream_start = 0
        self.total_bytes = len(self._view)
        return self

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Release the map. Payload slices already handed out stay valid (they hold it)."""
        self._view = memoryview(b"")
        self._map_address = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self) -> RrdReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def position_of(self, payload: Any) -> int:
        """Where ``payload``, a non-empty slice this reader handed out, starts in the input
        (0 for an empty one)."""
        view = as_byte_view(payload)
        return pa.py_buffer(view).address - self._base_address if len(view) else 0

    # ------------------------------------------------------------------ reading

    def messages(self) -> Iterator[LogMsg]:
        """Every decodable message, in file order. Never raises for bad data."""
        for _offset, msg in self.entries():
            yield msg

    def entries(self) -> Iterator[tuple[int, LogMsg]]:
        """Like `messages`, with the file offset of each message's 16-byte header.

        Each pass starts ``errors`` afresh, so reading a file twice does not report twice.
        """
        self.errors[:] = self._open_errors
        buf = self._view
        n = len(buf)
        pos = 0
        unpack = MESSAGE_HEADER.unpack_from
        decode = decode_log_msg_span
        self._stream_start = 0
        self._good = 0  # end of the last message or header known to be intact
        self._released = 0
        releasing = self._map_address is not None and _release_pages is not None
        if n == 0 and not self.errors:
            self._error(0, "empty file: not a Rerun .rrd file")
        while pos < n:
            if n - pos < MESSAGE_HEADER_SIZE:
                pos = self._at_odd_header(pos, n)
                if pos < 0:
                    break
                continue
            kind, length = unpack(buf, pos)
            if kind > 3:
                pos = self._at_odd_header(pos, n)
                if pos < 0:
                    break
                continue
            body = pos + MESSAGE_HEADER_SIZE
            if length > n - body:
                self._error(
                    pos,
                    f"message at offset {pos} claims {length} bytes but only {n - body} remain",
                )
                pos = self._resync(pos, pos + 1, n)
                if pos < 0:
                    break
                continue
            end = body + length
            if kind == 0:
                after = self._skip_footer(body, end)
                if length == 0 and after == end and n - end >= MESSAGE_HEADER_SIZE:
                    after = self._skip_zero_run(pos, n)
                pos = after
                self.bytes_read = self._good = pos
                continue
            try:
                msg = decode(kind, buf, body, end)
            except ProtobufError as exc:
                self._error(pos, f"skipped a {_KIND_NAMES[kind]} that cannot be decoded: {exc}")
            else:
                self.bytes_read = self._good = end
                yield pos, msg
            pos = end
            behind = self.release_behind
            if releasing and behind is not None and pos - behind - self._released >= _RELEASE_STEP:
                self._release_before(pos - behind)
        self.bytes_read = n

    # ------------------------------------------------------------------ helpers

    def _release_before(self, offset: int) -> None:
        """Drop this process's pages of the map below ``offset`` (page-aligned down)."""
        address = self._map_address
        if address is None or _release_pages is None:
            return
        stop = ((address + offset) // mmap.PAGESIZE) * mmap.PAGESIZE - address
        if stop > self._released:
            _release_pages(address + self._released, stop - self._released)
            self._released = stop

    def _error(self, offset: int, message: str) -> None:
        self.errors.append(ReadError(self.source, offset, message))

    def _at_odd_header(self, pos: int, n: int) -> int:
        """Handle what sits where a message header was expected but is not one.

        Returns the offset to continue from (just past a stream header), or -1 to stop.
        """
        head = bytes(self._view[pos : pos + STREAM_HEADER_SIZE])
        magic = head[:4]
        if magic == MAGIC and head[4:8] == FOOTER_MAGIC[4:]:
            # a stream footer without its End message: nothing to read in it
            return pos + STREAM_HEADER_SIZE if n - pos >= STREAM_HEADER_SIZE else -1
        if magic == MAGIC:
            if len(head) < STREAM_HEADER_SIZE:
                self._error(pos, f"truncated stream header at offset {pos} ({len(head)} bytes)")
                return -1
            serializer = head[9]
            if serializer == SERIALIZER_PROTOBUF:
                self._stream_start = pos
                self._good = pos + STREAM_HEADER_SIZE
                return self._good
            self._error(
                pos,
                f"unsupported serializer {serializer} in the stream header at offset {pos} "
                "(only 2 = protobuf is supported)",
            )
            return self._resync(pos, pos + 4, n)
        if magic in (b"RRF0", b"RRF1"):
            self._error(
                pos,
                f"legacy {magic.decode()} .rrd format (written by an old rerun-sdk) is not "
                "supported; only RRF2 (protobuf) files can be read",
            )
            return self._resync(pos, pos + 4, n)
        if pos == 0:
            self._error(0, f"not a Rerun .rrd file (starts with {head[:8]!r})")
            return -1
        if n - pos < MESSAGE_HEADER_SIZE:
            self._error(pos, f"file ends with {n - pos} stray bytes at offset {pos} (cut off?)")
            return -1
        self._error(pos, f"garbage at offset {pos} where a message header was expected")
        return self._resync(pos, pos + 1, n)

    def _skip_footer(self, body: int, end: int) -> int:
        """Skip an End body and the stream footer after it; check the footer if cheap."""
        window = bytes(self._view[end : end + FOOTER_ENTRY_SIZE * _MAX_FOOTER_ENTRIES + 12])
        at = window.find(FOOTER_MAGIC)
        if at < 0 or at % FOOTER_ENTRY_SIZE or len(window) < at + 12:
            return end  # an End without a stream footer
        (count,) = FOOTER_COUNT.unpack_from(window, at + 8)
        if count * FOOTER_ENTRY_SIZE != at:
            return end
        if count == 1:
            start, length, checksum = FOOTER_ENTRY.unpack_from(window, 0)
            if start != body - self._stream_start or length != end - body:
                self._error(end, "stream footer does not point at its End message")
            elif self.verify_footer and length <= _MAX_CHECKSUM_BYTES:
                actual = xxh32(self._view[body:end], FOOTER_SEED)
                if actual != checksum:
                    self._error(
                        end, f"stream footer checksum mismatch ({actual:08x} != {checksum:08x})"
                    )
        return end + at + 12

    def _skip_zero_run(self, pos: int, n: int) -> int:
        """Skip a run of zero bytes (a zero-filled tail after a crash reads as End messages).

        Returns the first non-zero offset (a header's kind byte is never zero) or ``n``.
        """
        buf = self._view
        scan = pos
        while scan < n:
            stop = min(n, scan + _SCAN_WINDOW)
            nonzero = np.flatnonzero(np.frombuffer(buf[scan:stop], dtype=np.uint8))
            if len(nonzero):
                stop = scan + int(nonzero[0])
                break
            scan = stop
        if stop - pos > MESSAGE_HEADER_SIZE:
            self._error(pos, f"skipped {stop - pos} zero bytes at offset {pos}")
        return stop

    def _resync(self, origin: int, start: int, n: int) -> int:
        """Find the next plausible stream header or message at or after ``start``.

        ``origin`` is where the damage was seen. Scanning starts right after the last intact
        boundary if that is earlier: a body that failed to decode may have had a damaged
        length, so the real next message can start before where its framing pointed.

        Candidates are found with numpy (no Python loop over bytes) and confirmed by decoding
        the message body and checking that the following header is plausible too.
        Returns the offset to continue from, or -1 when nothing follows.
        """
        buf = self._view
        if self._good < origin:
            origin = self._good
            start = min(start, self._good + 1)
        pos = start
        while pos < n:
            stop = min(n, pos + _SCAN_WINDOW)
            window = np.frombuffer(buf[pos : min(n, stop + MESSAGE_HEADER_SIZE)], dtype=np.uint8)
            for rel in self._candidates(window, stop - pos):
                cand = pos + int(rel)
                resumed = self._confirm(cand, n)
                if resumed >= 0:
                    self._good = cand
                    self._error(
                        origin,
                        f"skipped {cand - origin} damaged bytes from offset {origin}; "
                        f"resumed at offset {cand}",
                    )
                    return resumed
            pos = stop
        return -1

    @staticmethod
    def _candidates(window: np.ndarray, limit: int) -> np.ndarray:
        """Offsets in ``window`` (below ``limit``) that may start a stream or message header."""
        w = window
        k = min(limit, len(w) - STREAM_HEADER_SIZE + 1)
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        stream = (w[:k] == 0x52) & (w[1 : k + 1] == 0x52) & (w[2 : k + 2] == 0x46)
        stream &= w[3 : k + 3] == 0x32
        km = min(limit, len(w) - MESSAGE_HEADER_SIZE + 1)
        if km > 0:
            # a message header: kind 1..3 as u64, then a length in [_MIN_BODY, 2^40)
            msg = (w[:km] >= 1) & (w[:km] <= 3)
            for i in (1, 2, 3, 4, 5, 6, 7, 13, 14, 15):
                msg &= w[i : km + i] == 0
            high = w[9 : km + 9] | w[10 : km + 10] | w[11 : km + 11] | w[12 : km + 12]
            msg &= (w[8 : km + 8] >= _MIN_BODY) | (high != 0)
            stream[:km] |= msg
        return np.flatnonzero(stream)

    def _confirm(self, cand: int, n: int) -> int:
        buf = self._view
        head = bytes(buf[cand : cand + STREAM_HEADER_SIZE])
        if head[:4] == MAGIC:
            if head[4:8] == FOOTER_MAGIC[4:] or len(head) < STREAM_HEADER_SIZE:
                return -1
            if head[9] != SERIALIZER_PROTOBUF:
                return -1
            self._stream_start = cand
            return cand + STREAM_HEADER_SIZE
        if n - cand < MESSAGE_HEADER_SIZE:
            return -1
        kind, length = MESSAGE_HEADER.unpack_from(buf, cand)
        end = cand + MESSAGE_HEADER_SIZE + length
        if not 1 <= kind <= 3 or end > n or length < _MIN_BODY:
            return -1
        try:
            decode_log_msg_span(kind, buf, cand + MESSAGE_HEADER_SIZE, end)
        except ProtobufError:
            return -1
        if end == n:
            return cand
        if n - end >= 4 and bytes(buf[end : end + 4]) == MAGIC:
            return cand
        if n - end < MESSAGE_HEADER_SIZE:
            return -1
        next_kind, next_len = MESSAGE_HEADER.unpack_from(buf, end)
        if next_kind <= 3 and next_len <= n - end - MESSAGE_HEADER_SIZE:
            return cand
        return -1


def read_rrd(path: str | os.PathLike[str] | Path) -> tuple[list[LogMsg], list[ReadError]]:
    """All messages of a file and the problems met; payloads stay views of the file's map."""
    reader = RrdReader(path)
    msgs = list(reader.messages())
    errors = list(reader.errors)
    reader.close()
    return msgs, errors

