"""Cyclic garbage is collected on the UI thread while a hub runs (never on worker threads)."""

from __future__ import annotations

import gc
import threading

from viewer.ingest.gc_tuning import UiThreadGc
from viewer.ingest.hub import IngestHub
from viewer.ingest.settings import IngestSettings


class _Cycle:
    """A reference cycle whose finalizer records the thread that collected it."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_ui_thread_gc_disables_automatic_collection_and_restores_it():
    assert gc.isenabled()
    a, b = UiThreadGc(), UiThreadGc()
    a.acquire()
    b.acquire()
    assert not gc.isenabled()
    a.release()
    assert not gc.isenabled()  # another holder remains
    b.release()
    assert gc.isenabled()


def test_cycles_made_on_a_worker_thread_are_collected_on_the_ui_thread(qtbot, data_dir):
    hub = IngestHub(IngestSettings())
    seen: list[str] = []
    try:
        hub.start()
        assert not gc.isenabled()

        def make_garbage() -> None:  # far past the gen-0 threshold, on a non-UI thread
            for _ in range(5 * gc.get_threshold()[0]):
                _Cycle(seen)

        t = threading.Thread(target=make_garbage, name="garbage-maker")
        t.start()
        t.join()
        assert seen == []  # nothing was collected on the worker thread
        hub.open_file(data_dir / "scalars.rrd")
        qtbot.waitUntil(lambda: len(seen) > 0, timeout=5000)
        assert set(seen) == {threading.current_thread().name}
    finally:
        hub.shutdown()
    assert gc.isenabled()
