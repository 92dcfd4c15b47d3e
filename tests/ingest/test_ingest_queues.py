"""`BoundedQueue`: bounds by count and bytes, blocking put, never a deadlock."""

from __future__ import annotations

import threading
import time

import pytest

from viewer.ingest.queues import BoundedQueue, QueueClosed


def test_ingest_queue_bounds_by_count_and_bytes():
    q = BoundedQueue(max_items=3, max_bytes=100)
    assert q.try_put("a", 40) and q.try_put("b", 40)
    assert not q.try_put("c", 40)  # bytes: 120 > 100
    assert q.try_put("c", 20)
    assert not q.try_put("d", 0)  # count
    assert (len(q), q.nbytes) == (3, 100)
    assert q.take_many(2) == ["a", "b"] and q.nbytes == 20
    assert q.take() == "c" and q.take() is None and q.take_many(5) == []
    assert q.peak_bytes == 100 and q.peak_items == 3 and q.total_put == 3


def test_ingest_queue_accepts_oversized_item_when_empty():
    q = BoundedQueue(max_items=10, max_bytes=10)
    assert q.put("huge", 1000, timeout=0.1)
    assert not q.put("next", 1, timeout=0.05)  # full now: times out instead of deadlocking
    assert q.take() == "huge"
    assert q.put("next", 1, timeout=0.05)


def test_ingest_queue_put_blocks_until_space_and_keeps_order():
    q = BoundedQueue(max_items=2, max_bytes=1 << 20)
    got: list[int] = []

    def producer():
        for i in range(50):
            q.put(i, 10)

    t = threading.Thread(target=producer)
    t.start()
    deadline = time.monotonic() + 5
    while len(got) < 50 and time.monotonic() < deadline:
        got.extend(q.take_many(1))
        time.sleep(0.0005)
    t.join()
    assert got == list(range(50))
    assert q.blocked_s > 0 and q.peak_items == 2


def test_ingest_queue_close_wakes_blocked_producer():
    q = BoundedQueue(max_items=1, max_bytes=100)
    q.put("x", 1)
    errors: list[BaseException] = []

    def producer():
        try:
            q.put("y", 1)
        except QueueClosed as exc:
            errors.append(exc)

    t = threading.Thread(target=producer)
    t.start()
    time.sleep(0.05)
    assert t.is_alive()
    q.close()
    t.join(2)
    assert not t.is_alive() and len(errors) == 1
    assert len(q) == 0 and q.nbytes == 0
    with pytest.raises(QueueClosed):
        q.try_put("z", 1)
