"""Starting the decode helper process (`viewer.log.decode_helper`), with the standard library
only: an entry point that knows it will read a big file starts the helper before its own
imports (`prestart`), so the helper's ~0.2 s of imports run on the other core meanwhile.

A started helper waits for its job: the parent writes the file's path and its run caps to
the control pipe (`Launched.send_job`), then the space it gives back in the ring.
"""

from __future__ import annotations

import atexit
import contextlib
import mmap
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from viewer.log.framing import MAGIC, MESSAGE_HEADER, MESSAGE_HEADER_SIZE, STREAM_HEADER_SIZE
from viewer.log.messages import MsgKind

__all__ = ["DEFAULT_MIN_BYTES", "RING_BYTES", "Launched", "discard_spare", "launch",
           "prestart", "prestart_for", "small_chunks_first", "take", "wants_helper"]

#: Files this big or bigger are read by a helper (`IngestSettings.decode_helper_min_bytes`):
#: it costs ~0.1 s and ~30-40 MB whatever the file and pays from ~50 MB of small chunks on
#: (docs/benchmarks/README.md, "The decode helper").
DEFAULT_MIN_BYTES = 64 << 20
#: The shared ring's size. Joined runs leave it as soon as they arrive; single payloads stay
#: lent while they wait in an inbox or an open run of the workers. 8 MiB loaded as fast as
#: 24 or 48 MiB and its pages count in the viewer's RSS (docs/benchmarks/vs-rerun.md, notes).
RING_BYTES = 8 << 20
_JOB = struct.Struct("<I")
_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1 << 20


