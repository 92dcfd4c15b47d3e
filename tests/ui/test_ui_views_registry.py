"""suggest_views and component_values_at on the real fixture recordings."""

from __future__ import annotations

from ui_views_support import load_db, write_recording

from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.plot.timeseries import TimeSeriesView
from viewer.ui.views.registry import VIEW_KINDS, suggest_views, view_kind_by_name
from viewer.ui.views.selection import component_values_at
from viewer.ui.views.spatial.image import ImageView
from viewer.ui.views.spatial.points2d import Points2DView
from viewer.ui.views.spatial.points3d import Points3DView
from viewer.ui.views.text.textlog import TextLogView

P = EntityPath.parse


def test_suggest_views_on_mixed(data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    suggested = suggest_views(db)
    assert [(k, sorted(map(str, e))) for k, e, _ in suggested] == [
        (TimeSeriesView, ["/plots/cos", "/plots/sin"]),
        (Points3DView, ["/world/spiral"]),
        (Points2DView, ["/camera/points"]),
        (ImageView, ["/camera/image"]),
        (TextLogView, ["/logs"]),
    ]
    titles = [title for _, _, title in suggested]
    assert titles == ["/plots", "/", "/camera", "/camera/image", "Text log"]
    assert all(not any(p.startswith("__") for p in e.parts)
               for _, ents, _ in suggested for e in ents)


def test_grouping_rules(tmp_path):
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("a/x", rr.Scalars(1.0))
        rec.log("a/deep/y", rr.Scalars(2.0))
        rec.log("b/z", rr.Scalars(3.0))
        rec.log("top1", rr.Scalars(4.0))
        rec.log("top2", rr.Scalars(5.0))
        rec.log("r1/pts", rr.Points3D([[0, 0, 0]]))
        rec.log("r2/pts", rr.Points3D([[1, 1, 1]]))
        rec.log("img1", rr.Image([[0, 1], [2, 3]]))
        rec.log("img2", rr.Image([[0, 1], [2, 3]]))
        rec.log("l1", rr.TextLog("hello"))
        rec.log("x/l2", rr.TextLog("world"))

    db = write_recording(tmp_path / "groups.rrd", tmp_path, log)
    out = [(k.__name__, sorted(map(str, e)), title) for k, e, title in suggest_views(db)]
    assert out == [
        ("TimeSeriesView", ["/top1", "/top2"], "/"),
        ("TimeSeriesView", ["/a/deep/y", "/a/x"], "/a"),
        ("TimeSeriesView", ["/b/z"], "/b"),
        ("Points3DView", ["/r1/pts", "/r2/pts"], "/"),
        ("ImageView", ["/img1"], "/img1"),
        ("ImageView", ["/img2"], "/img2"),
        ("TextLogView", ["/l1", "/x/l2"], "Text log"),
    ]


def test_every_suggestion_builds(qtbot, data_dir, tmp_path):
    db = load_db(data_dir / "mixed.rrd", tmp_path)
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(100)
    for kind, entities, title in suggest_views(db):
        view = kind(db, entities, tc, title)
        qtbot.addWidget(view)
        view.redraw_now()
        assert view.title == title
        assert all(kind.accepts(db, e) for e in entities)
    assert view_kind_by_name("Time series") is TimeSeriesView
    assert view_kind_by_name("ImageView") is ImageView
    assert len(VIEW_KINDS) == 5


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


def test_streaming_chunks_ends_like_loading_at_once(qtbot, data_dir, tmp_path):
    """Chunks arriving one by one (live), with the cursor following: the views end up showing
    exactly what views built on the complete recording show."""
    import numpy as np

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
        for kind, entities, title in suggest_views(live):
            view = live_views.get((kind, title))
            if view is None:
                view = live_views[(kind, title)] = kind(live, entities, tc_live, title)
                qtbot.addWidget(view)
            for e in entities:
                view.add_entity(e)
            view.on_data_changed([chunk.entity_path])
        rng = live.time_range("frame")
        if rng is not None:  # static chunks come first
            tc_live.set_time(rng[1])
        for view in live_views.values():
            view.redraw_now()
    for kind, entities, title in suggest_views(full):
        ref = kind(full, entities, tc_full, title)
        qtbot.addWidget(ref)
        ref.redraw_now()
        got = live_views[(kind, title)]
        if kind is TimeSeriesView:
            for e in entities:
                np.testing.assert_array_equal(got.curve_data(e)[1], ref.curve_data(e)[1])
        elif kind is Points3DView:
            np.testing.assert_array_equal(got.points, ref.points)
        elif kind is Points2DView:
            assert got.point_count() == ref.point_count() > 0
        elif kind is ImageView:
            assert got.current_image() == ref.current_image()
        elif kind is TextLogView:
            assert got.model.rowCount() == ref.model.rowCount() > 0
            assert got.model.reset_count == 1  # only appends after the first load
