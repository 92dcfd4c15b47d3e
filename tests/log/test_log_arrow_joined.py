"""`read_joined_table`: several one-batch IPC streams read as one table."""

from __future__ import annotations

import pyarrow as pa
import pytest

from viewer.log.arrow import (
    ArrowDecodeError,
    read_joined_table,
    read_single_batch,
)


def test_joined_streams_read_the_same_batches(sin_streams) -> None:
    streams = sin_streams
    assert len(streams) >= 3
    joined = read_joined_table(streams).to_batches()
    assert len(joined) == len(streams)
    for got, data in zip(joined, streams, strict=True):
        want = read_single_batch(data)
        assert got.num_rows == want.num_rows
        for name in want.schema.names:
            assert got.column(name).equals(want.column(name)), name
    # every batch carries the first stream's schema, its chunk id included
    first = read_single_batch(streams[0]).schema.metadata[b"rerun:id"]
    assert {b.schema.metadata[b"rerun:id"] for b in joined} == {first}


def test_streams_that_are_not_framed_as_expected_are_refused(sin_streams) -> None:
    streams = sin_streams
    no_end = pa.py_buffer(streams[1].to_pybytes()[:-8])
    with pytest.raises(ArrowDecodeError, match="end-of-stream"):
        read_joined_table([streams[0], no_end])
    with pytest.raises(ArrowDecodeError, match="schema framing"):
        read_joined_table([streams[0], pa.py_buffer(b"\x00" * 16)])
    two = streams[1].to_pybytes()
    body = two[: -8]
    schema_end = 8 + int.from_bytes(two[4:8], "little")
    doubled = pa.py_buffer(body + two[schema_end:])  # two batch messages in one stream
    with pytest.raises(ArrowDecodeError, match="batches in a run"):
        read_joined_table([streams[0], doubled])
