"""Big payloads are decompressed by whichever thread gets there first: a source blocked on a
full inbox helps with the newest queued job, the worker with the oldest, each job runs once,
and the store is the same as a direct read."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest
from ingest_helpers import latest_at_everything, sdk_recording

from viewer.ingest.decompress_jobs import DecompressJob, JobBoard
from viewer.ingest.queues import BoundedQueue
from viewer.ingest.state import IngestState
from viewer.ingest.worker import IngestionWorker
from viewer.log import arrow
from viewer.log.arrow import ArrowDecodeError, decompress_payload, is_big_lz4
from viewer.log.messages import ArrowMsg, Compression, StoreId
from viewer.log.reader import read_rrd
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb

CLOUDS = 5
POINTS = 120_000  # 1.4 MB of positions: over the job threshold once decompressed


def _write_clouds(path: Path) -> None:
    """Point clouds the way Rerun's examples log them: one `rr.log` per frame."""
    import rerun as rr

    rec = rr.RecordingStream("job_tests", recording_id="clouds")
    rec.save(str(path))
    rng = np.random.default_rng(11)
    for frame in range(CLOUDS):
        rec.set_time("frame", sequence=frame)
        rec.log("world/cloud", rr.Points3D(rng.standard_normal((POINTS, 3)).astype(np.float32),
                                           radii=0.01))
        rec.flush()  # one chunk per cloud (the batcher would join small ones)
    rec.flush()
    rec.disconnect()


@pytest.fixture(scope="module")
def clouds_rrd(rerun_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sdk_recording(tmp_path_factory, "clouds.rrd", _write_clouds)


def _big_messages(path: Path) -> list[ArrowMsg]:
    msgs, errors = read_rrd(path)
    assert not errors
    big = [m for m in msgs if isinstance(m, ArrowMsg) and is_big_lz4(m)]
    assert len(big) == CLOUDS and all(m.compression == Compression.LZ4 for m in big)
    return big


def test_a_job_runs_once_and_gives_what_a_direct_decompress_gives(clouds_rrd):
    msg = _big_messages(clouds_rrd)[0]
    job = DecompressJob(msg)
    assert job.try_run() and job.done
    assert not job.try_run()  # never twice
    data, _ = job.take()
    expected, _ = decompress_payload(msg)
    assert data.equals(expected)
    # a job nobody ran is run by `take` itself
    data2, owned = DecompressJob(msg).take()
    assert data2.equals(expected) and owned is not None


def test_a_corrupt_payload_raises_from_take_on_the_taking_thread(clouds_rrd):
    msg = _big_messages(clouds_rrd)[0]
    raw = bytes(msg.payload)
    bad = dataclasses.replace(msg, payload=memoryview(raw[:64] + bytes(len(raw) - 64)))
    job = DecompressJob(bad)
    assert job.try_run()  # the helping thread records the error, does not raise it
    with pytest.raises(ArrowDecodeError, match="LZ4"):
        job.take()


def test_the_board_helps_with_the_newest_job_first_and_forgets_finished_ones(clouds_rrd):
    msgs = _big_messages(clouds_rrd)
    board = JobBoard()
    jobs = [DecompressJob(m) for m in msgs[:3]]
    for job in jobs:
        board.add(job)
    assert board.help_one() and [j.done for j in jobs] == [False, False, True]
    jobs[0].take()  # the worker runs the oldest itself
    assert board.help_one() and jobs[1].done
    assert not board.help_one()  # nothing left
    board.add(DecompressJob(msgs[3]))
    assert len(board) == 1  # finished jobs at the front were dropped


def test_a_full_queue_lets_the_producer_help_before_it_waits():
    q = BoundedQueue(max_items=1, max_bytes=100)
    q.put("first", 1)
    calls: list[int] = []

    def help_while_full() -> bool:
        calls.append(len(q))
        if len(calls) == 2:
            q.take()  # what a worker would do meanwhile: room appears
        return True

    assert q.put("second", 1, help_while_full=help_while_full)
    assert calls == [1, 1] and q.take() == "second"


def test_a_blocked_source_decompresses_the_queued_big_payload(clouds_rrd):
    """Routing with the inbox full: the source thread runs the queued message's job while
    it waits, then the worker's decode uses that result."""
    msgs = _big_messages(clouds_rrd)
    workers: list[IngestionWorker] = []

    def create(sid: StoreId) -> IngestionWorker:
        from ingest_helpers import settings_for

        worker = IngestionWorker(sid, settings_for("threaded", queue_max_messages=1))
        workers.append(worker)
        return worker

    state = IngestState(create, memory_limit_bytes=None)

    class Src:
        kind, name, finished, messages_sent, dropped_messages = "file", "clouds", False, 0, 0
        errors: list = []
        store_ids: list = []

        def sends_to(self, _sid): ...
        def ignores(self, _sid): return False
        def ignore(self, _sid): ...

    src = Src()
    assert state.route(src, msgs[0], 0, 0.0, block=True)
    (worker,) = workers
    first = worker.inbox.take()
    worker.inbox.force_put(first, 1)  # back in the inbox, which is now full (one message)
    assert first.job is not None and not first.job.done
    sender = threading.Thread(target=state.route, args=(src, msgs[1], 0, 0.0),
                              kwargs={"block": True})
    sender.start()
    try:
        # wait for the condition (the job done, or the sender gone), not for a fixed time
        wake = threading.Event()
        for _ in range(30_000):
            if first.job.done or not sender.is_alive():
                break
            wake.wait(0.001)
        assert first.job.done  # run by the blocked sender: no worker runs here
        assert worker.inbox.take() is first  # room: the sender can go on
        sender.join(30)
        assert not sender.is_alive()
        second = worker.inbox.take()
        assert second.msg is msgs[1] and second.job is not None
        data, _ = first.job.take()
        assert data.equals(decompress_payload(msgs[0])[0])
    finally:
        worker.abort()  # wakes a sender still blocked (QueueClosed)
        sender.join(30)
    assert len(worker.decompress_jobs) == 0


@pytest.mark.skipif(not arrow._native_calls(), reason="no liblz4 / MADV_POPULATE_WRITE here")
@pytest.mark.parametrize("queue_max_bytes", [1, 16 << 20])
def test_clouds_load_as_a_direct_read_whoever_decompresses(make_hub, clouds_rrd,
                                                           queue_max_bytes):
    hub = make_hub("threaded", queue_max_bytes=queue_max_bytes)
    src = hub.open_file(clouds_rrd)
    assert hub.run_until_idle(60)
    assert not src.errors and not hub.errors()
    msgs, _ = read_rrd(clouds_rrd)
    store_id = _big_messages(clouds_rrd)[0].store_id
    direct = EntityDb(store_id)
    for m in msgs:
        if isinstance(m, ArrowMsg):
            direct.add_chunk(Chunk.from_record_batch(arrow.decode_arrow_payload(m),
                                                     is_static=m.is_static))
    assert latest_at_everything(hub.db(store_id)) == latest_at_everything(direct)
