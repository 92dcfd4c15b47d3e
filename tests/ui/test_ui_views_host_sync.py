"""A views host makes its plan again in coalesced turns, not in every frame that brings
new entities (the plan walks every entity of the store)."""

from __future__ import annotations

from viewer.log.messages import StoreId, StoreKind
from viewer.store.entity_db import EntityDb
from viewer.ui import views_area
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import data_redraw_queue
from viewer.ui.views_area import ViewsHost


def test_sync_requests_coalesce_into_one_turn(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(views_area, "SYNC_INTERVAL_S", 0.05)
    host = ViewsHost(EntityDb(StoreId(StoreKind.RECORDING, "r", "app")), TimeControl())
    qtbot.addWidget(host)
    syncs = []
    monkeypatch.setattr(host, "sync", lambda limit=None, dock_later=False: syncs.append(limit))
    for _ in range(5):  # five frames with new entities
        host.request_sync()
    qtbot.waitUntil(lambda: len(syncs) == 1 and not len(data_redraw_queue()), timeout=3000)
    host.request_sync()  # later data: another turn
    qtbot.waitUntil(lambda: len(syncs) == 2, timeout=3000)
    assert syncs == [0, 0]