@dataclass
class Launched:
    """A helper process, its ring and the write end of its control pipe."""

    proc: subprocess.Popen
    ring: mmap.mmap
    ctl_fd: int
    stderr: IO[bytes]
    peak_rss_bytes: int = 0  # known once it exited (`wait`)
    cpu_s: float = 0.0  # its user + system CPU time, known once it exited
    _waited: bool = field(default=False, repr=False)

    def send_job(self, path: Path, max_bytes: int = 0, max_rows: int = 0) -> None:
        """Give the helper its file and the viewer's run caps (0 bytes: no runs); OSError
        when it is gone."""
        raw = pickle.dumps((os.fspath(path), int(max_bytes), int(max_rows)))
        data = _JOB.pack(len(raw)) + raw
        os.set_blocking(self.ctl_fd, True)  # the job is small: the pipe takes it at once
        try:
            os.write(self.ctl_fd, data)
        finally:
            os.set_blocking(self.ctl_fd, False)  # space given back must never block

    def alive(self) -> bool:
        """Still running (checked without reaping it, so `wait` still gets its usage)."""
        if self._waited:
            return False
        try:
            return os.waitid(os.P_PID, self.proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def kill(self) -> None:
        if not self._waited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)  # a zombie ignores it

    def wait(self) -> tuple[int, str]:
        """Reap the helper: exit code and the end of what it printed (its peak RSS is
        in ``peak_rss_bytes`` then)."""
        if self._waited:
            return self.proc.returncode or 0, ""
        self._waited = True
        try:
            _pid, status, usage = os.wait4(self.proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            self.proc.returncode = code
            self.peak_rss_bytes = int(usage.ru_maxrss) * 1024
            self.cpu_s = usage.ru_utime + usage.ru_stime
        except ChildProcessError:  # reaped elsewhere
            code = self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.seek(0)
        text = self.stderr.read()[-2000:].decode(errors="replace").strip()
        self.stderr.close()
        return code, text


def launch(ring_bytes: int = RING_BYTES) -> Launched:
    """Start a helper (OSError if it cannot be started: no memfd, no fork, ...)."""
    ring_fd = os.memfd_create("rrd-viewer-ring", os.MFD_CLOEXEC)
    ctl_r = ctl_w = -1
    try:
        os.ftruncate(ring_fd, ring_bytes)
        ring = mmap.mmap(ring_fd, ring_bytes)
        ctl_r, ctl_w = os.pipe2(os.O_CLOEXEC)
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        # glibc's malloc for Arrow buffers: the helper frees every run's buffers at once,
        # and mimalloc (pyarrow's default here) kept ~14-20 MB more of them resident at
        # the same speed (docs/benchmarks/vs-rerun.md, notes)
        env["ARROW_DEFAULT_MEMORY_POOL"] = "system"
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by Launched.wait)
        proc = subprocess.Popen(
            [sys.executable, "-m", "viewer.log.decode_helper", str(ring_fd), str(ctl_r)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
            pass_fds=(ring_fd, ctl_r), env=env)
    except BaseException:
        if ctl_w >= 0:
            os.close(ctl_w)
        raise
    finally:
        os.close(ring_fd)  # the map keeps the memory
        if ctl_r >= 0:
            os.close(ctl_r)
    os.set_blocking(ctl_w, False)
    try:
        import fcntl
        fcntl.fcntl(proc.stdout.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]
    except OSError:
        pass  # the default 64 KiB works, with more wake-ups
    return Launched(proc, ring, ctl_w, stderr)


_lock = threading.Lock()
_spare: Launched | None = None


def prestart() -> None:
    """Start a helper now for a file opened soon (`take`); quietly nothing if it cannot."""
    global _spare
    with _lock:
        if _spare is not None:
            return
        try:
            _spare = launch()
        except OSError:
            return
    atexit.register(discard_spare)


def prestart_for(files: list[str], choice: str) -> None:
    """`prestart` when one of ``files`` will be read by a helper under ``--decode-helper
    choice`` ("auto": `DEFAULT_MIN_BYTES`; "on": any size; "off": never)."""
    least = None if choice == "off" else 0 if choice == "on" else DEFAULT_MIN_BYTES
    if any(wants_helper(name, least) and small_chunks_first(name) for name in files):
        prestart()


def wants_helper(path: str | os.PathLike[str], least: int | None) -> bool:
    """A regular file of ``least`` bytes or more (None: never) on a system that can run
    the helper (Linux with memfd)."""
    if least is None or not hasattr(os, "memfd_create"):
        return False
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False  # the reader reports it
    return stat.S_ISREG(st.st_mode) and st.st_size >= least


#: `small_chunks_first` looks at this many chunks at the start of a file ...
_SAMPLE = 32
#: ... and wants the median size of their messages under this.
_SMALL_CHUNK = 256 << 10


def small_chunks_first(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with small chunks (the median of its first 32 ArrowMsg
    bodies under 256 KiB), the ones the helper takes off the viewer's hands; big payloads
    it would only pass on. Reads the message headers only (a few preads); a file that
    does not start like an .rrd answers False (the viewer reads it, and reports it)."""
    sizes: list[int] = []
    try:
        with open(path, "rb", buffering=0) as f:
            if f.read(STREAM_HEADER_SIZE)[:4] != MAGIC:
                return False
            pos = STREAM_HEADER_SIZE
            for _ in range(8 * _SAMPLE):
                head = os.pread(f.fileno(), MESSAGE_HEADER_SIZE, pos)
                if len(head) < MESSAGE_HEADER_SIZE:
                    break
                kind, length = MESSAGE_HEADER.unpack(head)
                if kind == MsgKind.ARROW_MSG:
                    sizes.append(length)
                    if len(sizes) >= _SAMPLE:
                        break
                elif kind == MsgKind.END or kind > max(MsgKind):
                    break  # an End (a footer may follow) or something odd: enough seen
                pos += MESSAGE_HEADER_SIZE + length
    except OSError:
        return False
    sizes.sort()
    return bool(sizes) and sizes[len(sizes) // 2] < _SMALL_CHUNK


def take() -> Launched:
    """The helper started by `prestart`, else a new one (OSError if none can start)."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is not None and spare.alive():
        return spare
    if spare is not None:
        spare.wait()
    return launch()


def discard_spare() -> None:
    """Stop a prestarted helper nobody took (at shutdown)."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is not None:
        os.close(spare.ctl_fd)  # it was waiting for its job: it exits
        spare.kill()
        spare.wait()
