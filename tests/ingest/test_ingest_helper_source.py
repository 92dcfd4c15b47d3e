"""Files read through the decode helper process load exactly what the in-process reader
loads: same stores, same rows, same errors in the same places; the ring's space all comes
back; a helper that dies costs nothing but a message; stopping leaves no process behind."""

from __future__ import annotations

import gc
import mmap
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from ingest_helpers import DATA_DIR, latest_at_everything

import viewer.ingest.helper_source as helper_source
from viewer.ingest.decode_process import RingLeases, helper_available
from viewer.ingest.helper_source import HelperFileSource
from viewer.log.decode_helper import TAIL
from viewer.log.helper_launch import small_chunks_first
from viewer.store.summary import summarize

pytestmark = pytest.mark.skipif(not helper_available(), reason="needs Linux, memfd, liblz4")

HELPER = {"decode_helper_min_bytes": 0}  # every file, whatever its size
NO_HELPER = {"decode_helper_min_bytes": None}


def _load(make_hub, path: Path, mode: str = "threaded", **overrides):
    hub = make_hub(mode, **overrides)
    src = hub.open_file(path)
    assert hub.run_until_idle(60)
    return hub, src


def _picture(hub) -> tuple:
    dbs = list(hub.dbs().values())
    return summarize(dbs), [latest_at_everything(db) for db in dbs]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA_DIR.glob("*.rrd")))
def test_every_sample_file_loads_the_same_through_the_helper(make_hub, name):
    hub, src = _load(make_hub, DATA_DIR / name, **NO_HELPER)
    expected = _picture(hub)
    hub2, src2 = _load(make_hub, DATA_DIR / name, **HELPER)
    assert isinstance(src2, HelperFileSource)
    assert not src2.errors and not hub2.errors()
    assert _picture(hub2) == expected
    assert src2.bytes_read == src.bytes_read == src2.total_bytes


def test_a_file_of_small_chunks_loads_the_same_and_gives_the_ring_back(make_hub, small_chunks_rrd):
    hub, _ = _load(make_hub, small_chunks_rrd, **NO_HELPER)
    expected = _picture(hub)
    for mode in ("threaded", "per_store", "pool2"):
        hub2, src = _load(make_hub, small_chunks_rrd, mode, **HELPER)
        assert src.helper is not None, "the helper did not read the file"
        assert src.helper_private_bytes > 0 and src.helper_peak_rss_bytes > 0
        assert not hub2.errors()
        assert _picture(hub2) == expected, mode
        gc.collect()
        assert src.leases is not None and src.leases.outstanding == 0


def test_big_chunks_stay_in_this_process(make_hub, data_dir, tmp_path):
    """A file whose first chunks are big is read here: the helper would only copy them."""
    import rerun as rr

    path = tmp_path / "clouds.rrd"
    rec = rr.RecordingStream("clouds", recording_id="big")
    rec.save(str(path))
    rng = np.random.default_rng(1)
    for i in range(4):
        rec.set_time("frame", sequence=i)
        rec.log("cloud", rr.Points3D(rng.normal(size=(40_000, 3)).astype(np.float32)))
    rec.flush()
    rec.disconnect()
    assert not small_chunks_first(path)
    assert small_chunks_first(data_dir / "scalars.rrd")
    assert not small_chunks_first(data_dir / "README.md")  # not an .rrd
    hub, src = _load(make_hub, path, **HELPER)
    assert src.helper is None
    (store,) = summarize(list(hub.dbs().values()))["stores"]
    assert store["entities"]["/cloud"]["rows"] == 4


def test_a_damaged_file_gives_the_same_errors_in_the_same_places(make_hub, small_chunks_rrd, tmp_path):
    data = bytearray(small_chunks_rrd.read_bytes())
    third = len(data) // 3
    data[third:third + 40] = b"\x5a" * 40
    path = tmp_path / "damaged.rrd"
    path.write_bytes(bytes(data[:-77]))
    # (the reader's and the decoders' errors come from different threads: their order in
    # the hub's list is a race in either mode)
    hub, src = _load(make_hub, path, **NO_HELPER)
    expected = _picture(hub), sorted((e.offset, e.message) for e in hub.errors())
    hub2, src2 = _load(make_hub, path, **HELPER)
    assert src2.helper is not None
    assert (_picture(hub2), sorted((e.offset, e.message) for e in hub2.errors())) == expected
    assert sorted((e.offset, e.message) for e in src2.errors) == sorted(
        (e.offset, e.message) for e in src.errors)
    assert expected[1], "the damage went unnoticed: the test does not test anything"


def test_a_helper_that_dies_costs_a_message_and_nothing_else(make_hub, small_chunks_rrd, monkeypatch):
    hub, _ = _load(make_hub, small_chunks_rrd, **NO_HELPER)
    expected = _picture(hub)
    real = helper_source.read_frames

    def frames_then_kill(stream):
        frames = real(stream)
        yield next(frames)
        src = sources[0]
        src.helper.kill()
        yield from frames

    sources: list = []
    monkeypatch.setattr(helper_source, "read_frames", frames_then_kill)
    hub2 = make_hub("threaded", **HELPER)
    sources.append(hub2.open_file(small_chunks_rrd))
    assert hub2.run_until_idle(60)
    errors = [e.message for e in hub2.errors()]
    assert len(errors) == 1 and "decode helper stopped" in errors[0], errors
    assert _picture(hub2) == expected


def test_shutting_down_mid_file_stops_the_helper(make_hub, small_chunks_rrd, qtbot):
    hub = make_hub("threaded", **HELPER)
    src = hub.open_file(small_chunks_rrd)
    qtbot.waitUntil(lambda: src.helper is not None or src.finished, timeout=10_000)
    hub.shutdown()
    helper = src.helper
    if helper is not None:
        assert not helper.alive()
        with pytest.raises(ChildProcessError):
            os.waitpid(helper.proc.pid, os.WNOHANG)  # reaped: no zombie left


def test_leases_give_the_oldest_contiguous_space_back_in_steps():
    ring = mmap.mmap(-1, 1 << 16)
    r, w = os.pipe()
    os.set_blocking(w, False)
    leases = RingLeases(ring, w)  # reports every 4 KiB
    step = leases.report_step
    bufs = [leases.lease(end, step) for end in range(step, 6 * step, step)]
    del bufs[1]  # out of order: nothing comes back yet
    assert leases.tail == 0 and leases.outstanding == 4
    del bufs[0]  # the first two now
    assert leases.tail == 2 * step
    assert TAIL.unpack(os.read(r, 8)) == (2 * step,)
    gone = threading.Thread(target=bufs.clear)  # leases may end on any thread
    gone.start()
    gone.join()
    assert leases.tail == 5 * step and leases.outstanding == 0
    assert TAIL.unpack(os.read(r, 8)) == (5 * step,)
    leases.close()
    os.close(r)


def test_with_every_helper_slot_taken_a_file_is_read_here(make_hub, small_chunks_rrd, monkeypatch):
    monkeypatch.setattr(helper_source, "_SLOTS", threading.BoundedSemaphore(1))
    assert helper_source._SLOTS.acquire(blocking=False)  # another file's helper
    try:
        hub, src = _load(make_hub, small_chunks_rrd, **HELPER)
    finally:
        helper_source._SLOTS.release()
    assert isinstance(src, HelperFileSource) and src.helper is None
    hub2, _ = _load(make_hub, small_chunks_rrd, **NO_HELPER)
    assert _picture(hub) == _picture(hub2)
