"""The UI gate: closed while the UI thread works, open when it is idle, never held too long."""

from __future__ import annotations

import threading
import time

from viewer.ingest import IngestHub
from viewer.ingest.ui_gate import UiGate


def test_gate_blocks_until_opened_and_never_longer_than_its_hold():
    gate = UiGate(max_hold_s=0.2)
    assert gate.is_set()
    gate.clear()
    assert not gate.is_set()
    assert not gate.wait(0.01)  # still closed
    opened = []
    t = threading.Thread(target=lambda: opened.append(gate.wait(5.0)))
    t.start()
    time.sleep(0.02)
    gate.set()
    t.join(2)
    assert opened == [True] and gate.is_set()

    gate.clear()
    t0 = time.monotonic()
    assert gate.wait(5.0)  # nobody opens it: the hold runs out
    held = time.monotonic() - t0
    assert 0.15 <= held < 2.0
    assert gate.is_set()  # a gate closed too long counts as open
    gate.clear()  # closing it again (the next frame) starts a new hold
    assert not gate.is_set()
    closed_at = gate._closed_at
    gate.clear()  # closing a closed gate does not extend its hold
    assert gate._closed_at == closed_at


def test_frame_tick_keeps_the_gate_closed_until_the_events_it_posted_ran(qtbot):
    hub = IngestHub()
    hub.start()
    try:
        gate = hub.state.ui_gate
        assert gate.is_set()
        hub.frame_driver.tick()  # as the frame timer does
        assert not gate.is_set()  # background threads wait while the UI handles its events
        qtbot.waitUntil(gate.is_set, timeout=1000)  # the event loop ran: open again
        hub.hold_background()  # heavy UI work outside a tick (a queued redraw) holds it too
        assert not gate.is_set()
        qtbot.waitUntil(gate.is_set, timeout=1000)
        hub.frame_driver.stop()
        assert gate.is_set()
    finally:
        hub.shutdown()


def test_pause_blocks_while_closed_and_ends_when_the_thread_is_stopped():
    gate = UiGate(max_hold_s=5.0)
    gate.clear()
    stopped = threading.Event()
    done = threading.Event()
    t = threading.Thread(target=lambda: (gate.pause(stopped.is_set), done.set()))
    t.start()
    assert not done.wait(0.1)  # closed: the background thread waits
    stopped.set()  # the thread is being stopped: it does not wait for the UI
    assert done.wait(2.0)
    t.join(2)
    gate.set()
    gate.pause(lambda: False)  # open: returns at once
