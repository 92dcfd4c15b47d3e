"""ArrowMsg payloads: decode against the SDK's reader, encode like the SDK, reject garbage."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest
from rrd_samples import oracle_chunks

from viewer.log.arrow import (
    ArrowDecodeError,
    chunk_id_from_schema,
    decode_arrow_payload,
    encode_record_batch,
)
from viewer.log.messages import ArrowMsg, Compression, StoreId, StoreKind, Tuid
from viewer.log.reader import read_rrd

STORE = StoreId(StoreKind.RECORDING, "rec", "app")


def _sdk_arrow_msgs(path) -> list[ArrowMsg]:
    msgs, errors = read_rrd(path)
    assert errors == []
    return [m for m in msgs if isinstance(m, ArrowMsg)]


def test_decoded_batches_equal_the_oracle(sdk_files) -> None:
    path = sdk_files["mixed"]
    ours = [(m, decode_arrow_payload(m)) for m in _sdk_arrow_msgs(path)]
    oracle = {c.chunk_id: c for c in oracle_chunks(path)}
    assert len(ours) == len(oracle)
    for msg, batch in ours:
        expected = oracle[f"chunk_{msg.chunk_id}"]
        assert batch.num_rows == expected.num_rows
        assert msg.is_static == expected.is_static
        assert batch.equals(expected.batch, check_metadata=True)
        assert chunk_id_from_schema(batch.schema) == msg.chunk_id


def test_encode_reproduces_what_the_sdk_sent(sdk_files) -> None:
    for msg in _sdk_arrow_msgs(sdk_files["mixed"]):
        batch = decode_arrow_payload(msg)
        again = encode_record_batch(batch, msg.store_id)
        # chunk id and staticness are derived from the batch exactly as the SDK set them
        assert (again.chunk_id, again.is_static) == (msg.chunk_id, msg.is_static)
        assert again.compression == Compression.LZ4
        assert decode_arrow_payload(again).equals(batch, check_metadata=True)
        # the IPC bytes differ from the Rust writer's (alignment), the content does not
        raw = pa.Codec("lz4_raw").decompress(
            pa.py_buffer(again.payload), decompressed_size=again.uncompressed_size
        )
        assert raw.size == again.uncompressed_size


def test_uncompressed_round_trip_and_explicit_overrides() -> None:
    batch = pa.record_batch([pa.array([1, 2, 3])], names=["x"])
    msg = encode_record_batch(batch, STORE, compress=False, chunk_id=Tuid(5, 6), is_static=False)
    assert msg.compression == Compression.NONE
    assert msg.uncompressed_size == msg.payload_size
    assert (msg.chunk_id, msg.is_static) == (Tuid(5, 6), False)
    assert decode_arrow_payload(msg).equals(batch)
    plain = encode_record_batch(batch, STORE)
    assert plain.chunk_id is None  # no rerun:id metadata
    assert plain.is_static is True  # no index column


def _lz4(msg: ArrowMsg, **changes) -> ArrowMsg:
    return dataclasses.replace(msg, **changes)


@pytest.fixture
def good_msg() -> ArrowMsg:
    batch = pa.record_batch([pa.array(list(range(1000)))], names=["x"])
    return encode_record_batch(batch, STORE)


def test_impossible_uncompressed_size_is_rejected_before_allocating(good_msg) -> None:
    huge = 255 * good_msg.payload_size + 65
    with pytest.raises(ArrowDecodeError, match="impossible"):
        decode_arrow_payload(_lz4(good_msg, uncompressed_size=huge))
    with pytest.raises(ArrowDecodeError, match="impossible"):
        decode_arrow_payload(_lz4(good_msg, uncompressed_size=1 << 62))
    with pytest.raises(ArrowDecodeError):
        decode_arrow_payload(_lz4(good_msg, uncompressed_size=0))


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: _lz4(m, payload=b"\x00" * 50),  # not LZ4
        lambda m: _lz4(m, payload=bytes(m.payload)[: m.payload_size // 2]),  # cut
        lambda m: _lz4(m, uncompressed_size=m.uncompressed_size - 1),  # wrong size
        lambda m: _lz4(m, compression=Compression.NONE),  # LZ4 bytes read as IPC
        lambda m: _lz4(m, compression=Compression.NONE, payload=b""),
    ],
)
def test_garbage_payloads_raise_arrow_decode_error(good_msg, damage) -> None:
    with pytest.raises(ArrowDecodeError):
        decode_arrow_payload(damage(good_msg))


def _ipc(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for b in batches:
            writer.write_batch(b)
    return sink.getvalue().to_pybytes()


def test_zero_or_several_batches_are_rejected() -> None:
    batch = pa.record_batch([pa.array([1])], names=["x"])
    for batches, needle in (([], "no record batch"), ([batch, batch], "more than one")):
        data = _ipc(batch.schema, batches)
        msg = ArrowMsg(STORE, Compression.NONE, len(data), data)
        with pytest.raises(ArrowDecodeError, match=needle):
            decode_arrow_payload(msg)
