"""The reader hands mapped pages behind its position back to the OS (``release_behind``).

Payload slices must stay valid (a released page is faulted in again from the file), and
the pages of the map resident in this process must stay bounded while a large file is read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload, encode_record_batch
from viewer.log.messages import ArrowMsg, StoreId, StoreKind
from viewer.log.reader import RrdReader
from viewer.log.writer import RrdWriter

STORE = StoreId(StoreKind.RECORDING, "release", "release_tests")
MB = 1 << 20


def _batch(i: int, rng: np.random.Generator) -> pa.RecordBatch:
    fields = [
        pa.field("rerun.controls.RowId", pa.binary(16), metadata={"rerun:kind": "control"}),
        pa.field("frame", pa.int64(), metadata={"rerun:kind": "index",
                                                "rerun:index_name": "frame"}),
        pa.field("Blob:data", pa.list_(pa.uint8()), metadata={"rerun:kind": "data"}),
    ]
    blob = rng.integers(0, 255, 256 * 1024, dtype=np.uint8)  # 256 KiB, incompressible
    arrays = [pa.array([i.to_bytes(16, "big")], type=pa.binary(16)),
              pa.array([i], type=pa.int64()),
              pa.ListArray.from_arrays(pa.array([0, len(blob)], type=pa.int32()),
                                       pa.array(blob))]
    return pa.RecordBatch.from_arrays(
        arrays, schema=pa.schema(fields, metadata={"rerun:entity_path": "/blob"}))


@pytest.fixture(scope="module", params=[False, True], ids=["raw", "lz4"])
def big_rrd(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("release") / f"big_{request.param}.rrd"
    rng = np.random.default_rng(3)
    with RrdWriter(path, footer=False) as w:
        for i in range(160):  # ~40 MB
            w.write(encode_record_batch(_batch(i, rng), STORE, compress=request.param))
    return path


def _mapped_rss(path: Path) -> int:
    """Bytes of ``path``'s mappings resident in this process (Linux smaps)."""
    total = 0
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not line.startswith(" "):
                inside = line.rstrip().endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(head[1]) * 1024
    return total


def test_payloads_stay_valid_after_their_pages_were_released(big_rrd: Path) -> None:
    with RrdReader(big_rrd, release_behind=None) as keep:
        expected = [decode_arrow_payload(m).column(2) for m in keep.messages()
                    if isinstance(m, ArrowMsg)]
    with RrdReader(big_rrd, release_behind=MB) as reader:
        msgs = [m for m in reader.messages() if isinstance(m, ArrowMsg)]
        assert reader._released > 30 * MB  # pages behind the cursor were handed back
        # decoded only now, after release: every payload is re-read from the page cache
        got = [decode_arrow_payload(m).column(2) for m in msgs]
    assert len(got) == len(expected) == 160
    for a, b in zip(got, expected, strict=True):
        assert a.equals(b)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MADV_DONTNEED + smaps")
def test_resident_map_pages_stay_bounded(big_rrd: Path) -> None:
    size = big_rrd.stat().st_size
    peaks = {}
    for behind in (None, 4 * MB):
        with RrdReader(big_rrd, release_behind=behind) as reader:
            peak = 0
            for i, msg in enumerate(reader.messages()):
                if isinstance(msg, ArrowMsg):
                    # touch every page of the payload, as decoding or drawing it does
                    int(np.frombuffer(msg.payload, dtype=np.uint8)[::1024].sum())
                if i % 8 == 0:
                    peak = max(peak, _mapped_rss(big_rrd))
            peaks[behind] = peak
    assert peaks[None] > 0.8 * size  # without release every page read stays resident
    assert peaks[4 * MB] < 4 * MB + 2 * (4 << 20) + MB  # lag + release step + one message


def test_from_bytes_never_releases_the_callers_memory(big_rrd: Path) -> None:
    data = big_rrd.read_bytes()
    reader = RrdReader.from_bytes(data)
    reader.release_behind = MB  # ignored: not our map
    n = sum(1 for _ in reader.messages())
    assert n > 100 and reader._released == 0
    assert data == big_rrd.read_bytes()  # untouched (DONTNEED on heap would zero it)
