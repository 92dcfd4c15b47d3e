"""The main window end to end: drop files, panels and views fill, close while loading,
time cursor drives the views, errors become notifications, settings persist."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from ui_window_support import write_many_chunks

from viewer.ingest import IngestHub, IngestSettings
from viewer.log.arrow import decode_arrow_payload
from viewer.log.messages import ArrowMsg, SetStoreInfo, StoreKind
from viewer.log.reader import read_rrd
from viewer.store.entity_path import EntityPath
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings

MIXED = Path(__file__).parents[1] / "data" / "mixed.rrd"
SCALARS = Path(__file__).parents[1] / "data" / "scalars.rrd"


def make_window(qtbot, tmp_path: Path, settings: AppSettings | None = None,
                hub_settings: IngestSettings | None = None) -> MainWindow:
    hub = IngestHub(hub_settings)
    window = MainWindow(hub, settings or AppSettings(tmp_path / "settings.ini"),
                        restore_geometry=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    hub.start()
    return window


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    yield w
    w.hub.shutdown()
    w.cleanup()


def drop(window: MainWindow, paths: list[Path]) -> tuple[bool, bool]:
    """Send a real drag-enter and drop carrying file URLs; returns (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    ev = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime,
                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, ev)
    return enter.isAccepted(), ev.isAccepted()


def recordings(window: MainWindow) -> list:
    return [s for s in window.stores if s.kind == StoreKind.RECORDING]


def test_ui_window_drop_files_and_folder_fill_store_tree_and_views(window, qtbot, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(SCALARS, folder / "scalars.rrd")
    (folder / "notes.txt").write_text("not a recording")
    entered, dropped = drop(window, [MIXED, folder])
    assert entered and dropped
    assert sorted(Path(s.name).name for s in window.hub.sources()) == ["mixed.rrd", "scalars.rrd"]
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: len(recordings(window)) == 2, timeout=5000)

    # The recordings panel lists both, grouped by application, one of them active.
    assert set(window.recordings_panel.store_ids()) == set(window.stores)
    qtbot.waitUntil(lambda: window.active in window.stores, timeout=5000)
    mixed_id = next(s for s in window.stores if s.recording_id == "fixture-mixed")
    window.recordings_panel.store_activated.emit(mixed_id)
    assert window.active == mixed_id
    db = window.stores[mixed_id].db

    # The tree shows every entity of the store with the store's own row counts.
    tree = window.tree_panel.tree_for(mixed_id)
    assert tree is not None and window.tree_panel.stack.currentWidget() is tree.view
    model = tree.model
    for entity in db.entities():
        idx = model.index_of_path(entity)
        assert idx.isValid(), entity
        shown = model.index(idx.row(), 1, idx.parent()).data()
        assert int(shown.replace(",", "")) == db.tree.node(entity).subtree_rows

    # Views came from the suggestions and show the recording's entities (made one per
    # frame tick, so wait for the last).
    host = window.views_area.host(mixed_id)
    assert window.views_area.currentWidget() is host
    kinds = {"TimeSeriesView", "Spatial3DView", "Spatial2DView", "TextLogView"}
    qtbot.waitUntil(lambda: kinds <= {type(v).__name__ for v in host.all_views()}, timeout=5000)
    assert not host.views_pending
    shown_entities = {e for v in host.all_views() for e in v.entities}
    assert {EntityPath.parse(p) for p in ("/plots/sin", "/plots/cos", "/world/spiral",
                                          "/camera/image", "/camera/points", "/logs")} <= shown_entities
    # The views really drew the data.
    qtbot.waitUntil(lambda: all(v.redraw_count > 0 for v in host.all_views()), timeout=5000)


def test_ui_window_ignores_drag_without_recordings(window, tmp_path):
    text = tmp_path / "a.txt"
    text.write_text("x")
    entered, _ = drop(window, [text])
    assert not entered


def test_ui_window_close_recording_while_loading(qtbot, tmp_path):
    path = tmp_path / "many.rrd"
    store_id = write_many_chunks(path, 3000)
    window = make_window(qtbot, tmp_path)
    try:
        (src,) = window.open_paths([path])
        qtbot.waitUntil(lambda: store_id in window.stores, timeout=10000)
        assert not src.finished, "the file finished before the test could close it"
        window.close_store(store_id)
        assert store_id not in window.stores
        assert store_id not in window.recordings_panel.store_ids()
        assert window.tree_panel.tree_for(store_id) is None
        assert window.views_area.host(store_id) is None
        assert window.active is None
        # The hub dropped the store; the source is not stuck behind the closed worker.
        assert window.hub.db(store_id) is None
        qtbot.waitUntil(lambda: src.finished, timeout=10000)
        assert src.dropped_messages > 0
        window.hub.run_until_idle(5)
        assert store_id not in window.stores  # later frames do not bring it back
        # The window keeps working: another file opens normally.
        window.open_paths([SCALARS])
        assert window.hub.run_until_idle(10)
        qtbot.waitUntil(lambda: len(recordings(window)) == 1, timeout=5000)
    finally:
        window.hub.shutdown()
        window.cleanup()


def _views_by_kind(window: MainWindow) -> dict[str, object]:
    host = window.views_area.host(window.active)
    return {type(v).__name__: v for v in host.all_views()}


