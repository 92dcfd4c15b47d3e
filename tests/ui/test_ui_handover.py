"""A file handed to a running window (`rrd-viewer FILE` while it runs) shows up as if it had
been dropped on it: a file source, the recording with its entities, a recent-files entry.
Exports from the entity tree's context menu write what `rrd-viewer export` writes."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from viewer.handover import hand_over
from viewer.ingest import IngestHub
from viewer.log.messages import StoreKind
from viewer.store.entity_path import EntityPath
from viewer.ui.app import start_handover
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    hub = IngestHub()
    w = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    hub.start()
    yield w
    hub.shutdown()
    w.cleanup()


def recording(window: MainWindow, recording_id: str):
    return next((s for s in window.stores if s.kind == StoreKind.RECORDING
                 and s.recording_id == recording_id), None)


def test_ui_handover_opens_like_a_drop(window, qtbot) -> None:
    listener, _receiver = start_handover(window, 45678)
    assert listener is not None
    try:
        result = hand_over([str(DATA / "scalars.rrd")], "127.0.0.1", 45678)
        assert result is not None and result.route == "window" and not result.failed
        qtbot.waitUntil(lambda: [Path(s.name).name for s in window.hub.sources()]
                        == ["scalars.rrd"], timeout=5000)
        assert window.hub.run_until_idle(20)
        qtbot.waitUntil(lambda: recording(window, "fixture-scalars") is not None, timeout=5000)
        db = window.stores[recording(window, "fixture-scalars")].db
        assert sum(db.rows_per_entity.values()) == 751
        assert str(DATA / "scalars.rrd") in window.settings.recent_files()
        # a second viewer for the same port does not take the socket over
        second, _ = start_handover(window, 45678)
        assert second is None
    finally:
        listener.stop()


def test_ui_tree_context_menu_exports_entity_and_subtree(window, qtbot, tmp_path) -> None:
    window.open_paths([DATA / "scalars.rrd"])
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: recording(window, "fixture-scalars") is not None, timeout=5000)
    sid = recording(window, "fixture-scalars")
    panel = window.tree_panel
    panel.add_store(window.stores[sid].db)
    finished: list[tuple[str, int, str]] = []
    panel.exported.connect(lambda *a: finished.append(a))

    menu = panel.context_menu(sid, EntityPath.parse("/plots"))
    assert [a.text() for a in menu.actions()] == ["Export /plots/**…"]  # no data of its own
    menu = panel.context_menu(sid, EntityPath.parse("/plots/sin"))
    assert [a.text() for a in menu.actions()] == ["Export /plots/sin…"]

    out = tmp_path / "sin.parquet"
    panel.ask_export_path = lambda suggested: str(out)
    menu.actions()[0].trigger()
    assert finished == [(str(out), 300, "")]
    table = pq.read_table(out)
    db = window.stores[sid].db
    rows = db.range(EntityPath.parse("/plots/sin"), "Scalars:scalars", "frame", -(1 << 62), 1 << 62)
    assert table.column("Scalars:scalars").to_pylist() == rows.values.to_pylist()

    csv_out = tmp_path / "plots.csv"
    panel.ask_export_path = lambda suggested: str(csv_out)
    panel.context_menu(sid, EntityPath.parse("/plots")).actions()[0].trigger()
    assert finished[-1] == (str(csv_out), 750, "")
    assert set(pcsv.read_csv(csv_out).column("entity").to_pylist()) == \
        {"/plots/sin", "/plots/cos", "/plots/noise/a"}

    panel.ask_export_path = lambda suggested: ""  # cancelled: nothing happens
    assert panel.export_entity(sid, "/plots/**") is None
    assert len(finished) == 2
