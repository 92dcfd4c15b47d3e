"""`LiveServer` driven by our own `LiveSender` (no rerun-sdk): busy ports, garbage on the wire,
many concurrent streams, shutdown with open streams; threaded and web mode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from viewer.ingest import SourceState
from viewer.log.messages import SetStoreInfo, StoreSource
from viewer.log.protobuf import encode_write_request
from viewer.net.demo_stream import demo_messages
from viewer.net.sender import SENDER_EXTRA, LiveSender, SendError, stamp_store_source
from viewer.net.server import LiveServer, PortInUseError


def _rows_of(hub, recording_id: str) -> dict[str, int]:
    for sid, db in hub.dbs().items():
        if sid.recording_id == recording_id:
            return {str(p): r for p, r in db.rows_per_entity.items()}
    return {}


class _Background:
    """Run a blocking call on a thread; keep its result or exception."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.result: object = None
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                self.error = exc

        self.thread = threading.Thread(target=run, name="test-sender")
        self.thread.start()

    def done(self) -> bool:
        return not self.thread.is_alive()


def _send_demo(address: str, recording_id: str, chunks: int, rate_hz: float | None = None):
    def send():
        with LiveSender(address) as sender:
            return sender.send(
                demo_messages(chunks=chunks, rows_per_chunk=5, recording_id=recording_id), rate_hz
            )

    return send


def test_net_busy_port_is_reported_and_the_first_server_keeps_working(hub, server, qtbot):
    second = LiveServer(hub, port=server.port)
    with pytest.raises(PortInUseError) as info:
        second.start()
    assert isinstance(info.value, OSError)
    assert str(info.value) == (
        f"port {server.port} on 127.0.0.1 is already in use — another viewer? use --port"
    )
    second.stop()  # never started: a no-op

    job = _Background(_send_demo(server.address, "after-busy", chunks=40))
    qtbot.waitUntil(job.done, timeout=10000)
    assert job.error is None
    assert hub.run_until_idle(5)
    assert _rows_of(hub, "after-busy") == {f"/demo/signal_{k}": 50 for k in range(4)}
    assert server.total_streams == 1


def test_net_garbage_ends_only_its_stream(hub, server, qtbot):
    good = _Background(_send_demo(server.address, "good", chunks=400, rate_hz=800))

    prefix = list(demo_messages(chunks=2, rows_per_chunk=3, recording_id="bad", entities=1))
    bodies = [encode_write_request(m) for m in prefix] + [b"\x0a\x05\xff\xff\xff\xff\xff"]

    def send_garbage():
        with LiveSender(server.address) as sender:
            return sender.send_raw(bodies)

    bad = _Background(send_garbage)
    qtbot.waitUntil(bad.done, timeout=10000)
    assert not good.done(), "the good stream should still be running concurrently"
    assert isinstance(bad.error, SendError)
    assert "INVALID_ARGUMENT" in str(bad.error)
    assert "message 4 is not a valid WriteMessagesRequest" in str(bad.error)

    qtbot.waitUntil(good.done, timeout=20000)
    assert good.error is None and good.result.messages == 401
    assert hub.run_until_idle(5)

    assert _rows_of(hub, "good") == {f"/demo/signal_{k}": 500 for k in range(4)}
    assert _rows_of(hub, "bad") == {"/demo/signal_0": 6}  # what came before the garbage stays
    states = {src.name: src for src in hub.sources()}
    failed = [s for s in states.values() if s.state == SourceState.FAILED]
    done = [s for s in states.values() if s.state == SourceState.DONE]
    assert len(failed) == 1 and len(done) == 1
    assert "not a valid WriteMessagesRequest" in failed[0].errors[0].message
    assert any("not a valid WriteMessagesRequest" in e.message for e in hub.errors())


def test_net_many_concurrent_streams(hub, server, qtbot):
    jobs = [_Background(_send_demo(server.address, f"many-{i}", chunks=12)) for i in range(12)]
    qtbot.waitUntil(lambda: all(j.done() for j in jobs), timeout=20000)
    assert [j.error for j in jobs] == [None] * 12
    assert hub.run_until_idle(5)
    for i in range(12):
        assert _rows_of(hub, f"many-{i}") == {f"/demo/signal_{k}": 15 for k in range(4)}
    assert server.total_streams == 12 and server.open_stream_count() == 0
    assert server.total_messages == 12 * 13


