"""Shared helpers for the main-window tests (fixtures live in the test modules)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from viewer.demo import build_chunk, demo_messages, demo_store_id
from viewer.log.arrow import encode_record_batch
from viewer.log.messages import SetStoreInfo, StoreId, StoreInfo, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.log.writer import RrdWriter


def write_many_chunks(path: Path, n_chunks: int, rows: int = 4, recording_id: str = "many") -> StoreId:
    """A recording of ``n_chunks`` small scalar chunks on 8 entities: slow enough to load
    that a test can act while it is still loading."""
    store_id = StoreId(StoreKind.RECORDING, recording_id, "ui_window_tests")
    ids = TuidGenerator(1_700_000_000_000_000_000)
    with RrdWriter(path, footer=False) as writer:
        writer.write(SetStoreInfo(StoreInfo(store_id)))
        for i in range(n_chunks):
            frames = list(range(i * rows, (i + 1) * rows))
            values = pa.array([[float(np.sin(f / 10))] for f in frames], pa.list_(pa.float64()))
            batch = build_chunk(ids, f"/signals/s{i % 8}", frames, None,
                                [("Scalars", "scalars", "Scalar", values)])
            writer.write(encode_record_batch(batch, store_id))
    return store_id


class StreamFeeder:
    """Submits demo recordings to a hub stream from a thread until stopped (live ingestion)."""

    def __init__(self, hub, name: str = "feeder") -> None:  # noqa: ANN001
        self.source = hub.open_stream(name)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-stream-feeder")

    def _run(self) -> None:
        """One live recording, sent again and again (new chunk ids each round)."""
        from viewer.ingest.sources import SourceClosed

        sid = demo_store_id("live-feed")
        start = 1_700_000_000_000_000_000
        try:
            while not self._stop.is_set():
                for msg in demo_messages(sid, start_ns=start, frames=60):
                    if self._stop.is_set():
                        break
                    self.source.submit(msg)
                    self.sent += 1
                    time.sleep(0.002)
                start += 1_000_000_000
        except SourceClosed:
            pass

    def __enter__(self) -> StreamFeeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.source.finish()
