"""RrdWriter output read back by rerun-sdk's RrdReader (the oracle) and by our reader."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pyarrow as pa
import pytest
from rrd_samples import oracle_chunks

from viewer.log.arrow import decode_arrow_payload, encode_record_batch
from viewer.log.messages import ArrowMsg, SetStoreInfo
from viewer.log.protobuf import as_byte_view, iter_fields
from viewer.log.reader import RrdReader, read_rrd
from viewer.log.writer import RrdWriter


def _key(msg) -> tuple:
    if isinstance(msg, ArrowMsg):
        return ("arrow", msg.store_id, msg.chunk_id, msg.is_static, bytes(msg.payload))
    return (type(msg).__name__, msg)


def _footer_manifests(data: bytes) -> dict[bytes, tuple[pa.Schema, pa.Table]]:
    """Decode the footer index: store id bytes -> (store schema, chunk table)."""
    start, length, _ = struct.unpack_from("<QQI", data, len(data) - 32)
    assert data[-12:-4] == b"RRF2FOOT"
    buf = as_byte_view(data)
    out = {}
    for _f, _w, a, b in iter_fields(buf, start, start + length, "End"):
        fields = {f: (x, y) for f, _w2, x, y in iter_fields(buf, a, b, "Manifest")}
        (x, y) = fields[2]
        ((_, _, sx, sy),) = list(iter_fields(buf, x, y, "SorbetSchema"))
        schema = pa.ipc.open_stream(pa.py_buffer(buf[sx:sy])).schema
        (x, y) = fields[4]
        data_fields = {f: (p, q) for f, _w3, p, q in iter_fields(buf, x, y, "Data")}
        payload = buf[data_fields[2][0] : data_fields[2][1]]
        size = data_fields[4][0]
        raw = pa.Codec("lz4_raw").decompress(pa.py_buffer(payload), decompressed_size=size)
        out[bytes(buf[fields[1][0] : fields[1][1]])] = (schema, pa.ipc.open_stream(raw).read_all())
    return out


def _rewrite(src: Path, dst: Path, **kwargs) -> list:
    msgs, errors = read_rrd(src)
    assert errors == []
    with RrdWriter(dst, **kwargs) as writer:
        for m in msgs:
            writer.write(m)
    return msgs


def _oracle_view(path: Path) -> list[tuple]:
    return [
        (c.kind, c.recording_id, c.chunk_id, c.entity_path, c.num_rows, c.is_static, c.batch)
        for c in oracle_chunks(path)
    ]


@pytest.mark.parametrize("name", ["mixed", "plain", "no_footer"])
def test_rewritten_file_reads_identically(sdk_files, tmp_path: Path, name: str) -> None:
    src = sdk_files[name]
    dst = tmp_path / "out.rrd"
    msgs = _rewrite(src, dst)
    assert _oracle_view(dst) == _oracle_view(src)
    again, errors = read_rrd(dst)
    assert errors == []
    assert [_key(m) for m in again] == [_key(m) for m in msgs]


def test_rewritten_file_matches_the_sdk_byte_for_byte_up_to_the_footer(sdk_files, tmp_path) -> None:
    src = sdk_files["mixed"]
    dst = tmp_path / "out.rrd"
    _rewrite(src, dst)
    a, b = src.read_bytes(), dst.read_bytes()
    end_a, _, _ = struct.unpack_from("<QQI", a, len(a) - 32)
    end_b, _, _ = struct.unpack_from("<QQI", b, len(b) - 32)
    assert end_a == end_b
    # everything but the End message's length field and body is identical
    assert a[: end_a - 16] == b[: end_b - 16]


def test_footer_index_matches_the_sdk(sdk_files, tmp_path: Path) -> None:
    src = sdk_files["mixed"]
    dst = tmp_path / "out.rrd"
    _rewrite(src, dst)
    theirs, ours = _footer_manifests(src.read_bytes()), _footer_manifests(dst.read_bytes())
    assert ours.keys() == theirs.keys() and len(ours) == 2  # blueprint and recording
    for store, (schema, table) in theirs.items():
        our_schema, our_table = ours[store]
        assert set(our_schema) == set(schema)  # the SDK's field order is not meaningful
        assert our_table.equals(table, check_metadata=True)


def test_lazy_store_schema_from_our_footer(sdk_files, tmp_path: Path) -> None:
    from rerun.chunk import RrdReader as SdkReader

    src = sdk_files["plain"]
    dst = tmp_path / "out.rrd"
    _rewrite(src, dst)

    def columns(path: Path) -> list[str]:
        reader = SdkReader(str(path))
        return sorted(str(reader.store(store=reader.recordings()[0]).schema()).splitlines())

    assert columns(dst) == columns(src)


def test_chunks_encoded_by_us_read_back_in_the_sdk(sdk_files, tmp_path: Path) -> None:
    """Our own IPC + LZ4 encoding (not the SDK's bytes) is accepted by its reader."""
    msgs, _ = read_rrd(sdk_files["plain"])
    dst = tmp_path / "ours.rrd"
    with RrdWriter(dst) as writer:
        for m in msgs:
            if isinstance(m, ArrowMsg):
                m = encode_record_batch(decode_arrow_payload(m), m.store_id)
            writer.write(m)
    assert _oracle_view(dst) == _oracle_view(sdk_files["plain"])


def test_file_object_and_no_footer(sdk_files) -> None:
    msgs, _ = read_rrd(sdk_files["plain"])
    sink = io.BytesIO()
    writer = RrdWriter(sink, footer=False)
    for m in msgs:
        writer.write(m)
    writer.close()
    assert not sink.closed  # a caller's file stays open
    data = sink.getvalue()
    assert b"FOOT" not in data[-16:]
    reader = RrdReader.from_bytes(data)
    assert [_key(m) for m in reader.messages()] == [_key(m) for m in msgs]
    assert reader.errors == []
    with pytest.raises(ValueError, match="closed"):
        writer.write(msgs[0])


def test_footer_checksum_and_no_chunks(sdk_files, tmp_path: Path) -> None:
    info = next(m for m in read_rrd(sdk_files["plain"])[0] if isinstance(m, SetStoreInfo))
    path = tmp_path / "info_only.rrd"
    with RrdWriter(path) as writer:
        writer.write(info)
    reader = RrdReader(path, verify_footer=True)
    assert list(reader.messages()) == [info]
    assert reader.errors == []
    from rerun.chunk import RrdReader as SdkReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert SdkReader(str(path)).recordings() == []  # no chunks: no manifest, no store
