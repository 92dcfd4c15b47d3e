"""Blueprints lay out the window: carried by a recording, a separate .rbl of the same
application, or arriving later over a live stream; "reset to default layout"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_ui_window_main import make_window

from viewer.log.messages import StoreKind
from viewer.log.reader import read_rrd

_WRITE = r"""
import sys
import rerun as rr
import rerun.blueprint as rrb
out = sys.argv[1]
def data(rec):
    for f in range(5):
        rec.set_time("frame", sequence=f)
        rec.log("plots/a", rr.Scalars(float(f)))
        rec.log("plots/b", rr.Scalars(float(-f)))
        rec.log("other/c", rr.Scalars(1.0))
        rec.log("logs", rr.TextLog(f"line {f}"))
bp = rrb.Blueprint(
    rrb.Vertical(rrb.TimeSeriesView(origin="/plots", name="Only plots",
                                    contents=["+ $origin/**", "- /plots/b"],
                                    plot_legend=rrb.PlotLegend(visible=False)),
                 rrb.TextLogView(origin="/logs", name="The log"), row_shares=[3, 1]),
    rrb.SelectionPanel(state="hidden"),
)
rec = rr.RecordingStream("bp_window", recording_id="carried")
rec.save(f"{out}/carried.rrd", default_blueprint=bp)
data(rec)
rec.flush()
rec = rr.RecordingStream("bp_window", recording_id="plain")
rec.save(f"{out}/plain.rrd")
data(rec)
rec.flush()
bp.save("bp_window", f"{out}/layout.rbl")
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bp_window")
    env = {"HOME": str(out), "XDG_CONFIG_HOME": str(out), "XDG_DATA_HOME": str(out),
           "XDG_CACHE_HOME": str(out), "RERUN_TELEMETRY": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", _WRITE, str(out)], check=True, env=env, timeout=120)
    return out


def _shown(window) -> dict[str, list[str]]:  # noqa: ANN001
    """Title -> entities of every view of the active recording."""
    window.views_area.flush_pending()
    host = window.views_area.host(window.active)
    return {v.title: sorted(map(str, v.entities)) for v in host.all_views()}


def _load(window, qtbot, paths: list[Path], recording_id: str) -> None:  # noqa: ANN001
    window.open_paths(paths, remember=False)
    assert window.hub.run_until_idle(20)
    qtbot.waitUntil(lambda: window.active is not None
                    and window.active.recording_id == recording_id, timeout=5000)


BLUEPRINT_VIEWS = {"Only plots": ["/plots/a"], "The log": ["/logs"]}


def test_a_recording_saved_with_its_blueprint_is_laid_out_by_it(qtbot, tmp_path, files):
    window = make_window(qtbot, tmp_path)
    try:
        _load(window, qtbot, [files / "carried.rrd"], "carried")
        qtbot.waitUntil(lambda: _shown(window) == BLUEPRINT_VIEWS, timeout=5000)
        assert window.selection_dock.isHidden()  # the blueprint hides the selection panel
        # what it sets and the window does not apply yet is said, once
        qtbot.waitUntil(lambda: any("not applied yet" in n.text and "PlotLegend" in n.text
                                    for n in window.notifications.notifications), timeout=5000)
        said = [n for n in window.notifications.notifications if "not applied yet" in n.text]
        assert len(said) == 1
        assert window.tree_dock.isVisible()
        # /other/c and /plots/b are outside every view's contents: not shown anywhere
        host = window.views_area.host(window.active)
        log = next(d for k, d in host.docks.items() if k[0] == "TextLogView")
        plots = next(d for k, d in host.docks.items() if k[0] == "TimeSeriesView")
        qtbot.waitUntil(lambda: plots.geometry().bottom() < log.geometry().top()
                        and plots.height() > 2 * log.height(), timeout=3000)  # row_shares 3:1
    finally:
        window.hub.shutdown()
        window.cleanup()


def test_an_rbl_opened_next_to_a_recording_of_its_application_applies(qtbot, tmp_path, files):
    window = make_window(qtbot, tmp_path)
    try:
        _load(window, qtbot, [files / "plain.rrd"], "plain")
        heuristic = _shown(window)
        assert "/plots/b" in sum(heuristic.values(), [])  # no blueprint yet: everything
        window.open_paths([files / "layout.rbl"], remember=False)
        assert window.hub.run_until_idle(20)
        qtbot.waitUntil(lambda: _shown(window) == BLUEPRINT_VIEWS, timeout=5000)
        # Reset: back to the default blueprint; this .rbl was saved as the default too.
        window.reset_layout()
        qtbot.waitUntil(lambda: _shown(window) == BLUEPRINT_VIEWS, timeout=5000)
    finally:
        window.hub.shutdown()
        window.cleanup()


def test_a_blueprint_arriving_live_relays_out_and_reset_returns_to_heuristics(
        qtbot, tmp_path, files):
    window = make_window(qtbot, tmp_path)
    try:
        _load(window, qtbot, [files / "plain.rrd"], "plain")
        heuristic = _shown(window)
        msgs, errors = read_rrd(files / "layout.rbl")
        assert not errors
        stream = window.hub.open_stream("live blueprint")
        for msg in msgs:
            if getattr(msg, "make_default", None) is not None:
                # sent like rr.send_blueprint(make_default=False): active only
                msg = type(msg)(msg.blueprint_id, make_active=True, make_default=False)
            stream.submit(msg)
        stream.finish()
        assert window.hub.run_until_idle(20)
        qtbot.waitUntil(lambda: _shown(window) == BLUEPRINT_VIEWS, timeout=5000)
        assert any(s.kind == StoreKind.BLUEPRINT for s in window.stores)
        window.reset_layout()  # no default blueprint: the heuristic layout again
        qtbot.waitUntil(lambda: _shown(window) == heuristic, timeout=5000)
    finally:
        window.hub.shutdown()
        window.cleanup()
