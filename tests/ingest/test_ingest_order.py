"""Per-store order, repeated SetStoreInfo and blueprint activation, in every mode."""

from __future__ import annotations

import dataclasses

import pytest
from ingest_helpers import (
    ApplyRecorder,
    Sender,
    drain,
    entity_order,
    expected_tokens,
    file_messages,
    grouped_by_entity,
    interleave,
    with_store,
)

from viewer.ingest import SourceState
from viewer.ingest.items import ItemKind
from viewer.log.messages import (
    ArrowMsg,
    BlueprintActivationCommand,
    SetStoreInfo,
    StoreId,
    StoreKind,
    StoreSource,
)

MODES = ["threaded", "per_store", "pool2", "web"]


def _stores(n: int) -> list[StoreId]:
    return [StoreId(StoreKind.RECORDING, f"order-{i}", "ingest_tests") for i in range(n)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("merge_max_rows", [0, 4096])
def test_ingest_order_preserved_per_store_interleaved(make_hub, mode, merge_max_rows):
    # chunks of one entity next to each other, so that merging has something to merge
    base = grouped_by_entity(file_messages("scalars.rrd")) + file_messages("unsorted.rrd")
    stores = _stores(3)
    per_store = [[with_store(m, sid) for m in base] for sid in stores]
    msgs = interleave(*per_store)
    # small queues so that the stores really compete and sources block now and then
    hub = make_hub(mode, merge_max_rows=merge_max_rows, queue_max_messages=8,
                   outbox_max_items=8)
    rec = ApplyRecorder(hub)
    hub.start()
    src = hub.open_stream("interleaved")
    sender = Sender(src, msgs)
    sender.start()
    drain(hub, [sender])
    assert sender.exc is None
    assert src.state is SourceState.DONE
    want = expected_tokens(msgs)
    assert set(rec.tokens) == set(stores)
    for sid in stores:
        assert entity_order(rec.tokens[sid]) == entity_order(want[sid]), \
            f"apply order differs from send order for {sid}"
        if merge_max_rows == 0 or mode == "web":  # nothing joins: exactly the send order
            assert rec.tokens[sid] == want[sid]
    assert list(hub.dbs()) == stores  # insertion order = first message order
    rows = sum(len([t for t in want[s] if t[0] != "info"]) for s in stores)
    assert sum(sc.rows_added for f in rec.frames for sc in f.stores.values()) == rows


@pytest.mark.parametrize("mode", MODES)
def test_ingest_file_order_matches_reader(make_hub, mode, data_dir):
    hub = make_hub(mode)
    rec = ApplyRecorder(hub)
    src = hub.open_file(data_dir / "two_recordings.rrd")
    assert hub.run_until_idle(20)
    assert src.state is SourceState.DONE and not src.errors
    want = expected_tokens(file_messages("two_recordings.rrd"))
    assert len(want) == 2
    assert {sid: entity_order(t) for sid, t in rec.tokens.items()} == \
        {sid: entity_order(t) for sid, t in want.items()}
    assert src.store_ids == list(want)
    assert src.bytes_read == src.total_bytes > 0


@pytest.mark.parametrize("mode", MODES)
def test_ingest_repeated_store_info_latest_wins(make_hub, mode):
    base = [m for m in file_messages("scalars.rrd") if isinstance(m, ArrowMsg)]
    sid = _stores(1)[0]
    infos = []
    msgs = []
    for i in range(5):  # an info, then a few chunks, again and again
        info = SetStoreInfo(dataclasses.replace(
            file_messages("scalars.rrd")[0].info, store_id=sid,
            store_source=StoreSource(kind=6, extra=f"v{i}".encode())))
        infos.append(info)
        msgs.append(info)
        msgs.extend(with_store(m, sid) for m in base[i * 3:(i + 1) * 3])
    hub = make_hub(mode)
    rec = ApplyRecorder(hub)
    hub.start()
    sender = Sender(hub.open_stream("infos"), msgs)
    sender.start()
    drain(hub, [sender])
    db = hub.db(sid)
    assert db.store_info == infos[-1].info
    assert db.store_info_count == len(infos)
    assert sum(f.stores[sid].store_infos_applied for f in rec.frames if sid in f.stores) == 5
    assert [t for t in rec.tokens[sid] if t[0] == "info"] == [("info", i.info) for i in infos]
    assert entity_order(rec.tokens[sid]) == entity_order(expected_tokens(msgs)[sid])


@pytest.mark.parametrize("mode", MODES)
def test_ingest_activation_after_blueprint_chunks(make_hub, mode, data_dir):
    msgs = file_messages("blueprint.rrd")
    act_index = next(i for i, m in enumerate(msgs) if isinstance(m, BlueprintActivationCommand))
    bp_id = msgs[act_index].blueprint_id
    bp_rows_before = sum(
        len(v) for v in [expected_tokens(msgs[:act_index]).get(bp_id, [])]
    ) - sum(1 for m in msgs[:act_index] if isinstance(m, SetStoreInfo) and m.store_id == bp_id)
    assert bp_rows_before > 0

    hub = make_hub(mode, merge_max_rows=0)
    rows_when_activated: list[int] = []

    def listener(store_id, item):
        if item.kind is ItemKind.ACTIVATION:  # what is in the blueprint store at that moment?
            rows_when_activated.append(hub.db(store_id).num_rows)

    hub.frame_driver.apply_listener = listener
    frames = []
    hub.frame_applied.connect(frames.append)
    hub.open_file(data_dir / "blueprint.rrd")
    assert hub.run_until_idle(20)
    assert rows_when_activated == [bp_rows_before]
    acts = [a for f in frames for a in f.blueprint_activations]
    assert acts == [msgs[act_index]]
    assert acts[0].make_default
