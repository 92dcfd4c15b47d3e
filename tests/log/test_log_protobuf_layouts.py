"""An ArrowMsg reads the same whatever the field layout: rerun-sdk's own order takes a
short path, any other order or extra fields the generic walk."""

from __future__ import annotations

import pytest

from viewer.log.messages import ArrowMsg, Compression
from viewer.log.protobuf import (
    ProtobufError,
    decode_log_msg,
    encode_log_msg,
    encode_store_id,
)
from viewer.log.reader import read_rrd


def _fields(msg: ArrowMsg) -> list[bytes]:
    """The message's fields, each encoded on its own, in field-number order."""
    _kind, body = encode_log_msg(msg)
    return _split(body)


def _split(body: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(body):
        start = pos
        key = body[pos]
        pos += 1
        wire = key & 7
        if wire == 0:
            while body[pos] & 0x80:
                pos += 1
            pos += 1
        else:
            n, shift = 0, 0
            while True:
                b = body[pos]
                pos += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            pos += n
        out.append(body[start:pos])
    return out


def _same(a: ArrowMsg, b: ArrowMsg) -> bool:
    return (a.store_id, a.compression, a.uncompressed_size, bytes(a.payload), a.encoding,
            a.chunk_id, a.is_static) == (b.store_id, b.compression, b.uncompressed_size,
                                         bytes(b.payload), b.encoding, b.chunk_id, b.is_static)


@pytest.mark.parametrize("name", ["scalars.rrd", "robot.rrd", "camera.rrd"])
def test_every_layout_reads_the_same_message(data_dir, name) -> None:
    msgs, errors = read_rrd(data_dir / name)
    assert not errors
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    assert arrow
    for msg in arrow:
        fields = _fields(msg)
        canonical = decode_log_msg(2, b"".join(fields))
        assert _same(canonical, msg)
        reordered = decode_log_msg(2, b"".join(fields[::-1]))  # the payload first
        assert _same(reordered, msg)
        extra = decode_log_msg(2, b"".join(fields) + b"\x40\x07")  # unknown field 8
        assert _same(extra, msg)


def test_a_truncated_canonical_message_is_still_refused(data_dir) -> None:
    msgs, _ = read_rrd(data_dir / "scalars.rrd")
    msg = next(m for m in msgs if isinstance(m, ArrowMsg))
    body = b"".join(_fields(msg))
    with pytest.raises(ProtobufError, match="runs past the message"):
        decode_log_msg(2, body[: len(body) - 30])


def test_defaults_left_out_take_the_walk() -> None:
    from viewer.log.messages import StoreId, StoreKind

    store = StoreId(StoreKind.RECORDING, "rec", "app")
    sid = encode_store_id(store)
    # compression 0 (unspecified) and encoding 0 are proto3 defaults: a sender may leave
    # them out
    body = bytes([0x0A, len(sid)]) + sid + bytes([0x18, 3, 0x2A, 3]) + b"abc"
    got = decode_log_msg(2, body)
    assert got.store_id == store and got.compression == Compression.UNSPECIFIED
    assert bytes(got.payload) == b"abc" and got.chunk_id is None and got.is_static is None
