"""The entity tree model: batched inserts, counts, filter, per-store state."""

from __future__ import annotations

import pyarrow as pa

from viewer.demo import build_chunk
from viewer.log.messages import StoreId, StoreKind
from viewer.log.sorbet import TuidGenerator
from viewer.store.chunk import Chunk
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.entity_tree_panel import PATH_ROLE, EntityTreeModel, EntityTreePanel


def _db(name: str = "t") -> EntityDb:
    return EntityDb(StoreId(StoreKind.RECORDING, name, "tests"))


def _add(db: EntityDb, ids: TuidGenerator, path: str, rows: int) -> None:
    values = pa.array([[1.0]] * rows, pa.list_(pa.float64()))
    batch = build_chunk(ids, path, list(range(rows)), None, [("Scalars", "scalars", "Scalar", values)])
    db.add_chunk(Chunk.from_record_batch(batch))


def test_ui_window_tree_inserts_once_per_parent_per_frame(qtbot):
    db, ids = _db(), TuidGenerator(1)
    model = EntityTreeModel(db)
    inserts: list[tuple[str, int, int]] = []
    model.rowsInserted.connect(lambda parent, a, b: inserts.append((str(parent.data(PATH_ROLE)), a, b)))
    # One "frame": 300 new entities under 3 parents.
    for group in ("a", "b", "c"):
        for i in range(100):
            _add(db, ids, f"/{group}/e{i:03d}", 2)
    model.sync_from_db()
    # Root gets /a, /b, /c in one insert; each parent its 100 children in one insert.
    assert len(inserts) == 4
    assert sorted(b - a + 1 for _, a, b in inserts) == [3, 100, 100, 100]
    a_idx = model.index_of_path(EntityPath.parse("/a"))
    assert model.rowCount(a_idx) == 100
    assert model.index(a_idx.row(), 1, a_idx.parent()).data() == "200"

    # Next frame: rows added to existing entities only -> counts refresh, no insert.
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, roles: changed.append((tl.row(), br.row())))
    _add(db, ids, "/a/e005", 3)
    added = model.sync_from_db([EntityPath.parse("/a/e005")])
    assert added == [] and len(inserts) == 4
    assert model.index(a_idx.row(), 1, a_idx.parent()).data() == "203"
    assert len(changed) == 2  # /a/e005 under /a, and /a under the root


def test_ui_window_tree_filter_and_store_switch_keep_state(qtbot):
    panel = EntityTreePanel()
    qtbot.addWidget(panel)
    db1, db2, ids = _db("one"), _db("two"), TuidGenerator(1)
    for p in ("/world/points", "/world/mesh", "/plots/sin"):
        _add(db1, ids, p, 1)
    _add(db2, ids, "/other/x", 1)
    for db in (db1, db2):
        panel.add_store(db)
        panel.on_frame(db, db.entities())
    panel.set_active(db1)
    tree1 = panel.tree_for(db1.store_id)
    world = tree1.proxy.mapFromSource(tree1.model.index_of_path(EntityPath.parse("/world")))
    plots = tree1.proxy.mapFromSource(tree1.model.index_of_path(EntityPath.parse("/plots")))
    tree1.view.collapse(world)
    tree1.view.expand(plots)
    panel.set_active(db2)
    panel.set_active(db1)
    assert not tree1.view.isExpanded(world) and tree1.view.isExpanded(plots)

    panel.search.setText("mesh")
    proxy = tree1.proxy
    visible = []

    def walk(parent):
        for r in range(proxy.rowCount(parent)):
            idx = proxy.index(r, 0, parent)
            visible.append(idx.data(PATH_ROLE))
            walk(idx)

    from PySide6.QtCore import QModelIndex

    walk(QModelIndex())
    assert visible == ["/world", "/world/mesh"]

    got = []
    panel.entity_selected.connect(lambda sid, path: got.append((sid, path)))
    assert panel.select_path(db1.store_id, EntityPath.parse("/world/mesh"))
    assert got == [(db1.store_id, EntityPath.parse("/world/mesh"))]
