"""`AppendBuffer`: the rows appended, in order, whatever the sizes; old views stay valid;
the move to a bigger buffer is spread over the appends."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.store.append_buffer import AppendBuffer


@pytest.mark.parametrize("sizes", [[1] * 5000, [7, 1, 3000, 2, 2, 9000, 1, 40_000, 5],
                                   [100_000], [0, 0, 3, 0]])
def test_appends_read_back_in_order_and_old_views_stay_valid(sizes):
    rng = np.random.default_rng(len(sizes))
    buf = AppendBuffer(np.int64)
    expected = np.empty(0, dtype=np.int64)
    views = []
    for k in sizes:
        part = rng.integers(-1 << 40, 1 << 40, k)
        buf.append(part)
        expected = np.concatenate([expected, part])
        v = buf.view()
        assert not v.flags.writeable
        np.testing.assert_array_equal(v, expected)
        views.append((v, expected.copy()))
    for v, want in views:  # appends never wrote into rows an earlier view shows
        np.testing.assert_array_equal(v, want)


def test_no_append_copies_more_than_a_few_times_its_own_size():
    """The move to a bigger buffer happens a bit per append: each append touches at most
    its own rows plus twice as many old ones (plus one final catch-up, never needed here)."""
    buf = AppendBuffer(np.float64, capacity=1024)
    copied_at_move = []
    original = AppendBuffer._move

    def spy(self, needed):  # noqa: ANN001
        copied_at_move.append(self._n - (self._copied if self._next is not None else 0))
        original(self, needed)

    AppendBuffer._move = spy
    try:
        for i in range(2000):
            buf.append(np.full(100, float(i)))
    finally:
        AppendBuffer._move = original
    assert len(buf) == 200_000 and buf.capacity >= 200_000
    assert copied_at_move and max(copied_at_move) == 0  # each switch found the copy done
    np.testing.assert_array_equal(buf.view()[::100], np.arange(2000, dtype=np.float64))


def test_of_takes_an_array_over_and_grows_from_it():
    base = np.arange(10, dtype=np.int64)
    base.flags.writeable = False  # e.g. a view of an immutable Arrow buffer
    buf = AppendBuffer.of(base)
    buf.append(np.array([10, 11]))
    np.testing.assert_array_equal(buf.view(), np.arange(12))
    np.testing.assert_array_equal(base, np.arange(10))  # never written to
