"""Our `.rrd` reader against rerun-sdk's own reader (the oracle) on every fixture file.

Both readers must agree on the stores, the chunks (ids, order, entity, rows, staticness) and
the decoded Arrow record batches, bit for bit including metadata.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, BlueprintActivationCommand, SetStoreInfo, StoreId
from viewer.log.reader import RrdReader

pytestmark = pytest.mark.filterwarnings("ignore:RRD file has no footer")

rr_chunk = pytest.importorskip(
    "rerun.chunk", reason="rerun-sdk (the oracle) is not importable in this environment"
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FIXTURES = sorted(p for p in DATA_DIR.iterdir() if p.suffix in (".rrd", ".rbl"))

StoreKey = tuple[str, str, str]  # (kind, application id, recording id)


def _key(store_id: StoreId) -> StoreKey:
    return (store_id.kind.label, store_id.application_id, store_id.recording_id)


@functools.cache
def _oracle(path: Path) -> dict[StoreKey, list]:
    """Chunks per store, in the oracle's (file) order."""
    reader = rr_chunk.RrdReader(str(path))
    out: dict[StoreKey, list] = {}
    for entry in [*reader.recordings(), *reader.blueprints()]:
        key = (str(entry.kind), entry.application_id, entry.recording_id)
        out[key] = list(reader.stream(store=entry).to_chunks())
    return out


@functools.cache
def _ours(path: Path) -> tuple[list, list]:
    reader = RrdReader(path)
    return list(reader.messages()), list(reader.errors)


def _our_chunks(path: Path) -> dict[StoreKey, list[ArrowMsg]]:
    out: dict[StoreKey, list[ArrowMsg]] = {}
    for msg in _ours(path)[0]:
        if isinstance(msg, ArrowMsg):
            out.setdefault(_key(msg.store_id), []).append(msg)
    return out


def _oracle_chunk_id(chunk) -> bytes:
    return bytes.fromhex(chunk.id.removeprefix("chunk_"))


def _entity(batch: pa.RecordBatch) -> str:
    return batch.schema.metadata[b"rerun:entity_path"].decode()


def test_fixtures_exist() -> None:
    names = {p.name for p in FIXTURES}
    assert {"scalars.rrd", "blueprint.rrd", "two_recordings.rrd", "no_footer.rrd"} <= names


@pytest.fixture(params=FIXTURES, ids=[p.name for p in FIXTURES])
def fixture_path(request) -> Path:
    return request.param


def test_reads_without_errors(fixture_path: Path) -> None:
    messages, errors = _ours(fixture_path)
    assert errors == []
    assert messages, "no messages read"


def test_same_stores(fixture_path: Path) -> None:
    messages, _ = _ours(fixture_path)
    declared = {_key(m.store_id) for m in messages if isinstance(m, SetStoreInfo)}
    with_chunks = set(_our_chunks(fixture_path))
    assert declared == set(_oracle(fixture_path))
    assert with_chunks <= declared, "chunks for a store that was never declared"


def test_same_chunks_in_order(fixture_path: Path) -> None:
    ours, oracle = _our_chunks(fixture_path), _oracle(fixture_path)
    assert set(ours) == {k for k, chunks in oracle.items() if chunks}
    for key, msgs in ours.items():
        assert [m.chunk_id.to_bytes() for m in msgs] == [_oracle_chunk_id(c) for c in oracle[key]]
        assert [bool(m.is_static) for m in msgs] == [c.is_static for c in oracle[key]]


def test_same_entities_and_rows(fixture_path: Path) -> None:
    ours, oracle = _our_chunks(fixture_path), _oracle(fixture_path)
    for key, msgs in ours.items():
        our_rows: Counter[str] = Counter()
        for msg in msgs:
            batch = decode_arrow_payload(msg)
            our_rows[_entity(batch)] += batch.num_rows
        oracle_rows: Counter[str] = Counter()
        for chunk in oracle[key]:
            oracle_rows[str(chunk.entity_path)] += chunk.num_rows
        assert our_rows == oracle_rows, key


def test_record_batches_equal(fixture_path: Path) -> None:
    ours, oracle = _our_chunks(fixture_path), _oracle(fixture_path)
    for key, msgs in ours.items():
        for msg, chunk in zip(msgs, oracle[key], strict=True):
            batch, expected = decode_arrow_payload(msg), chunk.to_record_batch()
            assert batch.schema.equals(expected.schema, check_metadata=True), (key, chunk.id)
            assert batch.equals(expected), (key, chunk.id)


def test_blueprint_activation_names_the_blueprint_store() -> None:
    path = DATA_DIR / "blueprint.rrd"
    messages, _ = _ours(path)
    commands = [m for m in messages if isinstance(m, BlueprintActivationCommand)]
    blueprints = [k for k in _oracle(path) if k[0] == "blueprint"]
    assert len(commands) == 1 and len(blueprints) == 1
    assert _key(commands[0].blueprint_id) == blueprints[0]
    assert commands[0].make_default and not commands[0].make_active
    # The activation comes after every chunk of its blueprint and before the recording's data.
    order = [(type(m).__name__, _key(m.store_id)) for m in messages]
    at = order.index(("BlueprintActivationCommand", blueprints[0]))
    assert all(k != blueprints[0] for kind, k in order[at + 1 :] if kind == "ArrowMsg")
    assert any(k[0] == "recording" for kind, k in order[at + 1 :] if kind == "ArrowMsg")


def test_concatenated_files_match_each_part(tmp_path: Path) -> None:
    """`cat a.rrd b.rrd` (which the oracle refuses) reads as the parts read one by one."""
    parts = [DATA_DIR / "scalars.rrd", DATA_DIR / "two_recordings.rrd", DATA_DIR / "no_footer.rrd"]
    joined = tmp_path / "joined.rrd"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    reader = RrdReader(joined)
    got = [m.chunk_id.to_bytes() for m in reader.messages() if isinstance(m, ArrowMsg)]
    assert reader.errors == []
    expected = [
        _oracle_chunk_id(c) for part in parts for chunks in _oracle(part).values() for c in chunks
    ]
    assert sorted(got) == sorted(expected)
    # File order within each part: the part boundaries fall where the oracle says.
    offset = 0
    for part in parts:
        part_ids = [m.chunk_id.to_bytes() for m in _ours(part)[0] if isinstance(m, ArrowMsg)]
        assert got[offset : offset + len(part_ids)] == part_ids
        offset += len(part_ids)