def test_net_stop_with_an_open_stream_keeps_its_data(hub, server, qtbot):
    release = threading.Event()
    msgs = list(demo_messages(chunks=4, rows_per_chunk=10, recording_id="open", entities=1))

    def held_open() -> Iterator:
        yield from msgs
        release.wait(10)  # the client stays connected and silent

    def send():
        with LiveSender(server.address) as sender:
            return sender.send(held_open())

    job = _Background(send)
    try:
        qtbot.waitUntil(lambda: _rows_of(hub, "open") == {"/demo/signal_0": 40}, timeout=10000)
        assert server.open_stream_count() == 1
        before = server.last_activity_monotonic()
        server.stop(grace=0.2)
        server.stop()  # idempotent
        assert not server.is_running and server.open_stream_count() == 0
        assert server.last_activity_monotonic() >= before
        qtbot.waitUntil(job.done, timeout=5000)
        assert isinstance(job.error, SendError)
    finally:
        release.set()
    [source] = hub.sources()
    assert source.finished and source.state != SourceState.FAILED
    assert hub.run_until_idle(5)
    assert _rows_of(hub, "open") == {"/demo/signal_0": 40}
    with pytest.raises(RuntimeError):
        server.start()


def test_net_port_zero_reports_the_real_port(hub, qtbot):
    srv = LiveServer(hub, port=0)
    try:
        srv.start()
        assert srv.port > 0
        assert srv.address == f"127.0.0.1:{srv.port}"
        assert srv.url == f"rerun+http://127.0.0.1:{srv.port}/proxy"
        assert srv.open_stream_count() == 0 and srv.total_streams == 0
    finally:
        srv.stop()


def test_net_invalid_settings_are_rejected_before_binding(hub):
    with pytest.raises(ValueError, match="port must be 0..65535, got 70000"):
        LiveServer(hub, port=70000)
    with pytest.raises(ValueError, match="max_workers"):
        LiveServer(hub, port=0, max_workers=0)


def test_net_sender_sets_store_source_extra():
    [info] = [m for m in demo_messages(chunks=0) if isinstance(m, SetStoreInfo)]
    bare = SetStoreInfo(type(info.info)(info.info.store_id, None, None), info.row_id)
    stamped = stamp_store_source(bare)
    assert stamped.info.store_source == StoreSource(6, SENDER_EXTRA)
    sdk_like = SetStoreInfo(type(info.info)(info.info.store_id, StoreSource(2, b"py"), None))
    assert stamp_store_source(sdk_like) is sdk_like  # an SDK's own source is kept
    kind_only = SetStoreInfo(type(info.info)(info.info.store_id, StoreSource(2, b""), None))
    assert stamp_store_source(kind_only).info.store_source == StoreSource(2, SENDER_EXTRA)


def test_net_sender_without_a_viewer_fails_clearly():
    with LiveSender("127.0.0.1:1", connect_timeout_s=0.3) as sender, pytest.raises(
        SendError, match="no viewer listening on 127.0.0.1:1"
    ):
        sender.send(demo_messages(chunks=1))


def _load_stream_demo_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "stream_demo.py"
    spec = importlib.util.spec_from_file_location("stream_demo_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_net_replayed_file_matches_reading_it(hub, server, qtbot, data_dir, capsys):
    from viewer.ingest import IngestHub
    from viewer.store.summary import summarize

    script = _load_stream_demo_script()
    path = str(data_dir / "two_recordings.rrd")
    job = _Background(lambda: script.main(["--file", path, "--address", server.address]))
    qtbot.waitUntil(job.done, timeout=10000)
    assert job.error is None and job.result == 0
    assert hub.run_until_idle(5)
    printed = capsys.readouterr().out
    assert '"messages": ' in printed

    reference = IngestHub(hub.settings)
    try:
        reference.open_file(path)
        assert reference.run_until_idle(10)
        expected = summarize(reference.dbs().values())
    finally:
        reference.shutdown()
    got = summarize(hub.dbs().values())
    assert len(got["stores"]) == 2
    assert got == expected
