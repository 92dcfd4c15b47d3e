"""ForceLayout: settles within its cooling ticks, separates nodes, keeps logged positions,
gives the same result however its ticks are sliced; collect_graph and edge_geometry on
graphs written by rerun-sdk."""

from __future__ import annotations

import numpy as np

from viewer.scene.graph_data import (
    ARROW_SIZE,
    approx_text_size,
    collect_graph,
    collision_radii,
    edge_geometry,
    label_box_size,
)
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
    sizes = np.array([[8.0, 8.0], [20.0, 20.0], [10.0, 10.0]])  # circles r = 4, 10, 5
    boxed = np.zeros(3, dtype=bool)
    edges = np.array([[0, 1], [0, 2], [1, 1]])
    segs, heads = edge_geometry(pos, sizes, boxed, edges, np.array([True, False, True]))
    assert segs.shape == (2, 2, 2)  # the self-edge is left out
    # From the source's rim (was: its centre) to the target's rim.
    np.testing.assert_allclose(segs[0], [[4, 0], [90, 0]])
    np.testing.assert_allclose(segs[1], [[0, 4], [0, 45]])
    assert heads.shape == (1, 3, 2)  # only the directed edge 0 -> 1 has a head
    np.testing.assert_allclose(heads[0], [[90, 0], [90 - ARROW_SIZE, ARROW_SIZE / 2],
                                          [90 - ARROW_SIZE, -ARROW_SIZE / 2]])


def test_edge_geometry_meets_label_boxes_on_their_sides():
    # A 40 x 20 box at the origin, a 30 x 10 box at (100, 50), a circle r = 5 at (0, 100).
    pos = np.array([[0.0, 0.0], [100.0, 50.0], [0.0, 100.0], [30.0, 5.0]])
    sizes = np.array([[40.0, 20.0], [30.0, 10.0], [10.0, 10.0], [30.0, 10.0]])
    boxed = np.array([True, True, False, True])
    edges = np.array([[0, 1], [0, 2], [0, 3]])
    segs, heads = edge_geometry(pos, sizes, boxed, edges, np.array([True, True, True]))
    # 0 -> 1 along (2, 1): leaves box 0 through its right side (x = 20, y = 10) and enters
    # box 1 through its top (y = 45, x = 90).
    np.testing.assert_allclose(segs[0], [[20, 10], [90, 45]])
    np.testing.assert_allclose(heads[0][0], [90, 45])
    # 0 -> 2 straight down: the box's bottom (y = 10) to the circle's rim (y = 95).
    np.testing.assert_allclose(segs[1], [[0, 10], [0, 95]])
    # 0 and 3 overlap (|dx| 30 < 35, |dy| 5 < 15): no edge.
    assert len(segs) == 2 and len(heads) == 2


def test_collision_radius_encloses_the_label_box():
    sizes = np.array([[30.0, 40.0], [8.0, 8.0]])
    np.testing.assert_allclose(collision_radii(sizes, np.array([True, False])), [25.0, 4.0])


def test_labelled_nodes_settle_without_overlapping_boxes():
    texts = ["start", "a rather long label", "x", "middle node", "end", "loop back"]
    sizes = np.array([label_box_size(approx_text_size(t)) for t in texts])
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [1, 4]])
    layout = ForceLayout(_free(len(texts)), edges, collision_radii(sizes, np.ones(6, bool)))
    assert layout.step(10_000)
    p, half = layout.positions, 0.5 * sizes
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            gap = np.abs(p[i] - p[j]) - (half[i] + half[j])
            assert gap.max() > 0, (texts[i], texts[j])  # apart along x or y


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
    # Labelled nodes are label boxes (text + margins + border), the rest 2r circles;
    # a fixed-width measure: "A" is 10 x 12, so its box is 24 x 22.
    g = collect_graph(LatestAt(db, "frame", 1), [net, other, hidden],
                      measure=lambda text: (10.0 * len(text), 12.0))
    assert g.boxed.tolist() == [True, True, False, False, False, False]
    assert g.sizes.tolist() == [[24, 22], [24, 22], [8, 8], [8, 8], [8, 8], [8, 8]]
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