def test_ui_window_time_slider_drives_plot_cursor_image_and_points(window, qtbot):
    window.open_paths([MIXED])
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: window.active is not None and len(_views_by_kind(window)) >= 4, timeout=5000)
    tc = window.stores[window.active].time_control
    assert tc.timeline == "frame"
    assert tc.time == 299  # a file starts at its newest data
    views = _views_by_kind(window)
    plot, camera = views["TimeSeriesView"], views["Spatial2DView"]
    image = points = camera  # the camera's points are drawn over its image, in one view
    # New views draw in their turns of the redraw queue: wait until all are done.
    qtbot.waitUntil(lambda: not any(v.redraw_waiting or v.redraw_count == 0
                                    for v in views.values()), timeout=5000)
    image_entity = EntityPath.parse("/camera/image")
    points_entity = EntityPath.parse("/camera/points")
    assert camera.scene.entities[image_entity].images[0].rgba is not None

    def state():
        drawn = camera.scene.entities
        return (plot.cursor_line.value(), drawn[image_entity].images[0].rgba.copy(),
                drawn[points_entity].points[0].positions.copy())

    cursor_end, image_end, points_end = state()
    assert cursor_end == pytest.approx(299)

    before = {id(v): v.redraw_count for v in (image, points)}
    slider = window.time_panel.slider
    slider.setValue(slider.minimum() + (slider.maximum() - slider.minimum()) * 40 // 299)
    assert tc.time == 40
    assert not tc.follow
    qtbot.waitUntil(lambda: all(v.redraw_count > before[id(v)] for v in (image, points)),
                    timeout=3000)
    assert plot.cursor_line.value() == pytest.approx(40)
    cursor_mid, image_mid, points_mid = state()
    assert window.time_panel.time_label.text() == "#40"
    # The image logged at frame 30 (not 270) and the points of frame 40 are shown.
    assert not np.array_equal(image_mid, image_end)
    assert points_mid.shape == points_end.shape and not np.allclose(points_mid, points_end)

    # Keyboard: Right steps one frame, Space toggles playback.
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert tc.time == 41
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert tc.playing
    qtbot.waitUntil(lambda: tc.time > 45, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not tc.playing


def test_ui_window_selection_shows_values_at_cursor(window, qtbot):
    window.open_paths([MIXED])
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: window.active is not None, timeout=5000)
    sid = window.active
    assert window.tree_panel.select_path(sid, EntityPath.parse("/plots/sin"))
    values = dict(window.selection_panel.values())
    assert "Scalars:scalars" in values
    at_end = values["Scalars:scalars"]
    window.time_panel.seek(10)
    at_10 = dict(window.selection_panel.values())["Scalars:scalars"]
    assert at_10 != at_end
    assert f"{np.sin(2 * 10 / 30):.3f}"[:4] in at_10


def test_ui_window_bad_files_become_notifications_not_dialogs(window, qtbot, tmp_path):
    data = MIXED.read_bytes()
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(data[: len(data) // 2])
    junk = tmp_path / "junk.rrd"
    junk.write_bytes(b"this is not a recording at all")
    window.open_paths([cut, junk, SCALARS])
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: len(window.notifications.notifications) >= 2, timeout=5000)
    assert QApplication.activeModalWidget() is None
    titles = {n.title for n in window.notifications.notifications}
    assert {"cut.rrd", "junk.rrd"} <= titles
    assert window.notifications.visible_toasts
    # Whatever could be read is there: the cut file's first half and the good file.
    _, expected_errors = read_rrd(cut)
    assert expected_errors
    names = {s.recording_id for s in recordings(window)}
    assert {"fixture-mixed", "fixture-scalars"} <= names
    # The recordings panel has a red error entry under each bad source.
    for src in window.hub.sources():
        item = window.recordings_panel.source_item(src)
        assert item is not None
        assert (item.childCount() > 0) == bool(src.errors)


def test_ui_window_settings_persist_recent_files_overlay_and_geometry(qtbot, tmp_path):
    settings_path = tmp_path / "settings.ini"
    first = make_window(qtbot, tmp_path, AppSettings(settings_path))
    try:
        first.open_paths([SCALARS])
        first.set_overlay_visible(True)
        first.resize(720, 520)
        size = (first.width(), first.height())
        assert size != (1280, 800)
        assert first.hub.run_until_idle(10)
        first.close()
    finally:
        first.hub.shutdown()
        first.cleanup()
    settings = AppSettings(settings_path)
    assert settings.recent_files() == [str(SCALARS.resolve())]
    assert settings.overlay_visible()
    hub = IngestHub()
    second = MainWindow(hub, settings)
    qtbot.addWidget(second)
    try:
        assert (second.width(), second.height()) == size
        assert [a.text() for a in second.recent_menu.actions()][0] == str(SCALARS.resolve())
        qtbot.waitUntil(lambda: second.overlay_action.isChecked(), timeout=2000)
    finally:
        hub.shutdown()
        second.cleanup()


def test_ui_window_save_recording_roundtrip(window, qtbot, tmp_path):
    window.open_paths([MIXED])
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: window.active is not None, timeout=5000)
    db = window.stores[window.active].db
    out = tmp_path / "saved.rrd"
    assert window.save_active_store(out)
    msgs, errors = read_rrd(out)
    assert not errors
    arrow = [m for m in msgs if isinstance(m, ArrowMsg)]
    assert len(arrow) == db.num_chunks
    assert sum(decode_arrow_payload(m).num_rows for m in arrow) == db.num_rows
    infos = [m for m in msgs if isinstance(m, SetStoreInfo)]
    assert infos and infos[0].store_id == db.store_id
