"""A sender cannot make us allocate what it only claims: an LZ4 chunk claiming more than
the memory limit once decompressed is refused before anything is allocated, and claims
count in the queue byte bounds."""

from __future__ import annotations

import os

import psutil
import pytest

from viewer.log.messages import (
    ArrowMsg,
    Compression,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
)

LIMIT = 300 * 1024 * 1024
CLAIM = 510 * 1024 * 1024  # within the 255x LZ4 ratio of a 2 MiB payload


@pytest.mark.parametrize("mode", ["threaded", "web"])
def test_a_claim_larger_than_the_memory_limit_is_refused_unallocated(make_hub, mode):
    hub = make_hub(mode, memory_limit_bytes=LIMIT)
    hub.start()
    rss0 = psutil.Process(os.getpid()).memory_info().rss
    peak = rss0
    sources = []
    for k in range(4):  # four streams, three claims each
        sid = StoreId(StoreKind.RECORDING, f"claims-{k}", "attack")
        src = hub.open_stream(f"attacker {k}")
        src.submit(SetStoreInfo(StoreInfo(sid)))
        for _ in range(3):
            src.submit(ArrowMsg(sid, Compression.LZ4, CLAIM, os.urandom(2 << 20)))
            peak = max(peak, psutil.Process(os.getpid()).memory_info().rss)
        src.finish()
        sources.append(src)
    assert hub.run_until_idle(20)
    peak = max(peak, psutil.Process(os.getpid()).memory_info().rss)
    for src in sources:
        assert len(src.errors) == 3
        assert all("claims 535 MB" in e.message and "memory limit (315 MB)" in e.message
                   for e in src.errors), src.errors
    # 12 claims of 510 MiB: had any been allocated, RSS would have grown by gigabytes.
    assert peak - rss0 < 200 * 1024 * 1024, (peak - rss0) / 2**20
