"""A chunk whose list offsets were corrupted (a flipped byte) is refused before it enters a
store: the reader reports it with its entity, and every other chunk still loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload, encode_record_batch
from viewer.log.messages import ArrowMsg
from viewer.log.reader import read_rrd
from viewer.log.writer import RrdWriter
from viewer.store.chunk import Chunk, ChunkError

ROOT = Path(__file__).resolve().parents[2]
SCALARS = ROOT / "tests" / "data" / "scalars.rrd"


def _flip_offsets(batch: pa.RecordBatch, column: str, byte: int) -> pa.RecordBatch:
    """The batch with one byte of ``column``'s list offsets buffer flipped."""
    idx = batch.schema.get_field_index(column)
    arr = batch.column(idx)
    offsets = bytearray(arr.buffers()[1].to_pybytes())
    offsets[byte] ^= 0x40
    bad = pa.Array.from_buffers(arr.type, len(arr), [arr.buffers()[0], pa.py_buffer(offsets)],
                                children=[arr.values], offset=arr.offset)
    cols = list(batch.columns)
    cols[idx] = bad
    return pa.RecordBatch.from_arrays(cols, schema=batch.schema)


def _corrupt_file(tmp_path: Path) -> tuple[Path, int]:
    """scalars.rrd with the offsets of the first /plots/cos chunk corrupted; returns the
    path and how many /plots/sin rows the file holds."""
    msgs, errors = read_rrd(SCALARS)
    assert not errors
    out = tmp_path / "corrupt.rrd"
    done = False
    sin_rows = 0
    with RrdWriter(out) as writer:
        for msg in msgs:
            if isinstance(msg, ArrowMsg):
                batch = decode_arrow_payload(msg)
                path = batch.schema.metadata[b"rerun:entity_path"].decode()
                if path == "/plots/sin":
                    sin_rows += batch.num_rows
                if path == "/plots/cos" and not done:
                    comp = next(f.name for f in batch.schema if f.name.endswith(":scalars"))
                    # byte 9 = second byte of the third offset: far out of bounds
                    batch = _flip_offsets(batch, comp, 9)
                    msg = encode_record_batch(batch, msg.store_id, compress=True,
                                              is_static=msg.is_static)
                    done = True
            writer.write(msg)
    assert done
    return out, sin_rows


def test_chunk_refuses_corrupt_list_offsets(tmp_path: Path) -> None:
    msgs, _ = read_rrd(SCALARS)
    batch = next(decode_arrow_payload(m) for m in msgs if isinstance(m, ArrowMsg)
                 and b"/plots/cos" in decode_arrow_payload(m).schema.metadata[b"rerun:entity_path"])
    comp = next(f.name for f in batch.schema if f.name.endswith(":scalars"))
    Chunk.from_record_batch(batch)  # intact: fine
    with pytest.raises(ChunkError, match=r"component column .*scalars.* is corrupt"):
        Chunk.from_record_batch(_flip_offsets(batch, comp, 9))


def test_inspect_reports_the_corrupt_chunk_and_keeps_the_rest(tmp_path: Path) -> None:
    import json

    path, sin_rows = _corrupt_file(tmp_path)
    run = subprocess.run([sys.executable, "-m", "viewer", "inspect", "--json", str(path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    messages = [e["message"] for e in report["errors"]]
    assert len(messages) == 1 and "/plots/cos" in messages[0] and "corrupt" in messages[0]
    (store,) = report["stores"]
    entities = store["entities"]
    assert entities["/plots/sin"]["rows"] == sin_rows  # the other entity is whole
    assert entities["/plots/cos"]["rows"] == sin_rows - 50  # one 50-row chunk lost
