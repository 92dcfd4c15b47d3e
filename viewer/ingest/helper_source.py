"""`HelperFileSource`: a file read by the decode helper process (threaded mode).

The helper reads, parses and decompresses on the other core and joins runs of small chunks
into one record batch each; this source's thread turns its records into messages and routes
them like `FileSource` does, in file order. A joined run is copied out of the ring here
(the copy pays the chunk's fresh pages off the decoding thread) and travels as one private
message standing for its parts, which the worker only wraps. A payload left alone is lent
from the ring (`ArrowMsg.transient`): the worker copies it into the run it joins, as it
does with its own scratch buffer. Payloads that stay where they are in the file (big ones,
or ones the helper could not decode) are read here with one ``pread`` and decoded as before.

If the helper dies, the error is reported and this source reads on by itself from the
first message the helper had not sent: nothing is lost or loaded twice.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from pathlib import Path

import pyarrow as pa

from viewer.ingest.decode_process import RingLeases
from viewer.ingest.sources import FileSource, SourceClosed
from viewer.ingest.state import IngestState
from viewer.log import helper_launch
from viewer.log.decode_helper import DONE, ERROR, FILE, JOINED, MESSAGE, RING, read_frames
from viewer.log.helper_launch import Launched
from viewer.log.messages import ArrowMsg, Compression
from viewer.log.reader import ReadError

__all__ = ["HelperFileSource"]


class HelperFileSource(FileSource):
    kind = "file"

    def __init__(self, state: IngestState, path: str | Path, release_behind: int,
                 run_caps: tuple[int, int] = (0, 0)) -> None:
        super().__init__(state, path, release_behind)
        #: The workers' run caps (merge_max_bytes, merge_max_rows; 0 bytes: no runs): the
        #: helper joins runs by the same rules.
        self._caps = run_caps
        # every message before _low was sent by the helper; _beyond: those sent after it
        self._low = 0
        self._beyond: set[int] = set()
        self.helper: Launched | None = None
        self.leases: RingLeases | None = None
        #: The helper's peak RSS once it exited, and its private memory at the end of the
        #: file (0: no helper ran).
        self.helper_peak_rss_bytes = 0
        self.helper_private_bytes = 0

    def _read_all(self) -> None:
        if not helper_launch.small_chunks_first(self.path):
            super()._read_all()  # big payloads: the helper would only copy them
            return
        if not _SLOTS.acquire(blocking=False):
            super()._read_all()  # as many helpers as spare cores already read files
            return
        try:
            self._read_through_helper()
        finally:
            _SLOTS.release()

    def _read_through_helper(self) -> None:
        try:
            helper = helper_launch.take()
            helper.send_job(self.path, *self._caps)
        except OSError:
            super()._read_all()  # no helper here: read in this process
            return
        self.helper = helper
        leases = self.leases = RingLeases(helper.ring, helper.ctl_fd)
        outcome = "stopped"
        try:
            finished = self._route_frames(helper, leases)
            outcome = "done" if finished else "stopped" if self._aborted else "died"
        except SourceClosed:
            pass
        except Exception as exc:  # never let a bug kill the process silently
            self._fail(f"reading stopped: {type(exc).__name__}: {exc}")
        finally:
            if outcome != "done":
                helper.kill()
            leases.close()
            code, text = helper.wait()
            self.helper_peak_rss_bytes = helper.peak_rss_bytes
        if outcome != "died":
            self._finish()
            return
        err = ReadError(self.name, self._low,
                        f"the decode helper stopped (exit code {code}"
                        f"{': ' + text.splitlines()[-1] if text else ''}); "
                        f"reading on in the viewer's process")
        self.errors.append(err)
        self._state.report_error(err)
        self._read_on()

    def _route_frames(self, helper: Launched, leases: RingLeases) -> bool:
        """Route every record; whether the helper finished the file."""
        state = self._state
        gate = state.ui_gate
        route = state.route
        monotonic = time.monotonic
        beyond = self._beyond
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            for bytes_read, low, records in read_frames(helper.proc.stdout):
                self.bytes_read = bytes_read
                for rec in records:
                    kind = rec[0]
                    if kind == RING:
                        _, offset, sid, _size, enc, cid, static, end, n = rec
                        msg = ArrowMsg(sid, Compression.NONE, n, leases.lease(end, n), enc,
                                       cid, static, transient=True)
                    elif kind == JOINED:
                        # copied out here, off the decoding thread: the copy pays the page
                        # faults of the chunk's fresh memory (GIL released)
                        _, offset, sid, _size, enc, cid, static, end, n = rec
                        msg = ArrowMsg(sid, Compression.NONE, n, _copy(leases.lease(end, n)),
                                       enc, cid, static, private=True, parts=len(offset))
                    elif kind == FILE:
                        _, offset, sid, size, enc, cid, static, comp, where, n = rec
                        msg = ArrowMsg(sid, comp, size, _pread(fd, where, n), enc, cid, static)
                    elif kind == MESSAGE:
                        _, offset, msg = rec
                    elif kind == ERROR:
                        self.errors.append(rec[1])
                        state.report_error(rec[1])
                        self._errors_before = max(self._errors_before, rec[1].offset)
                        continue
                    else:
                        if kind == DONE:
                            self.helper_private_bytes = int(rec[1])
                            return True
                        continue
                    if self._aborted:
                        return False
                    gate.pause(lambda: self._aborted)  # the UI thread is in its frame
                    route(self, msg, offset if kind != JOINED else offset[0], monotonic(),
                          block=True)
                    del msg  # a lent payload goes back as soon as the pipeline is done
                    if kind == JOINED:
                        beyond.update(offset)
                    else:
                        beyond.add(offset)
                if low > self._low:
                    self._low = low
                    if len(beyond) > 4096:
                        beyond.difference_update([o for o in beyond if o < low])
        finally:
            os.close(fd)
        return False

    def _read_on(self) -> None:
        """Read here what the helper had not sent: from its last ``low`` on, skipping the
        messages it sent beyond it (runs held others back)."""
        entries = self._entries
        if entries is None:
            self._finish()
            return
        low, sent = self._low, self._beyond
        self._entries = ((off, msg) for off, msg in entries if off >= low and off not in sent)
        super()._read_all()

    def abort(self) -> None:
        super().abort()
        helper = self.helper
        if helper is not None:
            helper.kill()


def _copy(lent: pa.Buffer) -> pa.Buffer:
    """``lent`` in a buffer of its own (ctypes' memmove releases the GIL)."""
    out = pa.allocate_buffer(lent.size)
    ctypes.memmove(out.address, lent.address, lent.size)
    return out


def _pread(fd: int, where: int, n: int) -> pa.Buffer:
    """``n`` bytes of the file at ``where``, in a buffer of their own (GIL released)."""
    buf = pa.allocate_buffer(n)
    got = os.preadv(fd, [memoryview(buf).cast("B")], where) if n else 0
    if got != n:
        raise OSError(f"the file changed while read: {got} of {n} bytes at offset {where}")
    return buf


#: Helpers reading at once: one per core besides this process's (more would only take
#: turns on the cores and each costs its memory).
_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
