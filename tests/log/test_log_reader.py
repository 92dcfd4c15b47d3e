"""RrdReader on SDK-written files (rerun's reader is the oracle) and on damaged files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from rrd_samples import oracle_chunks

from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, BlueprintActivationCommand, SetStoreInfo
from viewer.log.reader import ReadError, RrdReader, read_rrd


def _entries(data: bytes) -> list[tuple[int, int, object]]:
    """(header offset, end offset, message) for every message of an intact file."""
    reader = RrdReader.from_bytes(data)
    out = []
    for offset, msg in reader.entries():
        (length,) = struct.unpack_from("<Q", data, offset + 8)
        out.append((offset, offset + 16 + length, msg))
    assert reader.errors == []
    return out


def _key(msg) -> tuple:
    """A comparable identity of a message (payload bytes included)."""
    if isinstance(msg, ArrowMsg):
        return ("arrow", msg.store_id, msg.chunk_id, msg.is_static, bytes(msg.payload))
    return (type(msg).__name__, msg)


@pytest.mark.parametrize("name", ["mixed", "plain", "no_footer"])
def test_chunks_match_the_sdk_reader(sdk_files, name: str) -> None:
    path = sdk_files[name]
    msgs, errors = read_rrd(path)
    assert errors == []
    ours: dict[tuple, list] = {}
    for m in msgs:
        if isinstance(m, ArrowMsg):
            ours.setdefault((m.store_id.kind.label, m.store_id.recording_id), []).append(m)
    theirs: dict[tuple, list] = {}
    for c in oracle_chunks(path):
        theirs.setdefault((c.kind, c.recording_id), []).append(c)
    assert ours.keys() == theirs.keys()
    for store, chunks in theirs.items():
        assert len(ours[store]) == len(chunks)
        for msg, chunk in zip(ours[store], chunks, strict=True):
            batch = decode_arrow_payload(msg)
            assert f"chunk_{msg.chunk_id}" == chunk.chunk_id
            assert batch.schema.metadata[b"rerun:entity_path"].decode() == chunk.entity_path
            assert (batch.num_rows, msg.is_static) == (chunk.num_rows, chunk.is_static)
            assert batch.equals(chunk.batch, check_metadata=True)


def test_message_kinds_and_order_of_a_file_with_blueprint(sdk_files) -> None:
    msgs, _ = read_rrd(sdk_files["mixed"])
    kinds = [type(m) for m in msgs]
    activation = kinds.index(BlueprintActivationCommand)
    assert kinds[0] is SetStoreInfo and msgs[0].store_id.kind.label == "blueprint"
    assert msgs[activation].make_default and not msgs[activation].make_active
    # everything before the activation belongs to the blueprint, the recording follows
    assert {m.store_id for m in msgs[:activation]} == {msgs[activation].blueprint_id}
    assert all(m.store_id.kind.label == "recording" for m in msgs[activation + 1 :])
    infos = [m for m in msgs if isinstance(m, SetStoreInfo)]
    assert all(i.info.store_version == 0x2900 for i in infos)


def test_progress_and_file_size(sdk_files) -> None:
    path = sdk_files["mixed"]
    with RrdReader(path) as reader:
        assert reader.total_bytes == path.stat().st_size
        seen = []
        for _ in reader.messages():
            seen.append(reader.bytes_read)
        assert seen == sorted(seen) and 0 < seen[0] < reader.total_bytes
        assert reader.bytes_read == reader.total_bytes


def test_payloads_outlive_the_reader(sdk_files) -> None:
    reader = RrdReader(sdk_files["plain"])
    arrows = [m for m in reader.messages() if isinstance(m, ArrowMsg)]
    expected = [decode_arrow_payload(m) for m in arrows]
    reader.close()
    assert [decode_arrow_payload(m) for m in arrows] == expected


def test_from_bytes_equals_reading_the_file(sdk_files) -> None:
    path = sdk_files["mixed"]
    from_file, _ = read_rrd(path)
    from_bytes = list(RrdReader.from_bytes(path.read_bytes()).messages())
    assert [_key(m) for m in from_bytes] == [_key(m) for m in from_file]


def test_concatenated_streams(sdk_files, tmp_path: Path) -> None:
    parts = [sdk_files[n].read_bytes() for n in ("mixed", "no_footer", "second", "plain")]
    path = tmp_path / "cat.rrd"
    path.write_bytes(b"".join(parts))
    msgs, errors = read_rrd(path)
    assert errors == []
    expected = [_key(m) for part in parts for m in RrdReader.from_bytes(part).messages()]
    assert [_key(m) for m in msgs] == expected


def test_footer_checksum_is_verified_on_request(sdk_files) -> None:
    data = bytearray(sdk_files["plain"].read_bytes())
    reader = RrdReader.from_bytes(bytes(data), verify_footer=True)
    list(reader.messages())
    assert reader.errors == []
    end_start, _ = struct.unpack_from("<QQ", data, len(data) - 32)  # footer entry
    data[end_start + 3] ^= 0x40  # inside the End body (the footer index)
    reader = RrdReader.from_bytes(bytes(data), verify_footer=True)
    msgs = list(reader.messages())
    assert len(msgs) == len(_entries(bytes(sdk_files["plain"].read_bytes())))
    assert [e.message for e in reader.errors if "checksum" in e.message]


def test_truncated_tail_keeps_every_complete_message(sdk_files) -> None:
    data = sdk_files["mixed"].read_bytes()
    entries = _entries(data)
    # cut inside the header, inside a body, right after a message, inside the footer
    mid = entries[len(entries) // 2]
    cuts = [mid[0] + 5, mid[0] + 20, mid[1] - 1, mid[1], len(data) - 7, len(data) - 30]
    for cut in cuts:
        reader = RrdReader.from_bytes(data[:cut], source="cut.rrd")
        msgs = list(reader.messages())
        complete = [_key(m) for _, end, m in entries if end <= cut]
        assert [_key(m) for m in msgs] == complete, cut
        assert len(reader.errors) == (0 if cut == mid[1] else 1), (cut, reader.errors)
        assert all(isinstance(e, ReadError) and e.source == "cut.rrd" for e in reader.errors)


def test_cut_message_reports_claimed_and_remaining_bytes(sdk_files) -> None:
    data = sdk_files["plain"].read_bytes()
    offset, end, _ = _entries(data)[3]
    reader = RrdReader.from_bytes(data[: end - 10])
    list(reader.messages())
    claimed = end - offset - 16
    (err,) = reader.errors
    assert err.offset == offset
    assert f"claims {claimed} bytes but only {claimed - 10} remain" in err.message


def test_corrupt_body_is_skipped_and_reading_goes_on(sdk_files) -> None:
    data = bytearray(sdk_files["plain"].read_bytes())
    entries = _entries(bytes(data))
    victim = next(i for i, e in enumerate(entries) if isinstance(e[2], ArrowMsg) and i > 3)
    offset = entries[victim][0]
    data[offset + 16] = 0x0B  # first field key becomes a group (wire type 3)
    reader = RrdReader.from_bytes(bytes(data))
    msgs = list(reader.messages())
    assert [_key(m) for m in msgs] == [_key(e[2]) for i, e in enumerate(entries) if i != victim]
    (err,) = reader.errors
    assert err.offset == offset and "ArrowMsg" in err.message and "group" in err.message


def test_huge_length_never_allocates_and_reading_resumes(sdk_files) -> None:
    data = bytearray(sdk_files["plain"].read_bytes())
    entries = _entries(bytes(data))
    offset = entries[4][0]
    struct.pack_into("<Q", data, offset + 8, 1 << 60)
    reader = RrdReader.from_bytes(bytes(data))
    msgs = list(reader.messages())
    assert [_key(m) for m in msgs] == [_key(e[2]) for i, e in enumerate(entries) if i != 4]
    assert f"claims {1 << 60} bytes" in reader.errors[0].message
    assert "resumed at offset" in reader.errors[-1].message


def test_garbage_header_resyncs_at_the_next_message(sdk_files) -> None:
    data = bytearray(sdk_files["plain"].read_bytes())
    entries = _entries(bytes(data))
    offset = entries[6][0]
    data[offset : offset + 8] = b"\x77" * 8  # the kind field
    reader = RrdReader.from_bytes(bytes(data))
    msgs = list(reader.messages())
    assert [_key(m) for m in msgs] == [_key(e[2]) for i, e in enumerate(entries) if i != 6]
    assert reader.errors[0].offset == offset and "garbage" in reader.errors[0].message
    assert f"resumed at offset {entries[7][0]}" in reader.errors[-1].message


def _errors_of(data: bytes) -> tuple[list, list[ReadError]]:
    reader = RrdReader.from_bytes(data)
    return list(reader.messages()), reader.errors


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a Rerun .rrd file (starts with b'\\x89PNG"),
        (b"RRF1\x00\x10\x00\x00\x01\x01\x00\x00" + b"\x01" * 40, "legacy RRF1"),
        (b"RRF0\x00\x10\x00\x00\x01\x01\x00\x00", "legacy RRF0"),
        (b"RRF2\x00\x29\x00\x00\x01\x07\x00\x00" + b"\x00" * 16, "unsupported serializer 7"),
        (b"", "empty file"),
        (b"RRF2\x00", "truncated stream header"),
    ],
)
def test_wrong_files_get_a_clear_error(data: bytes, needle: str) -> None:
    msgs, errors = _errors_of(data)
    assert msgs == []
    assert errors and needle in errors[0].message


def test_missing_file_is_an_error_not_an_exception(tmp_path: Path) -> None:
    msgs, errors = read_rrd(tmp_path / "nope.rrd")
    assert msgs == [] and "cannot open" in errors[0].message


def test_legacy_stream_after_a_good_one(sdk_files) -> None:
    good = sdk_files["no_footer"].read_bytes()
    msgs, errors = _errors_of(good + b"RRF1\x00\x10\x00\x00\x01\x01\x00\x00" + b"\xee" * 64)
    assert [_key(m) for m in msgs] == [_key(e[2]) for e in _entries(good)]
    assert "legacy RRF1" in errors[0].message


def test_framing_cost_per_small_message(sdk_files) -> None:
    """Framing + protobuf must stay cheap (target ~10 µs; generous bound for shared CI)."""
    import time

    data = b"".join(sdk_files[n].read_bytes() for n in ("mixed", "plain", "second")) * 20
    count = len(_entries(data))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        n = sum(1 for _ in RrdReader.from_bytes(data).messages())
        best = min(best, time.perf_counter() - start)
    assert n == count
    assert best / count < 100e-6, f"{best / count * 1e6:.1f} µs per message"


def test_reading_twice_gives_the_same_messages_and_errors(sdk_files) -> None:
    data = sdk_files["plain"].read_bytes()
    reader = RrdReader.from_bytes(data[: len(data) // 2])
    first = [_key(m) for m in reader.messages()]
    first_errors = list(reader.errors)
    assert [_key(m) for m in reader.messages()] == first
    assert reader.errors == first_errors and len(first_errors) == 1


def test_zero_filled_tail_and_zero_run_are_skipped_quickly(sdk_files) -> None:
    """A crash can leave zeros where data should be; they read as empty End messages."""
    import time

    data = sdk_files["no_footer"].read_bytes()
    entries = _entries(data)
    cut = entries[5][0]
    expected = [_key(e[2]) for e in entries]
    for damaged, zeros_at in ((data + bytes(1 << 20), len(data)),
                              (data[:cut] + bytes(4 << 20) + data[cut:], cut)):
        start = time.perf_counter()
        msgs, errors = _errors_of(damaged)
        assert time.perf_counter() - start < 1.0  # a numpy scan, not 16-byte steps
        assert [_key(m) for m in msgs] == expected
        assert [(e.offset, e.message) for e in errors] == [
            (zeros_at, f"skipped {len(damaged) - len(data)} zero bytes at offset {zeros_at}")
        ]
