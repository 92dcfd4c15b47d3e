"""One viewer per user: ``rrd-viewer FILE`` hands its files to a viewer that already runs.

Two routes, tried in this order:

1. A small local request. A running window also listens on a Unix socket private to the
   user (``$XDG_RUNTIME_DIR/rrd-viewer-PORT.sock``); the new process sends the absolute
   paths as one JSON line and the window opens them exactly as if they had been dropped on
   it (same sources, recent files, status). Nothing but the paths crosses the socket, so
   this costs the same for a 1 KB and a 10 GB file.
2. The file's own messages over the live gRPC port. Whatever listens there (a headless
   ``rrd-viewer ingest --serve``, or Rerun's own viewer on the same default port) receives
   the recording like a ``rr.connect_grpc()`` stream. Standard input always goes this way.

No Qt here: the window wires `HandoverListener` to its event loop (`viewer.ui.app`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from viewer.log.inputs import STDIN, expand_inputs

#: How long the new process waits for the running window to answer.
REQUEST_TIMEOUT_S = 5.0
#: How long a TCP connect to the live port may take before "nobody listens" is assumed.
PROBE_TIMEOUT_S = 0.5
_MAX_REQUEST_BYTES = 1 << 20


def socket_path(port: int) -> Path:
    """The per-user hand-over socket of the viewer on ``port``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / f"rrd-viewer-{port}.sock"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"rrd-viewer-{uid}-{port}.sock"


def probe_host(bind: str) -> str:
    """Where to knock for a server bound to ``bind`` (a wildcard bind answers on loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(bind, bind)


def port_listening(bind: str, port: int, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when something accepts TCP connections on the live port."""
    try:
        with socket.create_connection((probe_host(bind), port), timeout=timeout_s):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------ the running viewer


class HandoverListener:
    """Accepts hand-over requests on the per-user socket and passes the paths to
    ``on_paths`` (called on the listener's thread: the window re-posts them to its own).

    The socket is created with permissions 0600, so only the same user can hand files
    over; a stale socket left by a crashed viewer is replaced, a live one is not."""

    def __init__(self, port: int, on_paths: Callable[[list[str]], None],
                 path: Path | None = None) -> None:
        self.path = path if path is not None else socket_path(port)
        self.on_paths = on_paths
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.requests = 0

    def start(self) -> HandoverListener:
        if _unix_socket_answers(self.path):
            raise OSError(f"another viewer already listens on {self.path}")
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_mask)
        sock.listen(8)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="handover-listener",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def _serve(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # stopped
            with conn:
                conn.settimeout(REQUEST_TIMEOUT_S)
                try:
                    reply = self._answer(_read_line(conn))
                except (OSError, ValueError) as exc:
                    reply = {"ok": False, "error": str(exc)}
                with contextlib.suppress(OSError):  # the sender gave up waiting
                    conn.sendall(json.dumps(reply).encode() + b"\n")

    def _answer(self, line: bytes) -> dict:
        request = json.loads(line)
        paths = request.get("paths") if isinstance(request, dict) else None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError("expected {\"paths\": [absolute paths]}")
        self.requests += 1
        self.on_paths(paths)
        return {"ok": True, "accepted": paths, "pid": os.getpid()}


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        part = conn.recv(65536)
        if not part:
            break
        data += part
        if len(data) > _MAX_REQUEST_BYTES:
            raise ValueError("request too large")
    return data


def _unix_socket_answers(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(PROBE_TIMEOUT_S)
            probe.connect(str(path))
            return True
    except OSError:
        return False


# ------------------------------------------------------------------ the new process


@dataclass
class HandoverResult:
    """What was handed where: ``lines`` are printed for the user."""

    route: str  # "window" (local request), "stream" (gRPC) or "none"
    lines: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def request_open(paths: Sequence[Path], path: Path,
                 timeout_s: float = REQUEST_TIMEOUT_S) -> dict:
    """Ask the window listening on ``path`` to open ``paths``; its JSON reply."""
    body = json.dumps({"paths": [str(p) for p in paths]}).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(str(path))
        sock.sendall(body)
        reply = json.loads(_read_line(sock) or b"{}")
    if not reply.get("ok"):
        raise OSError(reply.get("error") or "the viewer refused the request")
    return reply


def hand_over(files: Sequence[str], bind: str, port: int) -> HandoverResult | None:
    """Give ``files`` to the viewer running on ``port``; None when no viewer runs there
    (the caller then opens its own window)."""
    sock = socket_path(port)
    window = _unix_socket_answers(sock)
    if not window and not port_listening(bind, port):
        return None
    paths, problems = expand_inputs(files)
    result = HandoverResult(route="window" if window else "stream")
    result.failed.extend(problems)
    to_window = [p.resolve() for p in paths if str(p) != STDIN] if window else []
    if to_window:
        try:
            reply = request_open(to_window, sock)
        except (OSError, ValueError) as exc:  # the window went away: stream instead
            result.lines.append(f"the window on {sock} did not answer ({exc}); streaming")
            to_window = []
            result.route = "stream"
        else:
            result.lines.extend(f"{p} -> the running viewer (pid {reply.get('pid')}, port {port})"
                                for p in to_window)
    streamed = [p for p in paths if p.resolve() not in to_window or str(p) == STDIN]
    if streamed:
        from viewer.net.sender import SendError, stream_file

        address = f"{probe_host(bind)}:{port}"
        for p in streamed:
            try:
                stats = stream_file(p, address)
            except (SendError, OSError) as exc:
                result.failed.append((str(p), str(exc)))
                continue
            result.lines.append(
                f"{p} -> rerun+http://{address}/proxy ({stats.messages} messages, "
                f"{stats.bytes / 1e6:.1f} MB in {stats.seconds:.2f} s)")
    return result
