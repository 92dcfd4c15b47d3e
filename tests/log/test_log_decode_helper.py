"""The decode helper process on real rerun-sdk files: every message, in file order, its
payload decompressed exactly as pyarrow does, through a ring small enough to wrap."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from viewer.log import helper_launch
from viewer.log.arrow import decode_arrow_payload, decompress_payload
from viewer.log.decode_helper import (
    DONE,
    ERROR,
    FILE,
    JOINED,
    MESSAGE,
    RING,
    TAIL,
    read_frames,
)
from viewer.log.messages import ArrowMsg, Compression
from viewer.log.reader import RrdReader, read_rrd

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd (Linux)")


def _run(path: Path, ring_bytes: int, caps: tuple[int, int] = (0, 0)
         ) -> tuple[list[tuple], list, int, int, str]:
    """Play the parent: copy each ring payload out and give its space back at once.
    Returns the records (ring payloads as bytes), the errors, how often the ring wrapped,
    the exit code and the helper's stderr."""
    helper = helper_launch.launch(ring_bytes)
    helper.send_job(path, *caps)
    out: list[tuple] = []
    errors = []
    wraps = 0
    try:
        for _bytes_read, _low, records in read_frames(helper.proc.stdout):
            for rec in records:
                if rec[0] in (RING, JOINED):
                    end, n = rec[-2], rec[-1]
                    pos = (end - n) % ring_bytes
                    wraps += pos + n == ring_bytes or (pos == 0 and end > n)
                    out.append((*rec[:-2], bytes(helper.ring[pos:pos + n])))
                    os.set_blocking(helper.ctl_fd, True)
                    os.write(helper.ctl_fd, TAIL.pack(end))
                elif rec[0] == ERROR:
                    errors.append(rec[1])
                else:
                    out.append(rec)
    finally:
        os.close(helper.ctl_fd)
        code, text = helper.wait()
    return out, errors, wraps, code, text


def test_every_message_comes_in_file_order_with_its_payload_decompressed(small_chunks_rrd):
    expected = list(RrdReader(small_chunks_rrd).entries())
    out, errors, wraps, code, text = _run(small_chunks_rrd, 256 << 10)
    assert code == 0, text
    assert not errors
    assert out[-1][0] == DONE and out[-1][1] > 0  # the helper's own memory
    got = out[:-1]
    assert [r[1] for r in got] == [off for off, _ in expected]
    assert wraps >= 2, "the ring never wrapped: the test does not cover it"
    ring_msgs = 0
    for rec, (_off, msg) in zip(got, expected, strict=True):
        if rec[0] == MESSAGE:
            assert rec[2] == msg
            continue
        assert isinstance(msg, ArrowMsg)
        assert rec[2:7] == (msg.store_id, msg.uncompressed_size, msg.encoding,
                            msg.chunk_id, msg.is_static)
        assert rec[0] == RING  # every payload of this file is small
        data, _ = decompress_payload(msg)
        assert rec[-1] == data.to_pybytes()
        ring_msgs += 1
    assert ring_msgs >= 600


def test_runs_of_one_entity_arrive_combined_with_every_row_once(small_chunks_rrd):
    """With the viewer's run caps the helper joins each entity's slices (the three take
    turns) into single-batch streams; every message is in exactly one record, records come
    in the order of their first message, and each entity's rows keep their order."""
    expected = dict(RrdReader(small_chunks_rrd).entries())
    out, errors, _w, code, text = _run(small_chunks_rrd, 4 << 20, (1 << 20, 16384))
    assert code == 0, text
    assert not errors
    seen: list[int] = []
    firsts: list[int] = []
    joined = 0
    by_entity: dict[str, list[int]] = {}
    for rec in out[:-1]:
        offsets = rec[1] if rec[0] == JOINED else [rec[1]]
        seen += offsets
        firsts.append(offsets[0])
        if rec[0] != JOINED:
            continue
        joined += 1
        (batch,) = pa.ipc.open_stream(pa.py_buffer(rec[-1])).read_all().to_batches()
        parts = [decode_arrow_payload(expected[o]) for o in offsets]
        want = pa.Table.from_batches(parts).combine_chunks().to_batches()[0]
        assert batch.equals(want)
        assert batch.schema.metadata == parts[0].schema.metadata  # the head's chunk id
        entity = batch.schema.metadata[b"rerun:entity_path"].decode()
        by_entity.setdefault(entity, []).extend(offsets)
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert firsts == sorted(firsts)
    assert joined >= 3 and len(by_entity) == 3
    assert all(offs == sorted(offs) for offs in by_entity.values())


