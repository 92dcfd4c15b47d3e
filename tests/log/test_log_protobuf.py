"""The protobuf walk: round trips, byte-identical re-encoding of SDK bodies, bad input."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viewer.log.messages import (
    ArrowMsg,
    BlueprintActivationCommand,
    Compression,
    MsgKind,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
    StoreSource,
    Tuid,
)
from viewer.log.protobuf import (
    ProtobufError,
    decode_log_msg,
    decode_write_request,
    encode_log_msg,
    encode_write_request,
)

u64 = st.integers(0, (1 << 64) - 1)
text = st.text(max_size=20)
store_ids = st.builds(StoreId, st.sampled_from(list(StoreKind)), text, text)
tuids = st.builds(Tuid, u64, u64)
store_infos = st.builds(
    StoreInfo,
    store_ids,
    st.none() | st.builds(StoreSource, st.integers(0, 10), st.binary(max_size=10)),
    st.none() | st.integers(0, (1 << 32) - 1),
)
set_store_infos = st.builds(SetStoreInfo, store_infos, st.none() | tuids)
arrow_msgs = st.builds(
    ArrowMsg,
    store_id=store_ids,
    compression=st.sampled_from(list(Compression)),
    uncompressed_size=u64,
    payload=st.binary(max_size=300),
    encoding=st.integers(0, 3),
    chunk_id=st.none() | tuids,
    is_static=st.none() | st.booleans(),
)
activations = st.builds(BlueprintActivationCommand, store_ids, st.booleans(), st.booleans())
log_msgs = set_store_infos | arrow_msgs | activations


def _normalized(msg):
    """Payloads come back as memoryviews: compare them as bytes."""
    if isinstance(msg, ArrowMsg):
        return (msg.store_id, msg.compression, msg.uncompressed_size, bytes(msg.payload),
                msg.encoding, msg.chunk_id, msg.is_static)
    return msg


@settings(max_examples=300, deadline=None)
@given(log_msgs)
def test_encode_decode_round_trip(msg) -> None:
    kind, body = encode_log_msg(msg)
    assert _normalized(decode_log_msg(kind, body)) == _normalized(msg)
    assert _normalized(decode_write_request(encode_write_request(msg))) == _normalized(msg)


@settings(max_examples=100, deadline=None)
@given(log_msgs)
def test_decoding_accepts_bytes_memoryview_and_arrow_buffer(msg) -> None:
    kind, body = encode_log_msg(msg)
    expected = _normalized(msg)
    assert _normalized(decode_log_msg(kind, memoryview(body))) == expected
    assert _normalized(decode_log_msg(int(kind), pa.py_buffer(body))) == expected


def test_sdk_bodies_re_encode_byte_identical(sdk_files) -> None:
    """Every body the SDK wrote decodes and re-encodes to the very same bytes."""
    data = sdk_files["mixed"].read_bytes()
    pos = 12
    seen = set()
    while pos + 16 <= len(data):
        kind, length = struct.unpack_from("<QQ", data, pos)
        body = data[pos + 16 : pos + 16 + length]
        if kind == 0:
            break
        msg = decode_log_msg(kind, body)
        assert encode_log_msg(msg) == (MsgKind(kind), body)
        seen.add(type(msg))
        pos += 16 + length
    assert seen == {SetStoreInfo, ArrowMsg, BlueprintActivationCommand}


def test_payload_is_a_zero_copy_view() -> None:
    msg = ArrowMsg(StoreId(StoreKind.RECORDING, "r", "a"), Compression.NONE, 4, b"abcd")
    kind, body = encode_log_msg(msg)
    mutable = bytearray(body)
    decoded = decode_log_msg(kind, mutable)
    offset = bytes(mutable).index(b"abcd")
    mutable[offset] = ord("X")
    assert bytes(decoded.payload) == b"Xbcd"


def test_payload_over_arrow_buffer_is_unsigned_view() -> None:
    payload = bytes(range(200, 256))  # bytes >= 0x80 would be negative in a 'b' view
    msg = ArrowMsg(StoreId(StoreKind.RECORDING, "r", "a"), Compression.NONE, 56, payload)
    kind, body = encode_log_msg(msg)
    decoded = decode_log_msg(kind, pa.py_buffer(body))
    assert decoded.payload.format == "B"
    assert bytes(decoded.payload) == payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


UNKNOWN_FIELDS = [
    _varint(15 << 3 | 0) + _varint(1 << 63),  # varint
    _varint(16 << 3 | 1) + b"\xff" * 8,  # fixed64
    _varint(17 << 3 | 2) + _varint(3) + b"\x01\x02\x03",  # length-delimited
    _varint(18 << 3 | 5) + b"\xff" * 4,  # fixed32
    _varint(2000 << 3 | 2) + _varint(0),  # multi-byte key, empty value
]


@pytest.mark.parametrize("unknown", UNKNOWN_FIELDS)
@pytest.mark.parametrize(
    "msg",
    [
        SetStoreInfo(StoreInfo(StoreId(StoreKind.RECORDING, "r", "a"), StoreSource(2, b"x"), 7),
                     Tuid(1, 2)),
        ArrowMsg(StoreId(StoreKind.BLUEPRINT, "b", "a"), Compression.LZ4, 10, b"\x00\x80\xff",
                 chunk_id=Tuid(3, 4), is_static=False),
        BlueprintActivationCommand(StoreId(StoreKind.BLUEPRINT, "b", "a"), True, False),
    ],
)
def test_unknown_fields_of_every_wire_type_are_skipped(msg, unknown: bytes) -> None:
    kind, body = encode_log_msg(msg)
    for damaged in (unknown + body, body + unknown):
        assert _normalized(decode_log_msg(kind, damaged)) == _normalized(msg)


STORE = StoreId(StoreKind.RECORDING, "r", "a")


@pytest.mark.parametrize(
    ("kind", "body", "needle"),
    [
        (2, b"\x0b", "group"),  # field 1, wire type 3
        (1, b"\x0c", "group"),  # field 1, wire type 4
        (3, b"\x0e", "wire type 6"),
        (2, b"\x2a\x05ab", "runs past"),  # payload claims 5 bytes, 2 left
        (2, b"\x18\xff\xff", "truncated varint"),
        (2, b"\x18" + b"\xff" * 10 + b"\x01", "varint"),
        (1, b"\x0a\x03\x09\x01\x02", "truncated fixed64"),
        (2, b"\x2a\x00", "missing store_id"),
        (1, b"", "missing info"),
        (3, b"\x10\x01", "missing blueprint_id"),
        (2, b"\x0a\x02\x08\x07", "unknown store kind 7"),
        (2, b"\x0a\x02\x08\x01\x10\x09", "unknown compression 9"),
        (2, b"\x0a\x03\x12\x01\xff", "UTF-8"),
        (2, b"\x08\x01", "ArrowMsg field 1"),  # store_id as a varint
        (9, b"", "unknown message kind 9"),
    ],
)
def test_bad_bodies_raise_protobuf_error_naming_the_problem(kind, body, needle) -> None:
    with pytest.raises(ProtobufError, match=needle):
        decode_log_msg(kind, body)


def test_write_request_without_log_msg_is_an_error() -> None:
    with pytest.raises(ProtobufError, match="log_msg"):
        decode_write_request(b"")
    with pytest.raises(ProtobufError, match="runs past"):
        decode_write_request(b"\x0a\x09\x12")


def test_write_request_layout_matches_the_live_protocol() -> None:
    msg = BlueprintActivationCommand(STORE, make_active=True)
    _, body = encode_log_msg(msg)
    inner = b"\x1a" + _varint(len(body)) + body  # LogMsg oneof field 3
    assert encode_write_request(msg) == b"\x0a" + _varint(len(inner)) + inner
