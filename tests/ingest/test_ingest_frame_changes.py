"""What `frame_applied` reports adds up to what the stores hold."""

from __future__ import annotations

import pytest
from ingest_helpers import DATA_DIR

from viewer.ingest import SourceState

MODES = ["threaded", "web"]


@pytest.mark.parametrize("mode", MODES)
def test_ingest_frame_changes_add_up(make_hub, mode):
    hub = make_hub(mode)
    frames = []
    hub.frame_applied.connect(frames.append)
    src = hub.open_file(DATA_DIR / "mixed.rrd")
    assert hub.run_until_idle(20)
    assert frames and all(frames)  # nothing empty is ever emitted
    dbs = hub.dbs()
    assert [s for f in frames for s in f.new_stores] == list(dbs)
    for sid, db in dbs.items():
        per_store = [f.stores[sid] for f in frames if sid in f.stores]
        assert sum(sc.rows_added for sc in per_store) == db.num_rows
        reported = {str(p) for sc in per_store for p in sc.new_entities}
        assert {str(p) for p in db.entities()} <= reported
        assert {t for sc in per_store for t in sc.timelines_changed} == set(db.timelines())
        assert {t for sc in per_store for t in sc.new_timelines} == set(db.timelines())
        assert sum(sc.store_infos_applied for sc in per_store) == db.store_info_count
    changed = [s for f in frames for s in f.sources_changed]
    assert src in changed and src.state is SourceState.DONE
    stats = hub.stats.snapshot()
    assert stats["rows_applied"] == sum(db.num_rows for db in dbs.values())
    assert stats["messages_applied"] == src.messages_sent
    assert stats["latency_ms"]["n"] > 0 and stats["stores"]
