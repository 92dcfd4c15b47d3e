"""Property tests: cut, flip and splice bytes of real files; the reader must cope.

Whatever the damage, the reader never raises out of its API, always terminates, and returns
every message that lies entirely before the first damaged byte, unchanged and in order.
"""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viewer.log.arrow import ArrowDecodeError, decode_arrow_payload
from viewer.log.messages import ArrowMsg
from viewer.log.reader import ReadError, RrdReader

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: no flaky CI
    suppress_health_check=[HealthCheck.too_slow],
)


def _key(msg) -> tuple:
    if isinstance(msg, ArrowMsg):
        return ("arrow", msg.store_id, msg.chunk_id, msg.is_static, bytes(msg.payload))
    return (type(msg).__name__, msg)


class Original:
    """A real file and where each of its messages starts and ends."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.spans: list[tuple[int, int, tuple]] = []
        reader = RrdReader.from_bytes(data)
        for offset, msg in reader.entries():
            (length,) = struct.unpack_from("<Q", data, offset + 8)
            self.spans.append((offset, offset + 16 + length, _key(msg)))
        assert reader.errors == [] and self.spans

    def intact_before(self, damage: int) -> list[tuple]:
        return [key for _start, end, key in self.spans if end <= damage]

    def intact_after(self, damage_end: int) -> list[tuple]:
        return [key for start, _end, key in self.spans if start >= damage_end]


@pytest.fixture(scope="module")
def original(sdk_files) -> Original:
    # two streams back to back (one without footer): damage can hit either or the seam
    return Original(sdk_files["no_footer"].read_bytes() + sdk_files["second"].read_bytes())


def _read(data: bytes) -> tuple[list[tuple], list[ReadError]]:
    reader = RrdReader.from_bytes(data, source="fuzz.rrd")
    msgs = list(reader.messages())
    assert reader.bytes_read == reader.total_bytes == len(data)
    for msg in msgs:  # decoding damaged payloads fails cleanly or succeeds
        if isinstance(msg, ArrowMsg):
            with contextlib.suppress(ArrowDecodeError):
                decode_arrow_payload(msg)
    assert all(isinstance(e, ReadError) and e.source == "fuzz.rrd" for e in reader.errors)
    return [_key(m) for m in msgs], reader.errors


@FUZZ
@given(cut=st.integers(min_value=0, max_value=1 << 30))
def test_cut_anywhere(original: Original, cut: int) -> None:
    cut %= len(original.data) + 1
    keys, errors = _read(original.data[:cut])
    assert keys == original.intact_before(cut)
    ends = {0, len(original.data)} | {end for _s, end, _k in original.spans}
    if cut in ends and cut > 0:
        assert errors == []
    else:
        assert len(errors) == 1  # the cut is reported once


@FUZZ
@given(
    where=st.integers(min_value=0, max_value=1 << 30),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flip_one_byte(original: Original, where: int, mask: int) -> None:
    data = bytearray(original.data)
    where %= len(data)
    data[where] ^= mask
    keys, _errors = _read(bytes(data))
    before = original.intact_before(where)
    assert keys[: len(before)] == before
    # the framing recovers: every message after the damaged one comes back too
    hit_end = next((end for start, end, _k in original.spans if start <= where < end), where + 1)
    after = original.intact_after(hit_end)
    if where >= 12 and after:  # a broken first stream header means "not an .rrd file"
        assert keys[len(keys) - len(after) :] == after


@FUZZ
@given(
    index=st.integers(min_value=0, max_value=1 << 30),
    byte=st.integers(min_value=0, max_value=15),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flip_a_message_header(original: Original, index: int, byte: int, mask: int) -> None:
    """Damaged framing (kind or length) loses at most that message."""
    start, end, _key_ = original.spans[index % len(original.spans)]
    data = bytearray(original.data)
    data[start + byte] ^= mask
    keys, _errors = _read(bytes(data))
    before, after = original.intact_before(start), original.intact_after(end)
    assert keys[: len(before)] == before
    if after:
        assert keys[len(keys) - len(after) :] == after
    assert len(keys) >= len(before) + len(after)


@FUZZ
@given(
    where=st.integers(min_value=0, max_value=1 << 30),
    op=st.sampled_from(["insert", "delete", "duplicate"]),
    size=st.integers(min_value=1, max_value=300),
    junk=st.binary(min_size=1, max_size=300),
)
def test_splice(original: Original, where: int, op: str, size: int, junk: bytes) -> None:
    data = original.data
    where %= len(data)
    if op == "insert":
        damaged = data[:where] + junk + data[where:]
    elif op == "delete":
        damaged = data[:where] + data[where + size :]
    else:
        damaged = data[:where] + data[max(0, where - size) : where] + data[where:]
    keys, _errors = _read(damaged)
    before = original.intact_before(where)
    assert keys[: len(before)] == before


@FUZZ
@given(i=st.integers(min_value=0, max_value=1 << 30), j=st.integers(min_value=0, max_value=1 << 30))
def test_two_files_spliced_at_random_points(original: Original, sdk_files, i: int, j: int) -> None:
    other = sdk_files["plain"].read_bytes()
    i %= len(original.data) + 1
    j %= len(other)
    keys, _errors = _read(original.data[:i] + other[j:])
    before = original.intact_before(i)
    assert keys[: len(before)] == before
