"""The gRPC receiver for ``rr.connect_grpc()`` (rerun-sdk 0.41.0).

One client-streaming call per SDK recording stream; each call becomes one push source of the
ingest hub. The handler thread only decodes the protobuf envelope and hands messages to
``source.submit`` in order; when the hub's inbox is full, ``submit`` blocks, the handler stops
reading, and HTTP/2 flow control slows the sender down. Nothing here touches the GUI.

No generated protobuf code: grpcio passes raw request bytes to the handler (identity
(de)serializers) and `viewer.log.protobuf` decodes them, the same code that reads files.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

import grpc

from viewer.ingest.hub import SourceClosed
from viewer.log.protobuf import ProtobufError, decode_write_request
from viewer.net.protocol import (
    CHANNEL_OPTIONS,
    DEFAULT_PORT,
    SERVICE_NAME,
    WRITE_MESSAGES,
    WRITE_MESSAGES_METHOD,
    format_address,
    identity,
)

if TYPE_CHECKING:
    from viewer.log.messages import LogMsg

__all__ = [
    "SERVICE_NAME",
    "WRITE_MESSAGES_METHOD",
    "ListenError",
    "LiveServer",
    "PortInUseError",
    "format_address",
]

# How long `stop()` waits for handler threads that are still inside `source.submit`.
_JOIN_TIMEOUT_S = 5.0
#: A stream that has not sent its first message after this long is closed. rerun-sdk sends
#: its recording's store info as soon as it connects, so only a stalled or hostile sender
#: waits this long, and it would otherwise hold a handler thread for ever.
FIRST_MESSAGE_TIMEOUT_S = 10.0
#: When at most this many handler threads are left free, streams idle for longer than
#: `BUSY_IDLE_S` are closed (the most idle first), so a new sender always gets a thread.
FREE_THREADS_RESERVE = 4
BUSY_IDLE_S = 2.0
_WATCH_INTERVAL_S = 0.25

_log = logging.getLogger(__name__)


class ListenError(OSError):
    """The server cannot listen on the requested address; the message says why."""


class PortInUseError(ListenError):
    """The port is taken (often another viewer); the message tells the user what to do."""


class PushSource(Protocol):
    def submit(self, msg: LogMsg) -> None: ...

    def finish(self, error: str | None = None) -> None: ...


class StreamHub(Protocol):
    def open_stream(self, name: str) -> PushSource: ...


def _peer_label(context: grpc.ServicerContext) -> str:
    peer = context.peer() or "unknown"
    for prefix in ("ipv4:", "ipv6:", "unix:"):
        if peer.startswith(prefix):
            return peer[len(prefix):]
    return peer


class _Call:
    """Bookkeeping for one open WriteMessages call."""

    __slots__ = ("bytes", "closed_reason", "context", "last_message", "messages", "name",
                 "opened", "source", "thread")

    def __init__(self, name: str, source: PushSource, thread: threading.Thread,
                 context: grpc.ServicerContext | None = None) -> None:
        self.name = name
        self.source = source
        self.thread = thread
        self.context = context
        self.messages = 0
        self.bytes = 0
        self.opened = self.last_message = time.monotonic()
        self.closed_reason: str | None = None  # set when the server closes an idle call

    def idle_s(self, now: float) -> float:
        return now - self.last_message


class LiveServer:
    """Listens for rerun-sdk live streams and feeds each call into ``hub`` as a push source.

    ``port=0`` picks a free port; `port` and `address` give the real one after `start()`.
    """

    def __init__(
        self,
        hub: StreamHub,
        bind: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        max_workers: int = 64,
        idle_timeout_s: float | None = None,
    ) -> None:
        """``idle_timeout_s``: close any stream that sends nothing for this long (None:
        only when handler threads run short, see `BUSY_IDLE_S`, and before a first message,
        see `FIRST_MESSAGE_TIMEOUT_S`)."""
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, got {port}")
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._hub = hub
        self._bind = bind
        self._requested_port = port
        self._port = port
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._calls: dict[int, _Call] = {}
        self._next_call_no = 0
        self._done_messages = 0  # of calls that have ended
        self._done_bytes = 0
        self._last_activity = time.monotonic()
        self._stopped = False
        self.idle_timeout_s = idle_timeout_s
        self.closed_idle = 0  # streams closed for sending nothing (tests, stats)
        self._watch_stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    # ------------------------------------------------------------------ properties

    @property
    def bind(self) -> str:
        return self._bind

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was requested, once started)."""
        return self._port

    @property
    def address(self) -> str:
        return format_address(self._bind, self._port)

    @property
    def url(self) -> str:
        """What to pass to ``rr.connect_grpc()``."""
        return f"rerun+http://{self.address}/proxy"

    @property
    def is_running(self) -> bool:
        return self._server is not None

    @property
    def total_streams(self) -> int:
        """Calls accepted since start."""
        return self._next_call_no

    @property
    def total_messages(self) -> int:
        with self._lock:
            return self._done_messages + sum(c.messages for c in self._calls.values())

    @property
    def total_bytes(self) -> int:
        """Request bytes received (protobuf envelopes included)."""
        with self._lock:
            return self._done_bytes + sum(c.bytes for c in self._calls.values())

    def open_stream_count(self) -> int:
        with self._lock:
            return len(self._calls)

    def last_activity_monotonic(self) -> float:
        """`time.monotonic()` of the last call opened, message received or call ended."""
        return self._last_activity

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LiveServer:
        """Bind and start serving; raises `PortInUseError` when the address is taken."""
        if self._server is not None:
            return self
        if self._stopped:
            raise RuntimeError("a stopped LiveServer cannot be restarted; create a new one")
        executor = ThreadPoolExecutor(
            max_workers=self._max_workers, thread_name_prefix="grpc-live"
        )
        server = grpc.server(
            executor,
            # so_reuseport off: otherwise a second viewer silently shares the port and
            # connections get split between the two; with it off a busy port is an error.
            options=[*CHANNEL_OPTIONS, ("grpc.so_reuseport", 0)],
        )
        handler = grpc.stream_unary_rpc_method_handler(
            self._write_messages,
            request_deserializer=identity,
            response_serializer=identity,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE_NAME, {WRITE_MESSAGES: handler}),)
        )
        target = format_address(self._bind, self._requested_port)
        try:
            bound = server.add_insecure_port(target)
        except RuntimeError:  # grpcio >= 1.5x raises instead of returning 0
            bound = 0
        if not bound:
            server.stop(None)
            executor.shutdown(wait=False)
            raise self._bind_error()
        server.start()
        self._port = bound
        self._executor = executor
        self._server = server
        self._last_activity = time.monotonic()
        self._watchdog = threading.Thread(target=self._watch_idle, name="grpc-live-idle",
                                          daemon=True)
        self._watchdog.start()
        _log.info("listening for rerun-sdk live streams on %s", self.url)
        return self

    def _bind_error(self) -> ListenError:
        """Tell a busy port from an address that cannot be used (grpcio only says "failed")."""
        host, port = self._bind.strip("[]"), self._requested_port
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            return ListenError(f"cannot listen on {self._bind}: unknown address ({exc.strerror})")
        family, kind, proto, _, sockaddr = infos[0]
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(sockaddr)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return ListenError(f"cannot listen on {format_address(self._bind, port)}: "
                                   f"{exc.strerror}")
        if port == 0:
            return ListenError(f"could not listen on {self._bind} (no free port?)")
        return PortInUseError(
            f"port {port} on {self._bind} is already in use — another viewer? use --port"
        )

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop listening, end open calls (their data stays), join handler threads. Idempotent.

        New calls are refused at once; open ones get ``grace`` seconds to end on their own
        (SDK streams rarely do) and are then cancelled, which marks their sources finished.
        A handler blocked in ``source.submit`` (a full inbox) returns only once the hub
        drains or is shut down; such handlers are waited for at most ~``_JOIN_TIMEOUT_S``.
        """
        with self._lock:
            server, self._server = self._server, None
            executor, self._executor = self._executor, None
            self._stopped = True
        if server is None:
            return
        self._watch_stop.set()
        if self._watchdog is not None:
            self._watchdog.join()
            self._watchdog = None
        # Our own grace period: grpcio's would leave a non-daemon timer thread behind.
        deadline = time.monotonic() + (grace or 0.0)
        while self.open_stream_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        server.stop(None)  # cancels the calls still open; their iterators raise RpcError
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        for call in self._open_calls():
            call.thread.join(max(0.0, deadline - time.monotonic()))
        stuck = self._open_calls()
        for call in stuck:
            _log.warning("live stream %s still blocked at shutdown; marking it finished", call.name)
            call.source.finish()  # no longer live; its data stays
        if executor is not None:
            executor.shutdown(wait=not stuck)

    def _open_calls(self) -> list[_Call]:
        with self._lock:
            return list(self._calls.values())

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ idle streams

    def _watch_idle(self) -> None:
        """Close streams that send nothing, so idle senders never starve live ones."""
        while not self._watch_stop.wait(_WATCH_INTERVAL_S):
            now = time.monotonic()
            calls = self._open_calls()
            for call in calls:
                if call.closed_reason is not None:
                    continue
                if call.messages == 0 and now - call.opened > FIRST_MESSAGE_TIMEOUT_S:
                    self._close_idle(call, f"closed: no message in the first "
                                           f"{FIRST_MESSAGE_TIMEOUT_S:g} s")
                elif self.idle_timeout_s is not None and call.idle_s(now) > self.idle_timeout_s:
                    self._close_idle(call, f"closed: no message for {self.idle_timeout_s:g} s")
            live = [c for c in calls if c.closed_reason is None]
            spare = self._max_workers - len(live)
            if spare > FREE_THREADS_RESERVE:
                continue
            for call in sorted(live, key=lambda c: c.last_message):
                if spare > FREE_THREADS_RESERVE or call.idle_s(now) <= BUSY_IDLE_S:
                    break
                self._close_idle(call, f"closed: no message for {call.idle_s(now):.1f} s "
                                       "while every stream thread was taken")
                spare += 1

    def _close_idle(self, call: _Call, reason: str) -> None:
        """Cancel one call from the watchdog; its handler sees the cancellation, keeps what
        the call sent and marks its source finished with ``reason``."""
        call.closed_reason = reason
        self.closed_idle += 1
        if call.context is not None:
            call.context.cancel()

    # ------------------------------------------------------------------ the RPC

    def _write_messages(self, requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        if self._stopped:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the viewer is shutting down")
        peer = _peer_label(context)
        with self._lock:
            self._next_call_no += 1
            number = self._next_call_no
        name = f"grpc {peer} #{number}"
        try:
            source = self._hub.open_stream(name)
        except Exception as exc:  # hub shut down or broken: refuse this call only
            _log.warning("refused live stream %s: %s", name, exc)
            context.abort(grpc.StatusCode.UNAVAILABLE, f"viewer cannot accept streams: {exc}")
            raise  # pragma: no cover - abort raises
        call = _Call(name, source, threading.current_thread(), context)
        key = id(call)
        with self._lock:
            self._calls[key] = call
            busy = len(self._calls)
        if busy >= self._max_workers:
            _log.warning(
                "all %d live-stream threads are busy: further streams wait until one ends",
                self._max_workers,
            )
        self._last_activity = time.monotonic()
        status: tuple[grpc.StatusCode, str] | None = None
        try:
            status = self._pump(requests, call, context)
        finally:
            with self._lock:
                self._calls.pop(key, None)
                self._done_messages += call.messages
                self._done_bytes += call.bytes
            self._last_activity = time.monotonic()
        if status is not None:
            context.abort(*status)
        return b""

    def _pump(
        self, requests: Iterator[bytes], call: _Call, context: grpc.ServicerContext
    ) -> tuple[grpc.StatusCode, str] | None:
        """Move every message of one call into its source; returns an abort status or None."""
        source = call.source
        try:
            for body in requests:
                n = call.messages + 1
                try:
                    msg = decode_write_request(body)
                except (ProtobufError, ValueError) as exc:
                    text = f"{call.name}: message {n} is not a valid WriteMessagesRequest: {exc}"
                    _log.warning("%s", text)
                    source.finish(error=text)
                    return grpc.StatusCode.INVALID_ARGUMENT, text
                source.submit(msg)
                call.messages = n
                call.bytes += len(body)
                self._last_activity = call.last_message = time.monotonic()
        except SourceClosed:
            return grpc.StatusCode.UNAVAILABLE, "the viewer closed this stream (shutting down?)"
        except grpc.RpcError:
            if call.closed_reason is not None:  # closed by the idle watchdog
                _log.warning("%s: %s", call.name, call.closed_reason)
                source.finish(error=call.closed_reason)
                return None
            # The client went away mid-stream (killed, cancelled, network): keep its data.
            _log.info("%s: client disconnected after %d messages", call.name, call.messages)
            source.finish()
            return None
        except Exception as exc:
            text = f"{call.name}: internal error after {call.messages} messages: {exc!r}"
            _log.exception("%s", text)
            source.finish(error=text)
            return grpc.StatusCode.INTERNAL, text
        if call.closed_reason is not None:  # cancelled by the watchdog: the requests ended
            _log.warning("%s: %s", call.name, call.closed_reason)
            source.finish(error=call.closed_reason)
            return None
        if not context.is_active():
            _log.info("%s: client disconnected after %d messages", call.name, call.messages)
        source.finish()
        return None
