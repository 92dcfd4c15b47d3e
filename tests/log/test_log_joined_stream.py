"""`JoinedStream`: runs of IPC streams assembled in one buffer that is reused only when
nothing points into it any more."""

from __future__ import annotations

import pyarrow as pa
import pytest

from viewer.log.arrow import read_single_batch
from viewer.log.joined_stream import JoinedStream, StreamFramingError


def _address(table: pa.Table) -> int:
    return table.column(1).chunk(0).buffers()[1].address


def test_the_buffer_is_reused_once_the_run_was_combined(sin_streams) -> None:
    streams = sin_streams
    joined = JoinedStream()
    for data in streams[:2]:
        joined.add(data)
    assert joined.parts == 2 and joined.part_bytes == streams[0].size + streams[1].size
    first = joined.read()
    combined = first.combine_chunks()
    want = pa.concat_arrays([read_single_batch(d).column(1) for d in streams[:2]])
    assert combined.column(1).chunk(0).equals(want)
    where = _address(first)
    del first
    joined.release(combined.column(i).chunk(0) for i in range(combined.num_columns))
    assert joined.parts == 0 and joined.part_bytes == 0
    for data in streams[1:3]:
        joined.add(data)
    second = joined.read()
    assert _address(second) == where  # the same memory, a new run in it
    assert combined.column(1).chunk(0).equals(want)  # what was combined is untouched


def test_a_run_still_pointed_into_keeps_its_buffer(sin_streams) -> None:
    streams = sin_streams
    joined = JoinedStream()
    for data in streams[:2]:
        joined.add(data)
    table = joined.read()
    kept = [table.column(i).chunk(0) for i in range(table.num_columns)]  # not combined
    before = [pa.concat_arrays([a, a.slice(0, 0)]) for a in kept]  # copies
    joined.release(kept)
    for data in reversed(streams):  # a new run that would overwrite the old one
        joined.add(data)
    assert _address(joined.read()) != kept[1].buffers()[1].address
    assert all(a.equals(b) for a, b in zip(kept, before, strict=True))


def test_one_part_comes_back_as_a_stream_of_its_own(sin_streams) -> None:
    (data, *_) = sin_streams
    joined = JoinedStream()
    joined.add(data)
    single = joined.single()
    assert single.to_pybytes() == data.to_pybytes()
    joined.add(data)  # two parts now: no single stream
    with pytest.raises(StreamFramingError):
        joined.single()


def test_a_badly_framed_part_is_refused_and_leaves_the_run_as_it_was(sin_streams) -> None:
    streams = sin_streams
    joined = JoinedStream()
    joined.add(streams[0])
    with pytest.raises(StreamFramingError, match="end-of-stream"):
        joined.add(pa.py_buffer(streams[1].to_pybytes()[:-8]))
    with pytest.raises(StreamFramingError, match="schema framing"):
        joined.add(pa.py_buffer(b"\x00" * 16))
    joined.add(streams[1])
    assert joined.read().num_rows == sum(read_single_batch(d).num_rows for d in streams[:2])


def test_the_buffer_grows_for_a_run_bigger_than_it(sin_streams) -> None:
    streams = sin_streams
    joined = JoinedStream()
    total = 0
    while total < (3 << 20):  # past the first 1 MiB buffer
        for data in streams:
            joined.add(data)
            total += data.size
    table = joined.read()
    assert table.column(0).num_chunks == joined.parts
    assert table.num_rows == joined.parts // len(streams) * sum(
        read_single_batch(d).num_rows for d in streams)
