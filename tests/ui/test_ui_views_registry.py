"""The layout plan on real fixture recordings: the scene layer's default views mapped to
widgets, every planned view builds and draws, and streaming ends like loading at once."""

from __future__ import annotations

import numpy as np
from ui_views_support import load_db

from viewer.scene.heuristics import default_views
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.registry import KIND_CLASSES, create_view, heuristic_plan
from viewer.ui.views.selection import component_values_at
from viewer.ui.views.spatial.view2d import Spatial2DView
from viewer.ui.views.spatial.view3d import Spatial3DView
from viewer.ui.views.text.textlog import TextLogView

P = EntityPath.parse


def test_plan_on_mixed_follows_the_scene_heuristics(data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    plan = heuristic_plan(db)
    specs = default_views(db)
    assert [(v.cls, v.title, str(v.origin), v.entities) for v in plan.views] == [
        (KIND_CLASSES[s.kind], s.name, str(s.origin), s.entities) for s in specs]
    kinds = {v.cls for v in plan.views}
    assert {Spatial3DView, Spatial2DView, TimeSeriesView, TextLogView} <= kinds
    shown = {str(e) for v in plan.views for e in v.entities}
    assert {"/plots/sin", "/plots/cos", "/world/spiral", "/camera/image", "/camera/points",
            "/logs"} <= shown
    assert not any(p.startswith("/__") for p in shown)
    # The camera's points are drawn over its image, in one 2D view.
    (cam,) = [v for v in plan.views if v.cls is Spatial2DView]
    assert {P("/camera/image"), P("/camera/points")} <= set(cam.entities)
    assert len({v.key for v in plan.views}) == len(plan.views)  # keys identify views


def test_every_planned_view_builds_and_draws(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(100)
    for planned in heuristic_plan(db).views:
        view = create_view(planned, db, tc)
        qtbot.addWidget(view)
        view.redraw_now()
        assert view.title == planned.title and view.last_error is None
        if isinstance(view, Spatial3DView | Spatial2DView):
            drawn = view.scene.entities
            assert set(drawn) == set(planned.entities), planned.title
            assert all(d.error is None and d.instances > 0 for d in drawn.values())


def test_component_values_at(data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    values = dict(component_values_at(db, P("/plots/sin"), "frame", 150))
    series_t, series_v = db.scalar_series(P("/plots/sin"), "Scalars:scalars", "frame", 150, 150)
    assert values["Scalars:scalars"] == f"{series_v[-1]:.6g}"
    image = dict(component_values_at(db, P("/camera/image"), "frame", 150))
    assert image["Image:format"] == "64×48 RGB U8"
    assert image["Image:buffer"] == f"<{64 * 48 * 3} bytes>"
    spiral = dict(component_values_at(db, P("/world/spiral"), "frame", 150))
    n = len(db.latest_at(P("/world/spiral"), "Points3D:positions", "frame", 150).value)
    assert spiral["Points3D:positions"].startswith(f"{n} values: (")
    assert spiral["Points3D:colors"].startswith(f"{n} values: #")
    logs = dict(component_values_at(db, P("/logs"), "frame", 150))
    text = db.latest_at(P("/logs"), "TextLog:text", "frame", 150).value[0].as_py()
    assert logs["TextLog:text"] == text
    # Before any data: a dash; static data is marked.
    assert dict(component_values_at(db, P("/logs"), "frame", -5))["TextLog:text"] == "–"
    props = dict(component_values_at(db, P("/__properties"), "frame", 0))
    assert all(v.endswith("(static)") for v in props.values())


def _points(view: Spatial3DView | Spatial2DView) -> np.ndarray:
    parts = [b.positions for d in view.scene.entities.values() for b in d.points]
    return np.concatenate(parts) if parts else np.empty((0, view.scene.dims))


def test_streaming_chunks_ends_like_loading_at_once(qtbot, data_dir, tmp_path):
    """Chunks arriving one by one (live), with the cursor following: the views end up showing
    exactly what views built on the complete recording show."""
    from viewer.log.messages import StoreId, StoreKind
    from viewer.store.entity_db import EntityDb

    full = load_db(data_dir / "mixed.rrd", tmp_path)
    chunks = list(full.chunks_by_age())
    live = EntityDb(StoreId(StoreKind.RECORDING, "live", "live"))
    tc_live, tc_full = TimeControl(), TimeControl()
    for tc in (tc_live, tc_full):
        tc.set_timeline("frame")
    tc_full.set_time(full.time_range("frame")[1])
    live_views = {}
    for chunk in chunks:
        live.add_chunk(chunk)
        for planned in heuristic_plan(live).views:
            view = live_views.get(planned.key)
            if view is None:
                view = live_views[planned.key] = create_view(planned, live, tc_live)
                qtbot.addWidget(view)
            for e in planned.entities:
                view.add_entity(e)
            view.on_data_changed([chunk.entity_path])
        rng = live.time_range("frame")
        if rng is not None:  # static chunks come first
            tc_live.set_time(rng[1])
        for view in live_views.values():
            view.redraw_now()
    for planned in heuristic_plan(full).views:
        ref = create_view(planned, full, tc_full)
        qtbot.addWidget(ref)
        ref.redraw_now()
        got = live_views[planned.key]
        if planned.cls is TimeSeriesView:
            for e in planned.entities:
                np.testing.assert_array_equal(got.curve_data(e)[1], ref.curve_data(e)[1])
        elif planned.cls in (Spatial3DView, Spatial2DView):
            assert len(_points(ref)) > 0
            np.testing.assert_array_equal(_points(got), _points(ref))
            assert {e: d.instances for e, d in got.scene.entities.items()} == \
                {e: d.instances for e, d in ref.scene.entities.items()}
        elif planned.cls is TextLogView:
            assert got.model.rowCount() == ref.model.rowCount() > 0
            assert got.model.reset_count == 1  # only appends after the first load
