"""Threaded and web mode (and every thread setting) build identical stores from real files."""

from __future__ import annotations

import pytest
from ingest_helpers import DATA_DIR, latest_at_everything

from viewer.store.entity_db import EntityDb
from viewer.store.summary import summarize

FILES = sorted(p.name for p in DATA_DIR.glob("*.rrd"))


def _ingest(make_hub, mode: str, name: str, **overrides):
    hub = make_hub(mode, **overrides)
    src = hub.open_file(DATA_DIR / name)
    assert hub.run_until_idle(30)
    return hub, src


def _direct(name: str) -> list[EntityDb]:
    """The reference: read and apply every message in file order, no pipeline."""
    from viewer.log.arrow import decode_arrow_payload
    from viewer.log.messages import ArrowMsg, SetStoreInfo
    from viewer.log.reader import read_rrd
    from viewer.store.chunk import Chunk

    msgs, errors = read_rrd(DATA_DIR / name)
    assert not errors
    dbs: dict = {}
    for m in msgs:
        db = dbs.setdefault(m.store_id, EntityDb(m.store_id))
        if isinstance(m, SetStoreInfo):
            db.set_store_info(m.info)
        elif isinstance(m, ArrowMsg):
            db.add_chunk(Chunk.from_record_batch(decode_arrow_payload(m), is_static=m.is_static))
    return list(dbs.values())


@pytest.mark.parametrize("name", FILES)
def test_ingest_parity_threaded_web_and_direct(make_hub, name):
    reference = _direct(name)
    ref_summary = summarize(reference)
    ref_latest = [latest_at_everything(db) for db in reference]
    assert any(ref_latest), "nothing to compare"
    for mode, overrides in [("threaded", {}), ("web", {}), ("per_store", {}),
                            ("pool2", {}), ("web", {"merge_max_rows": 0})]:
        hub, src = _ingest(make_hub, mode, name, **overrides)
        assert not src.errors and not hub.errors(), (mode, src.errors)
        dbs = list(hub.dbs().values())
        assert summarize(dbs) == ref_summary, (mode, overrides)
        assert [latest_at_everything(db) for db in dbs] == ref_latest, (mode, overrides)
        assert [db.store_info for db in dbs] == [db.store_info for db in reference]
        assert [db.store_info_count for db in dbs] == [db.store_info_count for db in reference]
        hub.shutdown()
