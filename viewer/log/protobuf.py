"""A hand-written protobuf walk for the few messages a recording carries.

Why hand-written: the schema is small and stable, the generated classes would copy every
payload, and the same functions serve `.rrd` files and the gRPC stream. Decoding keeps
``ArrowMsg.payload`` as a zero-copy ``memoryview`` slice of the caller's buffer.

Wire types handled: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. Groups (3, 4),
unknown wire types and lengths that run past their message raise `ProtobufError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from viewer.log.messages import (
    ArrowMsg,
    BlueprintActivationCommand,
    Compression,
    LogMsg,
    MsgKind,
    SetStoreInfo,
    StoreId,
    StoreInfo,
    StoreKind,
    StoreSource,
    Tuid,
)

__all__ = [
    "ProtobufError",
    "as_byte_view",
    "decode_log_msg",
    "decode_store_id",
    "decode_write_request",
    "encode_log_msg",
    "encode_store_id",
    "encode_write_request",
    "iter_fields",
    "len_field",
    "varint_field",
]

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_TUID = struct.Struct("<xQxQ")
_MAX_U64 = (1 << 64) - 1


class ProtobufError(ValueError):
    """A message body that does not follow the protobuf wire format or our schema."""


def as_byte_view(data: Any) -> memoryview:
    """An unsigned-byte memoryview over bytes, a memoryview or a pyarrow Buffer, no copy.

    A memoryview over a pyarrow Buffer has the signed format ``'b'``; indexing it would give
    negative bytes and break varint parsing, so it is cast to ``'B'``.
    """
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


# --------------------------------------------------------------------------- decoding


def _varint(buf: memoryview, pos: int, end: int, where: str) -> tuple[int, int]:
    result = 0
    shift = 0
    while pos < end:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if result > _MAX_U64:
                raise ProtobufError(f"{where}: varint overflows 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError(f"{where}: varint longer than 10 bytes")
    raise ProtobufError(f"{where}: truncated varint")


def iter_fields(buf: memoryview, pos: int, end: int, where: str) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field_number, wire_type, a, b)`` for each field in ``buf[pos:end]``.

    For varint / fixed fields ``a`` is the value and ``b`` is 0; for length-delimited
    fields ``a:b`` is the byte span of the value inside ``buf``.
    """
    while pos < end:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(buf, pos, end, where)
        field_no = key >> 3
        wire = key & 7
        if field_no == 0:
            raise ProtobufError(f"{where}: field number 0 is invalid")
        if wire == 0:
            b = buf[pos] if pos < end else 0x80
            if b < 0x80 and pos < end:
                yield field_no, 0, b, 0
                pos += 1
            else:
                value, pos = _varint(buf, pos, end, f"{where} field {field_no}")
                yield field_no, 0, value, 0
        elif wire == 2:
            length = buf[pos] if pos < end else 0x80
            if length < 0x80 and pos < end:
                pos += 1
            else:
                length, pos = _varint(buf, pos, end, f"{where} field {field_no} length")
            stop = pos + length
            if stop > end:
                raise ProtobufError(
                    f"{where} field {field_no}: length {length} runs past the message "
                    f"({end - pos} bytes left)"
                )
            yield field_no, 2, pos, stop
            pos = stop
        elif wire == 1:
            if pos + 8 > end:
                raise ProtobufError(f"{where} field {field_no}: truncated fixed64")
            yield field_no, 1, _U64.unpack_from(buf, pos)[0], 0
            pos += 8
        elif wire == 5:
            if pos + 4 > end:
                raise ProtobufError(f"{where} field {field_no}: truncated fixed32")
            yield field_no, 5, _U32.unpack_from(buf, pos)[0], 0
            pos += 4
        elif wire in (3, 4):
            raise ProtobufError(f"{where} field {field_no}: groups (wire type {wire}) are not supported")
        else:
            raise ProtobufError(f"{where} field {field_no}: invalid wire type {wire}")


