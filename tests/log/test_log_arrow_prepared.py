"""Big LZ4 payloads decompressed into a buffer faulted in beforehand (`prepare_output`):
same batch as pyarrow's own decompress, data living in that buffer, bad data still an
`ArrowDecodeError`."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from viewer.log import arrow
from viewer.log.arrow import (
    PREPARE_MIN_BYTES,
    ArrowDecodeError,
    decode_arrow_payload,
    decode_arrow_payload_keyed,
    encode_record_batch,
    prepare_output,
)
from viewer.log.messages import Compression, StoreId, StoreKind

STORE = StoreId(StoreKind.RECORDING, "rec", "app")

needs_native = pytest.mark.skipif(not arrow._native_calls(),
                                  reason="no liblz4 / MADV_POPULATE_WRITE here")


def _big_batch(values: int, seed: int = 3) -> pa.RecordBatch:
    rng = np.random.default_rng(seed)
    flat = pa.array(rng.standard_normal(values).astype(np.float32))
    points = pa.ListArray.from_arrays(pa.array([0, values // 2, values], type=pa.int32()), flat)
    frames = pa.array([1, 2], type=pa.int64())
    schema = pa.schema(
        [pa.field("frame", pa.int64(), metadata={"rerun:kind": "index"}),
         pa.field("Points3D:positions", points.type, metadata={"rerun:kind": "data"})],
        metadata={"rerun:entity_path": "/cloud"})
    return pa.RecordBatch.from_arrays([frames, points], schema=schema)


@needs_native
def test_prepared_decode_equals_pyarrow_decode_and_lives_in_the_buffer() -> None:
    batch = _big_batch(PREPARE_MIN_BYTES // 2)  # 2 MB of float32
    msg = encode_record_batch(batch, STORE)
    assert msg.compression == Compression.LZ4 and msg.uncompressed_size >= PREPARE_MIN_BYTES
    out = prepare_output(msg)
    assert out is not None and out.size == msg.uncompressed_size
    got, key = decode_arrow_payload_keyed(msg, out)
    expected, expected_key = decode_arrow_payload_keyed(msg)
    assert got.equals(expected, check_metadata=True) and got.equals(batch)
    assert key == expected_key and key is not None
    values = got.column(1).values.buffers()[1]
    assert out.address <= values.address < values.address + values.size <= out.address + out.size


@needs_native
def test_corrupt_big_payload_is_an_arrow_decode_error_with_or_without_a_buffer() -> None:
    msg = encode_record_batch(_big_batch(PREPARE_MIN_BYTES // 2), STORE)
    raw = bytearray(msg.payload)
    cut = dataclasses.replace(msg, payload=memoryview(bytes(raw[: len(raw) // 2])))
    garbage = bytes(raw[:64]) + bytes(len(raw) - 64)  # zeros: not valid LZ4 sequences
    wrong = dataclasses.replace(msg, payload=memoryview(garbage))
    for bad in (cut, wrong):
        out = prepare_output(bad)
        assert out is not None
        with pytest.raises(ArrowDecodeError, match="LZ4 decompression failed"):
            decode_arrow_payload_keyed(bad, out)
        with pytest.raises(ArrowDecodeError):
            decode_arrow_payload(bad)


def test_no_prepared_buffer_for_small_uncompressed_or_impossible_payloads() -> None:
    small = encode_record_batch(_big_batch(1000), STORE)
    assert small.uncompressed_size < PREPARE_MIN_BYTES and prepare_output(small) is None
    plain = encode_record_batch(_big_batch(PREPARE_MIN_BYTES // 2), STORE, compress=False)
    assert prepare_output(plain) is None
    tiny = dataclasses.replace(small, payload=memoryview(b"\x00" * 16),
                               uncompressed_size=PREPARE_MIN_BYTES * 4)
    assert prepare_output(tiny) is None  # > 255x the payload: the decoder reports it
    with pytest.raises(ArrowDecodeError, match="impossible"):
        decode_arrow_payload(tiny)


@needs_native
def test_a_buffer_of_the_wrong_size_is_ignored() -> None:
    msg = encode_record_batch(_big_batch(PREPARE_MIN_BYTES // 2), STORE)
    other = prepare_output(encode_record_batch(_big_batch(PREPARE_MIN_BYTES), STORE))
    assert other is not None and other.size != msg.uncompressed_size
    got, _ = decode_arrow_payload_keyed(msg, other)
    assert got.equals(decode_arrow_payload(msg), check_metadata=True)


@needs_native
def test_a_failed_populate_stops_preparing_but_prepared_buffers_still_decode(monkeypatch):
    """An old kernel (EINVAL) ends the preparing for good, out of memory (ENOMEM) only
    this once; either way a buffer prepared before still decodes."""
    import ctypes
    import errno

    batch = _big_batch(PREPARE_MIN_BYTES // 2)
    msg = encode_record_batch(batch, STORE)
    out = prepare_output(msg)
    assert out is not None
    lz4, madvise = arrow._native_calls()

    def failing(err: int):
        def call(*_args):  # noqa: ANN002
            ctypes.set_errno(err)
            return -1
        return call

    monkeypatch.setattr(arrow, "_populate_ok", True)
    monkeypatch.setattr(arrow, "_native", (lz4, failing(errno.ENOMEM)))
    assert prepare_output(msg) is None and arrow._populate_ok  # try again next time
    monkeypatch.setattr(arrow, "_native", (lz4, failing(errno.EINVAL)))
    assert prepare_output(msg) is None and not arrow._populate_ok  # stop trying
    monkeypatch.setattr(arrow, "_native", (lz4, madvise))
    assert prepare_output(msg) is None  # even though the call would work now
    decoded, _ = decode_arrow_payload_keyed(msg, out)  # the earlier buffer still decodes
    assert decoded.equals(batch)
