"""A newly loaded store becomes active in three redraw-queue turns (its tree, what arrived
before the tree existed and, with nothing shown yet, the tree's first show, the switch), and the tree then shows what it showed when this was
one turn: every entity with its row count."""

from __future__ import annotations

from pathlib import Path

from viewer.ingest import IngestHub
from viewer.log.messages import StoreKind
from viewer.ui.main_window import MainWindow
from viewer.ui.settings import AppSettings
from viewer.ui.views.base import data_redraw_queue

SCALARS = Path(__file__).parents[1] / "data" / "scalars.rrd"


def test_activation_takes_three_turns_and_shows_the_whole_tree(qtbot, tmp_path):
    hub = IngestHub()
    window = MainWindow(hub, AppSettings(tmp_path / "settings.ini"), restore_geometry=False)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    queue = data_redraw_queue()
    turns: dict[str, int] = {}

    def spy(name, fn):  # noqa: ANN001, ANN202
        def wrapped(*args):  # noqa: ANN002, ANN202
            turns.setdefault(name, queue.turns)
            return fn(*args)
        return wrapped

    window._activate_new_store = spy("tree", window._activate_new_store)
    window._fill_new_tree = spy("fill", window._fill_new_tree)
    shown_before_switch: list[bool] = []
    switch = window._switch_to_new_store

    def switch_spy(store_id, choice):  # noqa: ANN001, ANN202
        tree = window.tree_panel.tree_for(store_id)
        shown_before_switch.append(
            tree is not None and window.tree_panel.stack.currentWidget() is tree.view)
        return switch(store_id, choice)

    window._switch_to_new_store = spy("switch", switch_spy)
    hub.start()
    try:
        window.open_paths([SCALARS], remember=False)
        assert hub.run_until_idle(20)
        qtbot.waitUntil(lambda: window.active is not None, timeout=5000)
        assert window.active.kind == StoreKind.RECORDING
        assert turns["tree"] < turns["fill"] < turns["switch"]  # one turn each
        # Nothing was shown before: the tree shows in the fill turn (its first show is
        # most of a turn), the switch then changes the other panels and views.
        assert shown_before_switch == [True]
        db = window.stores[window.active].db
        tree = window.tree_panel.tree_for(window.active)
        assert tree is not None and window.tree_panel.stack.currentWidget() is tree.view

        def counts_shown() -> bool:
            for entity in db.entities():
                idx = tree.model.index_of_path(entity)
                if not idx.isValid():
                    return False
                shown = tree.model.index(idx.row(), 1, idx.parent()).data()
                if int(shown.replace(",", "")) != db.tree.node(entity).subtree_rows:
                    return False
            return True

        assert db.entities()
        qtbot.waitUntil(counts_shown, timeout=5000)
    finally:
        hub.shutdown()
        window.cleanup()
