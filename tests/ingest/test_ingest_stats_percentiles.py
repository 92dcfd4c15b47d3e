"""`Ring.summary` computes p50/p99 itself (np.percentile would import numpy.ma at start-up):
it must agree with np.percentile's default (linear) method."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.ingest.stats import Ring


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 1001])
def test_ring_percentiles_match_numpy(n: int) -> None:
    values = np.random.default_rng(n).exponential(5.0, n)
    ring = Ring(2048)
    for v in values:
        ring.add(float(v))
    got = ring.summary()
    p50, p99 = np.percentile(values, [50, 99])
    assert got["p50"] == pytest.approx(p50, abs=1e-9)
    assert got["p99"] == pytest.approx(p99, abs=1e-9)
    assert got["max"] == values.max() and got["n"] == n
