"""Errors stay local, closing a store mid-ingestion, backpressure and shutdown."""

from __future__ import annotations

import dataclasses
import gc
import time
import weakref

import pytest
from ingest_helpers import Sender, drain, expected_tokens, file_messages, interleave, with_store

from viewer.ingest import SourceClosed, SourceState
from viewer.ingest.thread_registry import running_threads
from viewer.log.messages import ArrowMsg, StoreId, StoreKind, decoded_claim, message_nbytes

MODES = ["threaded", "per_store", "web"]


def _sid(name: str) -> StoreId:
    return StoreId(StoreKind.RECORDING, name, "ingest_tests")


def _rows(msgs, sid) -> int:
    return sum(1 for t in expected_tokens(msgs).get(sid, []) if t[0] != "info")


@pytest.mark.parametrize("mode", MODES)
def test_ingest_corrupt_store_next_to_healthy_one(make_hub, mode):
    base = file_messages("scalars.rrd")
    bad_sid, good_sid = _sid("corrupt"), _sid("healthy")
    bad_msgs = []
    n_corrupt = 0
    for i, m in enumerate(base):
        m = with_store(m, bad_sid)
        if isinstance(m, ArrowMsg) and i % 4 == 1:
            raw = bytearray(memoryview(m.payload))
            raw[len(raw) // 3: len(raw) // 3 + 40] = b"\xff" * 40
            m = dataclasses.replace(m, payload=memoryview(bytes(raw)))
            n_corrupt += 1
        bad_msgs.append(m)
    good_msgs = [with_store(m, good_sid) for m in base]
    hub = make_hub(mode)
    frames = []
    hub.frame_applied.connect(frames.append)
    hub.start()
    src = hub.open_stream("mixed-health")
    sender = Sender(src, interleave(bad_msgs, good_msgs))
    sender.start()
    drain(hub, [sender])
    assert sender.exc is None
    errors = [e for f in frames for e in f.new_errors]
    assert len(errors) == n_corrupt > 0
    assert all(e.source == "mixed-health" and str(bad_sid) in e.message for e in errors)
    assert src.errors == errors
    # every intact message of the broken store arrived, and all of the healthy one
    intact = [m for m in bad_msgs if not (isinstance(m, ArrowMsg) and _corrupt(m))]
    assert hub.db(bad_sid).num_rows == _rows(intact, bad_sid)
    assert hub.db(good_sid).num_rows == _rows(good_msgs, good_sid)


def _corrupt(m: ArrowMsg) -> bool:
    from viewer.log.arrow import ArrowDecodeError, decode_arrow_payload
    from viewer.store.chunk import Chunk, ChunkError

    try:
        Chunk.from_record_batch(decode_arrow_payload(m))
    except (ArrowDecodeError, ChunkError):
        return True
    return False


@pytest.mark.parametrize("mode", MODES)
def test_ingest_close_store_mid_ingestion(make_hub, mode):
    base = file_messages("scalars.rrd")
    a, b = _sid("to-close"), _sid("kept")
    msgs_a = [with_store(m, a) for m in base] * 20  # repeated: plenty still in flight
    msgs_b = [with_store(m, b) for m in base]
    hub = make_hub(mode, queue_max_messages=4, outbox_max_items=4, merge_max_rows=0)
    frames = []
    hub.frame_applied.connect(frames.append)
    hub.start()
    src = hub.open_stream("two-stores")
    sender = Sender(src, interleave(msgs_a, msgs_b))
    sender.start()
    deadline = time.monotonic() + 10
    while hub.db(a) is None or hub.db(a).num_rows == 0:
        hub.run_until_idle(0.01)
        assert time.monotonic() < deadline
    worker = hub.state.worker(a)
    own_thread = f"ingest {a}-0"  # per-store mode: the store's private pool thread
    db_ref = weakref.ref(hub.db(a))
    hub.close_store(a)
    assert hub.db(a) is None and a not in hub.dbs()
    assert worker.aborted and len(worker.inbox) == 0 and len(worker.outbox) == 0
    # per-store mode: the store's own thread is stopped and joined (none in other modes)
    assert not [t for t in running_threads() if t.objectName() == own_thread]
    drain(hub, [sender])
    assert sender.exc is None and sender.sent == len(msgs_a) + len(msgs_b)
    assert src.dropped_messages > 0  # later messages of the closed store were ignored
    assert a not in hub.dbs() and hub.db(b).num_rows == _rows(msgs_b, b)
    assert any(a in f.closed_stores for f in frames)
    del worker
    frames.clear()
    gc.collect()
    assert db_ref() is None, "the closed store's EntityDb is still referenced"


@pytest.mark.parametrize("mode", MODES)
def test_ingest_backpressure_blocks_source_and_drops_nothing(make_hub, mode):
    base = [m for m in file_messages("scalars.rrd")]
    sid = base[0].store_id
    hub = make_hub(mode, queue_max_messages=2, queue_max_bytes=1 << 20,
                   outbox_max_items=2, merge_max_rows=0)

    def slow_apply(store_id, item):
        time.sleep(0.002)  # a slow UI

    hub.frame_driver.apply_listener = slow_apply
    hub.start()
    src = hub.open_stream("slow")
    sender = Sender(src, base)
    sender.start()
    drain(hub, [sender])
    inbox = hub.state.worker(sid).inbox
    assert inbox.blocked_s > 0.005, "the source never waited: no backpressure"
    assert inbox.peak_items <= 2
    assert hub.state.worker(sid).outbox.peak_items <= 3  # one merged/forced item over at most
    assert hub.db(sid).num_rows == _rows(base, sid)
    assert src.dropped_messages == 0


def test_ingest_queue_byte_bound_blocks_too(make_hub):
    base = [m for m in file_messages("images.rrd")]
    sid = base[0].store_id
    # A queued chunk counts its payload and what decoding it will allocate.
    biggest = max(message_nbytes(m) + decoded_claim(m) for m in base if isinstance(m, ArrowMsg))
    hub = make_hub("threaded", queue_max_bytes=biggest, merge_max_rows=0)
    hub.start()
    src = hub.open_file(hub_data("images.rrd"))
    assert hub.run_until_idle(20)
    assert src.state is SourceState.DONE
    inbox = hub.state.worker(sid).inbox
    assert inbox.peak_bytes <= biggest  # one item may exceed only an empty queue
    assert hub.db(sid).num_rows == _rows(base, sid)


def hub_data(name: str):
    from ingest_helpers import DATA_DIR

    return DATA_DIR / name


@pytest.mark.parametrize("mode", ["threaded", "per_store", "pool2", "web"])
def test_ingest_shutdown_joins_everything(make_hub, mode):
    base = file_messages("scalars.rrd")
    hub = make_hub(mode, queue_max_messages=2, outbox_max_items=2)
    # nothing applies (timer not started): the sender blocks on a full queue
    src = hub.open_stream("blocked")
    sender = Sender(src, [with_store(m, _sid(f"s{i % 3}")) for i, m in enumerate(base * 5)])
    sender.start()
    files = [hub.open_file(hub_data("mixed.rrd")), hub.open_file(hub_data("points.rrd"))]
    deadline = time.monotonic() + 5
    while sender.sent < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert sender.is_alive(), "the sender should be blocked by backpressure"
    hub.shutdown()
    sender.join(5)
    assert not sender.is_alive()
    assert isinstance(sender.exc, SourceClosed)
    assert not [t for t in running_threads() if t.isRunning()]
    for f in files:
        assert f.state in (SourceState.CLOSED, SourceState.DONE)
    with pytest.raises(SourceClosed):
        src.submit(base[0])
    with pytest.raises(SourceClosed):
        hub.open_stream("late").submit(base[0])
    hub.shutdown()  # idempotent


@pytest.mark.parametrize("mode", MODES)
def test_ingest_missing_and_non_rrd_files_fail_cleanly(make_hub, mode, tmp_path):
    not_rrd = tmp_path / "notes.rrd"
    not_rrd.write_text("hello, not a recording\n" * 10)
    hub = make_hub(mode)
    frames = []
    hub.frame_applied.connect(frames.append)
    missing = hub.open_file(tmp_path / "missing.rrd")
    bad = hub.open_file(not_rrd)
    folder = hub.open_file(tmp_path)
    good = hub.open_file(hub_data("static.rrd"))
    assert hub.run_until_idle(20)
    for src in (missing, bad, folder):
        assert src.state is SourceState.FAILED and src.errors, src
        assert src.errors[0].source == src.name
    assert good.state is SourceState.DONE and not good.errors
    reported = [e for f in frames for e in f.new_errors]
    assert len(reported) == sum(len(s.errors) for s in (missing, bad, folder))
    assert len(hub.dbs()) == 1


@pytest.mark.parametrize("mode", MODES)
def test_ingest_emits_nothing_when_nothing_changes(make_hub, mode, qtbot):
    hub = make_hub(mode)
    frames = []
    hub.frame_applied.connect(frames.append)
    hub.open_file(hub_data("textlog.rrd"))
    assert hub.run_until_idle(20)
    assert frames
    n = len(frames)
    qtbot.wait(100)  # ~6 frames with nothing to do
    assert len(frames) == n
    assert hub.stats.frames > n


def test_ingest_closed_store_reopened_by_a_new_source(make_hub):
    hub = make_hub("threaded")
    hub.open_file(hub_data("scalars.rrd"))
    assert hub.run_until_idle(20)
    (sid,) = hub.dbs()
    rows = hub.db(sid).num_rows
    hub.close_store(sid)
    assert hub.db(sid) is None
    hub.open_file(hub_data("scalars.rrd"))
    assert hub.run_until_idle(20)
    assert hub.db(sid).num_rows == rows


def test_ingest_shutdown_wakes_threads_blocked_on_file_reading(make_hub):
    hub = make_hub("threaded", queue_max_messages=1, outbox_max_items=1)
    src = hub.open_file(hub_data("mixed.rrd"))
    time.sleep(0.05)  # the reader blocks on the full inbox (no frames run)
    assert src.state is SourceState.LOADING
    t0 = time.monotonic()
    hub.shutdown()
    assert time.monotonic() - t0 < 2
    assert src.state is SourceState.CLOSED
    assert not [t for t in running_threads() if t.isRunning()]