def _expect(wire: int, want: int, where: str, field_no: int) -> None:
    if wire != want:
        raise ProtobufError(f"{where} field {field_no}: wire type {wire}, expected {want}")


def _string(buf: memoryview, a: int, b: int, where: str) -> str:
    try:
        return str(buf[a:b], "utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"{where}: invalid UTF-8 string") from exc


def _store_kind(value: int) -> StoreKind:
    try:
        return StoreKind(value)
    except ValueError:
        raise ProtobufError(f"unknown store kind {value}") from None


def _decode_application_id(buf: memoryview, pos: int, end: int) -> str:
    app = ""
    for f, w, a, b in iter_fields(buf, pos, end, "ApplicationId"):
        if f == 1:
            _expect(w, 2, "ApplicationId", f)
            app = _string(buf, a, b, "ApplicationId.id")
    return app


def decode_store_id(buf: memoryview, pos: int, end: int) -> StoreId:
    """Decode a StoreId message occupying ``buf[pos:end]``."""
    kind = 0
    rec = ""
    app = ""
    for f, w, a, b in iter_fields(buf, pos, end, "StoreId"):
        if f == 1:
            _expect(w, 0, "StoreId", f)
            kind = a
        elif f == 2:
            _expect(w, 2, "StoreId", f)
            rec = _string(buf, a, b, "StoreId.recording_id")
        elif f == 3:
            _expect(w, 2, "StoreId", f)
            app = _decode_application_id(buf, a, b)
    return StoreId(_store_kind(kind), rec, app)


def _decode_tuid(buf: memoryview, pos: int, end: int, where: str) -> Tuid:
    if end - pos == 18 and buf[pos] == 0x09 and buf[pos + 9] == 0x11:  # the usual layout
        return Tuid(*_TUID.unpack_from(buf, pos))
    time_ns = 0
    inc = 0
    for f, w, a, _b in iter_fields(buf, pos, end, where):
        if f == 1:
            _expect(w, 1, where, f)
            time_ns = a
        elif f == 2:
            _expect(w, 1, where, f)
            inc = a
    return Tuid(time_ns, inc)


def _decode_store_source(buf: memoryview, pos: int, end: int) -> StoreSource:
    kind = 0
    extra = b""
    for f, w, a, b in iter_fields(buf, pos, end, "StoreSource"):
        if f == 1:
            _expect(w, 0, "StoreSource", f)
            kind = a
        elif f == 2:
            _expect(w, 2, "StoreSource", f)
            for f2, w2, a2, b2 in iter_fields(buf, a, b, "StoreSourceExtra"):
                if f2 == 1:
                    _expect(w2, 2, "StoreSourceExtra", f2)
                    extra = bytes(buf[a2:b2])
    return StoreSource(kind, extra)


def _decode_store_version(buf: memoryview, pos: int, end: int) -> int:
    bits = 0
    for f, w, a, _b in iter_fields(buf, pos, end, "StoreVersion"):
        if f == 1:
            _expect(w, 0, "StoreVersion", f)
            bits = a & 0xFFFFFFFF  # int32 on the wire: negative values are sign-extended
    return bits


def _decode_store_info(buf: memoryview, pos: int, end: int) -> StoreInfo:
    store_id: StoreId | None = None
    legacy_app = ""
    source: StoreSource | None = None
    version: int | None = None
    for f, w, a, b in iter_fields(buf, pos, end, "StoreInfo"):
        if f == 1:
            _expect(w, 2, "StoreInfo", f)
            legacy_app = _decode_application_id(buf, a, b)
        elif f == 2:
            _expect(w, 2, "StoreInfo", f)
            store_id = decode_store_id(buf, a, b)
        elif f == 5:
            _expect(w, 2, "StoreInfo", f)
            source = _decode_store_source(buf, a, b)
        elif f == 6:
            _expect(w, 2, "StoreInfo", f)
            version = _decode_store_version(buf, a, b)
    if store_id is None:
        raise ProtobufError("StoreInfo: missing store_id (field 2)")
    if not store_id.application_id and legacy_app:
        store_id = StoreId(store_id.kind, store_id.recording_id, legacy_app)
    return StoreInfo(store_id, source, version)


def _decode_set_store_info(buf: memoryview, pos: int, end: int) -> SetStoreInfo:
    row_id: Tuid | None = None
    info: StoreInfo | None = None
    for f, w, a, b in iter_fields(buf, pos, end, "SetStoreInfo"):
        if f == 1:
            _expect(w, 2, "SetStoreInfo", f)
            row_id = _decode_tuid(buf, a, b, "SetStoreInfo.row_id")
        elif f == 2:
            _expect(w, 2, "SetStoreInfo", f)
            info = _decode_store_info(buf, a, b)
    if info is None:
        raise ProtobufError("SetStoreInfo: missing info (field 2)")
    return SetStoreInfo(info, row_id)


def _decode_arrow_msg(buf: memoryview, pos: int, end: int) -> ArrowMsg:
    # The hot path of every reader: the layout rerun-sdk writes, else the shared field walk.
    msg = _canonical_arrow_msg(buf, pos, end)
    return msg if msg is not None else _walk_arrow_msg(buf, pos, end)


def _small_varint(buf: memoryview, p: int, end: int) -> tuple[int, int]:
    """A varint of at most 4 bytes (< 2**28) at ``p``, or (-1, p) for anything else."""
    value = 0
    shift = 0
    stop = min(p + 4, end)
    while p < stop:
        b = buf[p]
        p += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, p
        shift += 7
    return -1, p


def _canonical_arrow_msg(buf: memoryview, pos: int, end: int) -> ArrowMsg | None:
    """An ArrowMsg laid out as rerun-sdk writes it (fields 1..7 in order, one each, small
    lengths), read in 6-7 µs instead of the generic walk's 9-15 (docs/platform-facts.md);
    None for any other layout, which the walk then reads (or rejects with the precise
    error)."""
    if end - pos < 12 or buf[pos] != 0x0A:
        return None
    n = buf[pos + 1]
    a = pos + 2
    p = a + n
    if n >= 0x80 or p + 8 > end or buf[p] != 0x10:
        return None
    compression = buf[p + 1]
    if buf[p + 2] != 0x18:
        return None
    size, p = _small_varint(buf, p + 3, end)
    if size < 0 or p + 3 > end or buf[p] != 0x20:
        return None
    encoding = buf[p + 1]
    if encoding >= 0x80 or buf[p + 2] != 0x2A:
        return None
    length, p = _small_varint(buf, p + 3, end)
    stop = p + length
    if length < 0 or stop > end:
        return None
    comp = _COMPRESSIONS.get(compression)
    if comp is None:
        return None
    payload = buf[p:stop]
    p = stop
    chunk_id: Tuid | None = None
    if (p + 20 <= end and buf[p] == 0x32 and buf[p + 1] == 0x12 and buf[p + 2] == 0x09
            and buf[p + 11] == 0x11):
        chunk_id = Tuid(*_TUID.unpack_from(buf, p + 2))
        p += 20
    is_static: bool | None = None
    if p + 2 <= end and buf[p] == 0x38 and buf[p + 1] < 2:
        is_static = buf[p + 1] == 1
        p += 2
    if p != end:
        return None
    return ArrowMsg(_cached_store_id(buf, a, a + n), comp, size, payload, encoding, chunk_id,
                    is_static)


def _walk_arrow_msg(buf: memoryview, pos: int, end: int) -> ArrowMsg:
    where = "ArrowMsg"
    store_id: StoreId | None = None
    compression = 0
    size = 0
    encoding = 0
    payload: memoryview | None = None
    chunk_id: Tuid | None = None
    is_static: bool | None = None
    for f, w, a, b in iter_fields(buf, pos, end, where):
        if f == 5:
            _expect(w, 2, where, f)
            payload = buf[a:b]
        elif f == 1:
            _expect(w, 2, where, f)
            store_id = _cached_store_id(buf, a, b)
        elif f == 2:
            _expect(w, 0, where, f)
            compression = a
        elif f == 3:
            _expect(w, 0, where, f)
            size = a
        elif f == 4:
            _expect(w, 0, where, f)
            encoding = a
        elif f == 6:
            _expect(w, 2, where, f)
            chunk_id = _decode_tuid(buf, a, b, "ArrowMsg.chunk_id")
        elif f == 7:
            _expect(w, 0, where, f)
            is_static = bool(a)
    if store_id is None:
        raise ProtobufError("ArrowMsg: missing store_id (field 1)")
    if payload is None:
        payload = buf[end:end]
    try:
        comp = _COMPRESSIONS[compression]
    except KeyError:
        raise ProtobufError(f"ArrowMsg field 2: unknown compression {compression}") from None
    return ArrowMsg(store_id, comp, size, payload, encoding, chunk_id, is_static)


_COMPRESSIONS = {int(c): c for c in Compression}


_STORE_ID_CACHE: dict[bytes, StoreId] = {}


def _cached_store_id(buf: memoryview, pos: int, end: int) -> StoreId:
    """Every chunk repeats its StoreId: decode each distinct encoding once."""
    raw = bytes(buf[pos:end])
    found = _STORE_ID_CACHE.get(raw)
    if found is None:
        found = decode_store_id(buf, pos, end)
        if len(_STORE_ID_CACHE) > 1024:
            _STORE_ID_CACHE.clear()
        _STORE_ID_CACHE[raw] = found
    return found


def _decode_blueprint_activation(buf: memoryview, pos: int, end: int) -> BlueprintActivationCommand:
    where = "BlueprintActivationCommand"
    blueprint_id: StoreId | None = None
    active = False
    default = False
    for f, w, a, b in iter_fields(buf, pos, end, where):
        if f == 1:
            _expect(w, 2, where, f)
            blueprint_id = decode_store_id(buf, a, b)
        elif f == 2:
            _expect(w, 0, where, f)
            active = bool(a)
        elif f == 3:
            _expect(w, 0, where, f)
            default = bool(a)
    if blueprint_id is None:
        raise ProtobufError(f"{where}: missing blueprint_id (field 1)")
    return BlueprintActivationCommand(blueprint_id, active, default)


_DECODERS = {
    1: _decode_set_store_info,
    2: _decode_arrow_msg,
    3: _decode_blueprint_activation,
}


def decode_log_msg(kind: MsgKind | int, body: Any) -> LogMsg:
    """Decode one message body of the given file kind (1, 2 or 3).

    ``body`` may be bytes, a memoryview or a pyarrow Buffer; an ArrowMsg's payload is a
    slice of it, so the caller must keep the underlying memory alive (a memory map is).
    """
    decoder = _DECODERS.get(int(kind))
    if decoder is None:
        raise ProtobufError(f"unknown message kind {int(kind)}")
    buf = as_byte_view(body)
    return decoder(buf, 0, len(buf))


def decode_log_msg_span(kind: int, buf: memoryview, pos: int, end: int) -> LogMsg:
    """Like `decode_log_msg` on ``buf[pos:end]`` of an already-cast view (the reader's path)."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise ProtobufError(f"unknown message kind {kind}")
    return decoder(buf, pos, end)


def decode_write_request(body: Any) -> LogMsg:
    """Decode a gRPC ``WriteMessagesRequest {1: log_msg}`` whose LogMsg is a oneof."""
    buf = as_byte_view(body)
    found: LogMsg | None = None
    for f, w, a, b in iter_fields(buf, 0, len(buf), "WriteMessagesRequest"):
        if f != 1:
            continue
        _expect(w, 2, "WriteMessagesRequest", f)
        for f2, w2, a2, b2 in iter_fields(buf, a, b, "LogMsg"):
            decoder = _DECODERS.get(f2)
            if decoder is None:
                continue
            _expect(w2, 2, "LogMsg", f2)
            found = decoder(buf, a2, b2)  # a oneof: the last one set wins
    if found is None:
        raise ProtobufError("WriteMessagesRequest: no log_msg (field 1) with a known message")
    return found


# --------------------------------------------------------------------------- encoding


def _enc_varint(value: int) -> bytes:
    if value < 0:
        value &= _MAX_U64
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field_no: int, wire: int) -> bytes:
    return _enc_varint((field_no << 3) | wire)


def len_field(field_no: int, value: bytes | memoryview) -> bytes:
    """A length-delimited field (bytes, string or nested message)."""
    return _key(field_no, 2) + _enc_varint(len(value)) + bytes(value)


def varint_field(field_no: int, value: int) -> bytes:
    return _key(field_no, 0) + _enc_varint(value)


def encode_store_id(store_id: StoreId) -> bytes:
    out = varint_field(1, int(store_id.kind))
    out += len_field(2, store_id.recording_id.encode())
    out += len_field(3, len_field(1, store_id.application_id.encode()))
    return out


def _encode_tuid(tuid: Tuid) -> bytes:
    return _key(1, 1) + _U64.pack(tuid.time_ns) + _key(2, 1) + _U64.pack(tuid.inc)


def _encode_store_info(info: StoreInfo) -> bytes:
    out = len_field(2, encode_store_id(info.store_id))
    if info.store_source is not None:
        src = varint_field(1, info.store_source.kind)
        src += len_field(2, len_field(1, info.store_source.extra))
        out += len_field(5, src)
    if info.store_version is not None:
        bits = info.store_version & 0xFFFFFFFF
        if bits >= 1 << 31:  # int32: negative values are sign-extended to 64 bits
            bits -= 1 << 32
        out += len_field(6, varint_field(1, bits))
    return out


def _encode_set_store_info(msg: SetStoreInfo) -> bytes:
    out = b""
    if msg.row_id is not None:
        out += len_field(1, _encode_tuid(msg.row_id))
    return out + len_field(2, _encode_store_info(msg.info))


def _encode_arrow_msg(msg: ArrowMsg) -> bytes:
    payload = as_byte_view(msg.payload)
    parts = [
        len_field(1, encode_store_id(msg.store_id)),
        varint_field(2, int(msg.compression)),
        varint_field(3, msg.uncompressed_size),
        varint_field(4, msg.encoding),
        _key(5, 2) + _enc_varint(len(payload)),
        payload,
    ]
    if msg.chunk_id is not None:
        parts.append(len_field(6, _encode_tuid(msg.chunk_id)))
    if msg.is_static is not None:
        parts.append(varint_field(7, int(msg.is_static)))
    return b"".join(parts)


def _encode_blueprint_activation(msg: BlueprintActivationCommand) -> bytes:
    # proto3 plain bools: false is the default and is not written
    out = len_field(1, encode_store_id(msg.blueprint_id))
    if msg.make_active:
        out += varint_field(2, 1)
    if msg.make_default:
        out += varint_field(3, 1)
    return out


def encode_log_msg(msg: LogMsg) -> tuple[MsgKind, bytes]:
    """Encode a message body in the field order rerun-sdk writes; returns its file kind."""
    if isinstance(msg, ArrowMsg):
        return MsgKind.ARROW_MSG, _encode_arrow_msg(msg)
    if isinstance(msg, SetStoreInfo):
        return MsgKind.SET_STORE_INFO, _encode_set_store_info(msg)
    if isinstance(msg, BlueprintActivationCommand):
        return MsgKind.BLUEPRINT_ACTIVATION, _encode_blueprint_activation(msg)
    raise TypeError(f"not a log message: {type(msg).__name__}")


def encode_write_request(msg: LogMsg) -> bytes:
    """The gRPC ``WriteMessagesRequest`` body: ``{1: LogMsg {kind: body}}``."""
    kind, body = encode_log_msg(msg)
    return len_field(1, len_field(int(kind), body))
