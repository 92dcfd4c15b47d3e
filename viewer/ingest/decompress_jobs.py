"""Big payloads are decompressed by whichever thread gets to them first.

A point cloud, image or mesh chunk of a few MB costs its decoder ~0.6 ms per MB to fault in
fresh pages for the decompressed bytes (the kernel zeroes them) and only ~0.07 ms per MB of
LZ4 itself (docs/platform-facts.md, "Decompressing a big payload"). Both run without the GIL.
A file's reader thread, meanwhile, mostly waits for room in the inbox. So every queued big
message carries a `DecompressJob`, and a source blocked on a full inbox runs the newest job
nobody has started (the worker takes the oldest entry, so the two rarely meet): two cores
fault in and decompress in parallel. The worker runs a job itself when it gets there first,
or waits for the source to finish it.

The memory a job allocates was already counted in the inbox's byte bound when its message
was queued (`decoded_claim`), so helping never raises the memory in flight.
"""

from __future__ import annotations

import threading
from collections import deque

import pyarrow as pa

from viewer.log.arrow import decompress_payload, prepare_output
from viewer.log.messages import ArrowMsg

__all__ = ["DecompressJob", "JobBoard"]


class DecompressJob:
    """One message's decompression, run once, by the first thread that claims it."""

    __slots__ = ("_data", "_error", "_lock", "_owned", "done", "msg", "out")

    def __init__(self, msg: ArrowMsg, out: pa.Buffer | None = None) -> None:
        self.msg = msg
        self.out = out  # a prepared (faulted-in) buffer, or None: prepared by the runner
        self._lock = threading.Lock()
        self.done = False
        self._data: pa.Buffer | None = None
        self._owned: pa.Buffer | None = None
        self._error: Exception | None = None

    def try_run(self) -> bool:
        """Run it unless it is done or running elsewhere; never waits. True if it ran."""
        if self.done or not self._lock.acquire(blocking=False):
            return False
        try:
            if self.done:
                return False
            self._run()
            return True
        finally:
            self._lock.release()

    def take(self) -> tuple[pa.Buffer, pa.Buffer | None]:
        """`decompress_payload`'s result: runs it here, or waits while another thread does.
        Raises what decompression raised (`ArrowDecodeError`). The job forgets the result."""
        with self._lock:
            if not self.done:
                self._run()
            data, owned, error = self._data, self._owned, self._error
            self._data = self._owned = self._error = None
        if error is not None:
            raise error
        assert data is not None
        return data, owned

    def _run(self) -> None:
        msg = self.msg
        out = self.out if self.out is not None else prepare_output(msg)
        self.out = None
        try:
            self._data, self._owned = decompress_payload(msg, out)
        except Exception as exc:  # ArrowDecodeError, or anything unexpected: raised by take
            self._error = exc
        self.done = True


class JobBoard:
    """The jobs of one inbox, oldest first: what a blocked source can help with."""

    def __init__(self) -> None:
        self._jobs: deque[DecompressJob] = deque()
        self._lock = threading.Lock()

    def add(self, job: DecompressJob) -> None:
        with self._lock:
            self._prune()
            self._jobs.append(job)

    def help_one(self) -> bool:
        """Run the newest job nobody started; False when there is none."""
        with self._lock:
            self._prune()
            candidates = [job for job in reversed(self._jobs) if not job.done]
        return any(job.try_run() for job in candidates)

    def clear(self) -> None:
        """Forget every job (the store's inbox was closed)."""
        with self._lock:
            self._jobs.clear()

    def __len__(self) -> int:
        return len(self._jobs)

    def _prune(self) -> None:
        jobs = self._jobs
        while jobs and jobs[0].done:
            jobs.popleft()
