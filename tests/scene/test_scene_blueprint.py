"""Blueprint stores written by rerun-sdk (``Blueprint.save``) read into a layout tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands.inspect import inspect_paths
from viewer.log.messages import StoreKind
from viewer.scene.blueprint import (
    BlueprintContainer,
    BlueprintView,
    EntityFilter,
    read_blueprint,
)
from viewer.store.entity_path import EntityPath

P = EntityPath.parse

_WRITE = """
import sys
import rerun.blueprint as rrb
bp = rrb.Blueprint(
    rrb.Horizontal(
        rrb.Spatial3DView(name="Robot", origin="/world",
                          contents=["+ $origin/**", "- /world/debug/**"]),
        rrb.Vertical(
            rrb.Tabs(rrb.Spatial2DView(name="Cam", origin="/world/camera"),
                     rrb.TimeSeriesView(name="Metrics", origin="/metrics"), active_tab=1),
            rrb.Grid(rrb.TextLogView(name="Logs", origin="/logs"),
                     rrb.TextDocumentView(name="Doc", origin="/doc"), grid_columns=2),
            row_shares=[2, 1],
        ),
        column_shares=[3, 2],
    ),
    rrb.BlueprintPanel(state="collapsed"), rrb.SelectionPanel(state="hidden"),
    rrb.TimePanel(state="expanded"),
    auto_views=False,
)
bp.save("bp_app", sys.argv[1])
"""


@pytest.fixture(scope="module")
def rbl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bp_home")
    path = home / "layout.rbl"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home),
           "XDG_CACHE_HOME": str(home), "RERUN_TELEMETRY": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", _WRITE, str(path)], check=True, env=env, timeout=60)
    return path


def _tree(node: BlueprintContainer | BlueprintView) -> object:
    if isinstance(node, BlueprintView):
        return (node.kind, node.name, str(node.origin))
    return (node.kind, node.shares, [_tree(c) for c in node.children])


def test_blueprint_layout_tree_from_an_rbl(rbl: Path) -> None:
    ins = inspect_paths([str(rbl)])
    (store_id, db), = ins.dbs.items()
    assert store_id.kind is StoreKind.BLUEPRINT and store_id.application_id == "bp_app"
    bp = read_blueprint(db)
    assert bp is not None and bp.root is not None and not bp.problems
    assert _tree(bp.root) == (
        "horizontal", [3.0, 2.0], [
            ("spatial3d", "Robot", "/world"),
            ("vertical", [2.0, 1.0], [
                ("tabs", [1.0, 1.0], [("spatial2d", "Cam", "/world/camera"),
                                      ("time_series", "Metrics", "/metrics")]),
                ("grid", [1.0, 1.0], [("text_log", "Logs", "/logs"),
                                      ("text_document", "Doc", "/doc")]),
            ]),
        ])
    tabs = bp.root.children[1].children[0]
    assert tabs.active_tab == tabs.children[1].id  # active_tab=1: the second tab
    assert bp.root.children[1].children[1].grid_columns == 2
    assert [v.name for v in bp.views] == ["Robot", "Cam", "Metrics", "Logs", "Doc"]
    assert bp.views[0].query == ["+ $origin/**", "- /world/debug/**"]
    assert bp.panels == {"blueprint": "collapsed", "selection": "hidden", "time": "expanded"}
    assert bp.auto_views is False
    assert bp.unapplied == []


def test_a_recording_is_not_a_blueprint(data_dir: Path) -> None:
    ins = inspect_paths([str(data_dir / "scalars.rrd")])
    assert all(read_blueprint(db) is None for db in ins.dbs.values())


@pytest.mark.parametrize(("query", "origin", "inside", "outside"), [
    (["$origin/**"], "/world", ["/world", "/world/a/b"], ["/", "/other", "/worldly"]),
    (["+ $origin/**", "- /world/debug/**"], "/world", ["/world/a"],
     ["/world/debug", "/world/debug/x"]),
    (["+ /**", "- /world", "+ /world/keep"], "/", ["/", "/a", "/world/x", "/world/keep"],
     ["/world"]),
    (["/a\n- /a/b/**\n+ /a/b/c"], "/", ["/a", "/a/b/c"], ["/a/b", "/a/b/d", "/b"]),
])
def test_entity_filter_most_specific_rule_wins(query, origin, inside, outside) -> None:
    f = EntityFilter(query, P(origin))
    assert all(f.matches(P(p)) for p in inside), [p for p in inside if not f.matches(P(p))]
    assert not any(f.matches(P(p)) for p in outside), [p for p in outside if f.matches(P(p))]