def test_payloads_the_ring_cannot_take_are_left_in_the_file(data_dir):
    """mixed.rrd holds a payload bigger than a quarter of a 256 KiB ring: it comes as its
    place in the file, compressed as it is."""
    path = data_dir / "mixed.rrd"
    out, errors, _w, code, text = _run(path, 256 << 10)
    assert code == 0, text
    assert not errors
    by_offset = dict(RrdReader(path).entries())
    left = [r for r in out if r[0] == FILE]
    assert left
    raw = path.read_bytes()
    for rec in left:
        msg = by_offset[rec[1]]
        comp, where, n = rec[-3:]
        assert comp == msg.compression
        assert raw[where:where + n] == bytes(memoryview(msg.payload))


def test_a_damaged_file_gives_the_readers_errors_and_keeps_the_rest(small_chunks_rrd, tmp_path):
    data = bytearray(small_chunks_rrd.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\xab" * 64  # garbage in the middle
    path = tmp_path / "damaged.rrd"
    path.write_bytes(bytes(data[: len(data) - 100]))  # and a cut tail
    msgs, reader_errors = read_rrd(path)
    out, errors, _w, code, text = _run(path, 1 << 20)
    assert code == 0, text
    assert [e.message for e in errors] == [e.message for e in reader_errors]
    assert len([r for r in out if r[0] in (RING, FILE, MESSAGE)]) == len(msgs)


def test_a_payload_lz4_cannot_decompress_is_left_to_the_parent(small_chunks_rrd, tmp_path):
    """The helper does not judge: the parent decodes it and reports the error in place."""
    reader = RrdReader(small_chunks_rrd)
    entries = list(reader.entries())
    off, msg = next((o, m) for o, m in entries[10:]
                    if isinstance(m, ArrowMsg) and m.compression == Compression.LZ4)
    where = reader.position_of(msg.payload)
    data = bytearray(small_chunks_rrd.read_bytes())
    data[where:where + 16] = b"\xff" * 16  # a broken LZ4 block
    path = tmp_path / "bad_block.rrd"
    path.write_bytes(bytes(data))
    out, errors, _w, code, text = _run(path, 1 << 20)
    assert code == 0, text
    rec = next(r for r in out if r[1] == off)
    assert rec[0] == FILE and rec[-3:] == (Compression.LZ4, where, msg.payload_size)


def test_a_helper_whose_parent_goes_away_before_the_job_exits_cleanly():
    helper = helper_launch.launch(1 << 20)
    os.close(helper.ctl_fd)
    code, _text = helper.wait()
    assert code == 0
    assert helper.peak_rss_bytes > 0


def test_a_lone_message_does_not_hold_back_the_runs_behind_it(small_chunks_rrd):
    """An entity logged once (like the SDK's properties chunk) starts a run that never
    fills; after `MAX_HOLD` messages it goes out and the runs behind it follow."""
    from viewer.log.helper_runs import MAX_HOLD, HelperRuns, Part, run_key_of

    entries = [(o, m) for o, m in RrdReader(small_chunks_rrd).entries() if isinstance(m, ArrowMsg)]
    entity = {o: decode_arrow_payload(m).schema.metadata[b"rerun:entity_path"]
              for o, m in entries}
    lone = entries[1]
    rest = [e for e in entries if entity[e[0]] != entity[lone[0]]][: MAX_HOLD + 40]
    runs = HelperRuns(1 << 20, 16384)
    out = []
    for off, msg in [lone, *rest]:
        data, _ = decompress_payload(msg)
        out += runs.add(Part(off, msg), data, run_key_of(data, msg))
    assert out, "everything was held back"
    assert out[0][0] == "one" and out[0][1].offset == lone[0]
    assert sum(len(w) for kind, w, _ in out[1:] if kind == "run") > MAX_HOLD // 2
