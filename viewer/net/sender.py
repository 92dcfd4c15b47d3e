"""A live-stream sender of our own, speaking the same protocol as ``rr.connect_grpc()``.

Used by tests, benchmarks and ``scripts/stream_demo.py`` to drive the receiver without
rerun-sdk, and to replay a file into a running viewer (ours or the official one). One `send`
is one client-streaming call, like one SDK recording stream.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from viewer.log.messages import LogMsg, SetStoreInfo, StoreSource
from viewer.log.protobuf import encode_write_request
from viewer.net.protocol import CHANNEL_OPTIONS, DEFAULT_ADDRESS, WRITE_MESSAGES_METHOD, identity

__all__ = [
    "SENDER_EXTRA",
    "SOURCE_KIND_OTHER",
    "LiveSender",
    "SendError",
    "SendStats",
    "stamp_store_source",
    "stream_demo",
    "stream_file",
]

# StoreSource.kind 6 = "other"; the official viewer rejects a SetStoreInfo whose
# store_source.extra is unset, so our own streams always carry one.
SOURCE_KIND_OTHER = 6
SENDER_EXTRA = b"rrd-viewer sender"


class SendError(ConnectionError):
    """The receiver could not be reached, or it ended the stream with an error."""


@dataclass
class SendStats:
    messages: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


def stamp_store_source(msg: LogMsg) -> LogMsg:
    """Give a SetStoreInfo without ``store_source.extra`` our own source; others unchanged."""
    if not isinstance(msg, SetStoreInfo):
        return msg
    src = msg.info.store_source
    if src is not None and src.extra:
        return msg
    kind = src.kind if src is not None and src.kind else SOURCE_KIND_OTHER
    info = dataclasses.replace(msg.info, store_source=StoreSource(kind, SENDER_EXTRA))
    return dataclasses.replace(msg, info=info)


class LiveSender:
    """A gRPC client for ``MessageProxyService/WriteMessages`` sending raw protobuf bytes."""

    def __init__(self, address: str = DEFAULT_ADDRESS, *, connect_timeout_s: float = 5.0) -> None:
        self.address = address.removeprefix("rerun+http://").removesuffix("/proxy")
        self.connect_timeout_s = connect_timeout_s
        self._channel = grpc.insecure_channel(self.address, options=CHANNEL_OPTIONS)
        self._write = self._channel.stream_unary(
            WRITE_MESSAGES_METHOD,
            request_serializer=identity,
            response_deserializer=identity,
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> LiveSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_connected(self) -> None:
        """Wait until the receiver accepts connections (the SDK also retries for ~5 s)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.connect_timeout_s)
        except grpc.FutureTimeoutError:
            raise SendError(
                f"no viewer listening on {self.address} (waited {self.connect_timeout_s:g} s)"
            ) from None

    def send(self, messages: Iterable[LogMsg], rate_hz: float | None = None) -> SendStats:
        """Send ``messages`` as one stream, at most ``rate_hz`` messages/s; blocks until done."""
        return self.send_raw((encode_write_request(stamp_store_source(m)) for m in messages), rate_hz)

    def send_raw(self, bodies: Iterable[bytes], rate_hz: float | None = None) -> SendStats:
        """Send already-encoded request bodies (or deliberately broken ones, for tests)."""
        self.wait_connected()
        stats = SendStats()
        t0 = time.perf_counter()
        try:
            self._write(self._paced(bodies, rate_hz, stats), wait_for_ready=True)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            name = code.name if code is not None else "UNKNOWN"
            raise SendError(f"{self.address} ended the stream: {name}: {details}") from None
        finally:
            stats.seconds = time.perf_counter() - t0
        return stats

    @staticmethod
    def _paced(bodies: Iterable[bytes], rate_hz: float | None, stats: SendStats) -> Iterator[bytes]:
        period = 1.0 / rate_hz if rate_hz and rate_hz > 0 else 0.0
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            if period:
                delay = start + i * period - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            stats.messages += 1
            stats.bytes += len(body)
            yield body


def stream_file(
    path: str | Path, address: str = DEFAULT_ADDRESS, rate_hz: float | None = None
) -> SendStats:
    """Replay a recording file into a listening viewer as one live stream.

    Damaged parts of the file are skipped by the reader (its errors are not sent).
    """
    from viewer.log.reader import RrdReader

    with LiveSender(address) as sender:
        return sender.send(RrdReader(path).messages(), rate_hz)


def stream_demo(
    address: str = DEFAULT_ADDRESS,
    rate_hz: float | None = None,
    *,
    chunks: int = 200,
    rows_per_chunk: int = 100,
    entities: int = 4,
    recording_id: str | None = None,
) -> SendStats:
    """Stream a generated recording (see `viewer.net.demo_stream`)."""
    from viewer.net.demo_stream import demo_messages

    msgs = demo_messages(
        chunks=chunks, rows_per_chunk=rows_per_chunk, entities=entities, recording_id=recording_id
    )
    with LiveSender(address) as sender:
        return sender.send(msgs, rate_hz)
