"""Idle senders never starve live ones: streams that send nothing are closed when the
handler threads run short (and always before a first message, after a while), with the
reason kept on their source; a real rerun-sdk client then gets through at once."""

from __future__ import annotations

import threading
import time

import grpc
from net_helpers import needs_sdk, wait_process

from viewer.net import server as server_mod
from viewer.net.protocol import WRITE_MESSAGES_METHOD

SDK_SCRIPT = """
rec = rr.RecordingStream("idle_test", recording_id="real")
rec.connect_grpc(URL)
for i in range(50):
    rec.set_time("frame", sequence=i)
    rec.log("value", rr.Scalars(float(i)))
rec.flush()
rec.disconnect()
"""


class IdleSenders:
    """``n`` gRPC calls that open and then send nothing until released."""

    def __init__(self, port: int, n: int) -> None:
        self.release = threading.Event()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = self.channel.stream_unary(WRITE_MESSAGES_METHOD,
                                         request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
        self.codes: list[grpc.StatusCode] = []
        self.threads = [threading.Thread(target=self._call, args=(stub,), daemon=True)
                        for _ in range(n)]
        for t in self.threads:
            t.start()

    def _requests(self):  # noqa: ANN202
        self.release.wait(60)
        return
        yield  # a generator that yields nothing

    def _call(self, stub) -> None:  # noqa: ANN001
        try:
            stub(self._requests())
        except grpc.RpcError as exc:
            self.codes.append(exc.code())

    def close(self) -> None:
        self.release.set()
        for t in self.threads:
            t.join(10)
        self.channel.close()


@needs_sdk
def test_idle_streams_are_closed_so_a_real_client_gets_through(hub, start_sdk, qtbot):
    srv = server_mod.LiveServer(hub, port=0, max_workers=16).start()
    idle = IdleSenders(srv.port, 20)  # more than the server has threads
    try:
        qtbot.waitUntil(lambda: srv.open_stream_count() >= 16 - 1, timeout=10000)
        started = time.monotonic()
        proc = start_sdk(SDK_SCRIPT, srv.url)
        wait_process(qtbot, proc, timeout_s=30)
        assert hub.run_until_idle(10)
        took = time.monotonic() - started
        assert srv.closed_idle >= 1
        real = [s for s in hub.sources() if s.messages_sent > 0]
        assert len(real) == 1 and not real[0].errors
        db = next(db for sid, db in hub.dbs().items() if sid.recording_id == "real")
        assert db.num_rows >= 50
        # Without the watchdog the client waited for an idle call to end (never, here).
        assert took < server_mod.FIRST_MESSAGE_TIMEOUT_S, took
        closed = [s for s in hub.sources() if s.errors and "closed: no message" in
                  s.errors[0].message]
        assert closed, [s.errors for s in hub.sources()]
    finally:
        idle.close()
        srv.stop(grace=0.2)


def test_a_stream_that_never_sends_is_closed_after_the_first_message_timeout(
        hub, qtbot, monkeypatch):
    monkeypatch.setattr(server_mod, "FIRST_MESSAGE_TIMEOUT_S", 0.5)
    srv = server_mod.LiveServer(hub, port=0).start()
    idle = IdleSenders(srv.port, 1)
    try:
        qtbot.waitUntil(lambda: srv.closed_idle == 1, timeout=10000)
        qtbot.waitUntil(lambda: srv.open_stream_count() == 0, timeout=5000)
        (source,) = hub.sources()
        qtbot.waitUntil(lambda: bool(source.errors), timeout=5000)
        assert "no message in the first 0.5 s" in source.errors[0].message
    finally:
        idle.close()
        srv.stop(grace=0.2)
    assert idle.codes == [grpc.StatusCode.CANCELLED]
