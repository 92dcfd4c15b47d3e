"""ForceLayout: settles within its cooling ticks, separates nodes, keeps logged positions,
gives the same result however its ticks are sliced; collect_graph and edge_geometry on
graphs written by rerun-sdk."""

from __future__ import annotations

import numpy as np

from viewer.scene.graph_data import ARROW_SIZE, collect_graph, edge_geometry
from viewer.scene.graph_layout import (
    COOLING_TICKS,
    EXACT_PAIRS_MAX,
    LINK_DISTANCE,
    ForceLayout,
    spiral_positions,
)
from viewer.scene.query import LatestAt
from viewer.store.entity_path import EntityPath

TWO_TRIANGLES = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3], [0, 3]])


def _free(n: int) -> np.ndarray:
    return np.full((n, 2), np.nan)


def _pair_distances(p: np.ndarray) -> np.ndarray:
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    np.fill_diagonal(d, np.inf)
    return d


def test_layout_converges_and_separates_nodes():
    layout = ForceLayout(_free(6), TWO_TRIANGLES, np.full(6, 4.0))
    assert not layout.converged
    assert layout.step(10_000)
    assert layout.ticks <= COOLING_TICKS + 1
    p = layout.positions
    # Every pair at least two node diameters apart; linked pairs near the rest length.
    assert _pair_distances(p).min() > 16.0
    linked = np.hypot(*(p[TWO_TRIANGLES[:, 0]] - p[TWO_TRIANGLES[:, 1]]).T)
    assert np.all(np.abs(linked - LINK_DISTANCE) < 0.5 * LINK_DISTANCE)
    # Settled: one more tick moves nothing by more than a hundredth of a unit.
    before = p.copy()
    layout.tick()
    assert np.abs(layout.positions - before).max() < 0.01


def test_unlinked_nodes_drift_apart_from_the_spiral():
    start = spiral_positions(20)
    layout = ForceLayout(_free(20), np.empty((0, 2)), np.full(20, 4.0))
    layout.step(10_000)
    assert _pair_distances(layout.positions).min() > _pair_distances(start).min()


def test_sliced_steps_equal_one_run_and_are_deterministic():
    a = ForceLayout(_free(6), TWO_TRIANGLES, np.full(6, 4.0))
    a.step(10_000)
    b = ForceLayout(_free(6), TWO_TRIANGLES, np.full(6, 4.0))
    slices = 0
    while not b.step(7):
        slices += 1
    assert slices > 10
    np.testing.assert_array_equal(a.positions, b.positions)


def test_logged_positions_stay_and_all_fixed_is_converged_at_once():
    fixed = _free(4)
    fixed[0] = (100.0, -50.0)
    layout = ForceLayout(fixed, np.array([[0, 1], [1, 2], [2, 3]]), np.full(4, 4.0))
    layout.step(10_000)
    np.testing.assert_array_equal(layout.positions[0], (100.0, -50.0))
    # The free neighbour was pulled to about a link length from the pinned node.
    assert abs(np.hypot(*(layout.positions[1] - (100.0, -50.0))) - LINK_DISTANCE) < 15.0
    pinned = ForceLayout(np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[0, 1]]))
    assert pinned.converged and pinned.step() and pinned.ticks == 0


def test_coincident_starting_points_are_separated():
    layout = ForceLayout(_free(3), np.empty((0, 2)), np.full(3, 4.0),
                         initial=np.zeros((3, 2)))
    layout.step(10_000)
    assert _pair_distances(layout.positions).min() > 8.0


def test_edge_geometry_ends_at_the_rim_with_arrow_heads_for_directed_edges():
    pos = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 50.0]])
    radii = np.array([4.0, 10.0, 5.0])
    edges = np.array([[0, 1], [0, 2], [1, 1]])
    segs, heads = edge_geometry(pos, radii, edges, np.array([True, False, True]))
    assert segs.shape == (2, 2, 2)  # the self-edge is left out
    np.testing.assert_allclose(segs[0], [[0, 0], [90, 0]])  # stops at node 1's rim
    np.testing.assert_allclose(segs[1], [[0, 0], [0, 45]])
    assert heads.shape == (1, 3, 2)  # only the directed edge 0 -> 1 has a head
    np.testing.assert_allclose(heads[0], [[90, 0], [90 - ARROW_SIZE, ARROW_SIZE / 2],
                                          [90 - ARROW_SIZE, -ARROW_SIZE / 2]])


def test_collect_graph_scopes_ids_per_entity(rrd):
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=1)
        rec.log("net", rr.GraphNodes(["a", "b"], labels=["A"], colors=[0xFF0000FF],
                                     positions=[[1, 2], [3, 4]], radii=[6]),
                rr.GraphEdges([("a", "b"), ("b", "z")], graph_type="directed"))
        rec.log("other", rr.GraphEdges([("a", "b")]))
        rec.log("hidden", rr.GraphNodes(["h"], show_labels=False))

    db = rrd(log)
    net, other, hidden = (EntityPath.parse(p) for p in ("/net", "/other", "/hidden"))
    g = collect_graph(LatestAt(db, "frame", 1), [net, other, hidden])
    assert g.keys == [(net, "a"), (net, "b"), (hidden, "h"), (net, "z"),
                      (other, "a"), (other, "b")]
    np.testing.assert_array_equal(g.positions[:2], [[1, 2], [3, 4]])
    assert np.isnan(g.positions[2:]).all()
    assert g.labels == ["A", "A", None, None, None, None]  # one label repeats (clamped)
    assert g.colors[:2].tolist() == [[255, 0, 0, 255]] * 2
    assert g.radii[:2].tolist() == [6.0, 6.0]
    assert g.explicit.tolist() == [True, True, True, False, False, False]
    assert g.edges.tolist() == [[0, 1], [1, 3], [4, 5]]
    assert g.directed.tolist() == [True, True, False]
    assert len(collect_graph(LatestAt(db, "frame", 0), [net, other])) == 0


def _random_layout(n: int, seed: int, spread: float = 200.0) -> ForceLayout:
    pos = np.random.default_rng(seed).normal(size=(n, 2)) * spread
    return ForceLayout(_free(n), np.empty((0, 2)), np.full(n, 4.0), initial=pos)


def test_grid_forces_match_all_pairs():
    exact, grid = _random_layout(1500, 3), _random_layout(1500, 3)
    exact._pairs(0.5)
    assert grid._grid_pairs(0.5)
    a, b = exact.velocities, grid.velocities
    err = np.hypot(*(a - b).T) / np.hypot(*a.T)
    assert np.median(err) < 0.01 and np.percentile(err, 95) < 0.03


def test_grid_collision_pushes_overlapping_nodes_apart():
    layout = _random_layout(EXACT_PAIRS_MAX + 50, 5, spread=60.0)
    before = _pair_distances(layout.positions).min()
    assert before < 1.0  # some nodes start overlapping
    probe = _random_layout(EXACT_PAIRS_MAX + 50, 5, spread=60.0)
    assert probe._grid_pairs(0.5)  # the grid method, not its fallback
    layout.step(120)
    assert _pair_distances(layout.positions).min() > 4.0


def test_grid_falls_back_to_all_pairs_for_a_dense_cluster():
    layout = _random_layout(EXACT_PAIRS_MAX + 50, 7, spread=1e-3)
    assert not layout._grid_pairs(0.5)  # too many nodes in one finest cell
    layout.step(5)  # and ticks still run (all pairs)
    assert layout.ticks == 5
