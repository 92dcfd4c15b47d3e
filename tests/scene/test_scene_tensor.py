"""Tensor helpers of the scene layer on tensors logged with rerun-sdk: TensorData decoding,
Rerun's slice defaults, slicing, the value range heuristic and the colormapping."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.scene.query import LatestAt
from viewer.scene.tensor_colormap import colormapped, normalize, value_range
from viewer.scene.tensor_data import TensorDataError, tensor_at, tensor_from_cell
from viewer.scene.tensor_slice import (
    DimSelection,
    SliceSelection,
    default_selection,
    default_width_height,
    make_valid,
    slice_2d,
    tensor_index,
)
from viewer.store.entity_path import EntityPath

DTYPES = [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
          np.float16, np.float32, np.float64]


def test_every_element_type_decodes_with_shape_names_and_values(rrd):
    arrays = {np.dtype(dt).name: (np.arange(24).reshape(2, 3, 4) - 5).astype(dt)
              for dt in DTYPES}

    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        for name, array in arrays.items():
            rec.log(name, rr.Tensor(array, dim_names=("batch", "rows", "cols")))
        rec.log("unnamed", rr.Tensor(np.ones((3, 2), np.float32)))

    db = rrd(log)
    query = LatestAt(db, "frame", 0)
    for name, array in arrays.items():
        found = tensor_at(query, EntityPath.parse(f"/{name}"))
        assert found is not None and found.logged_range is None
        assert found.tensor.array.dtype == array.dtype, name
        assert found.tensor.shape == (2, 3, 4)
        assert found.tensor.names == ("batch", "rows", "cols")
        np.testing.assert_array_equal(found.tensor.array, array)
    unnamed = tensor_at(query, EntityPath.parse("/unnamed")).tensor
    assert unnamed.names == (None, None) and unnamed.shape == (3, 2)


def test_tensor_at_follows_the_cursor_value_range_and_clear(rrd):
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=1)
        rec.log("t", rr.Tensor(np.zeros((2, 2), np.uint8)))
        rec.set_time("frame", sequence=2)
        rec.log("t", rr.Tensor(np.full((3, 2), 7.5, np.float32), value_range=(-1.0, 9.0)))
        rec.set_time("frame", sequence=4)
        rec.log("t", rr.Clear(recursive=False))

    db = rrd(log)
    t = EntityPath.parse("/t")
    assert tensor_at(LatestAt(db, "frame", 0), t) is None
    first = tensor_at(LatestAt(db, "frame", 1), t)
    assert first.tensor.shape == (2, 2) and first.logged_range is None
    second = tensor_at(LatestAt(db, "frame", 3), t)
    assert second.tensor.shape == (3, 2) and second.logged_range == (-1.0, 9.0)
    assert second.key != first.key
    assert tensor_at(LatestAt(db, "frame", 3), t).key == second.key  # same rows, same key
    assert tensor_at(LatestAt(db, "frame", 4), t) is None  # cleared


def test_bad_cells_raise_a_clear_error():
    import pyarrow as pa

    with pytest.raises(TensorDataError, match="TensorData struct"):
        tensor_from_cell(pa.array([1, 2, 3]))


@pytest.mark.parametrize(("shape", "names", "expected"), [
    ((800, 50), (), (1, 0)),            # numpy order [height, width]
    ((50, 800), (), (1, 0)),
    ((800, 50, 4), (), (1, 0)),
    ((10, 10, 10), (), (1, 0)),
    ((4, 50, 800), (), (2, 1)),         # longest is the width
    ((4, 800, 50, 4), (), (1, 2)),
    ((2, 3, 800), ("w", "h", None), (0, 1)),                  # by name
    ((2, 800, 3), ("height", None, "width"), (2, 0)),
    ((2, 50, 800), ("W", None, None), (0, 2)),                # partly named, any case
    ((50, 800, 10, 20), (None, None, None, "height"), (1, 3)),
])
def test_default_width_and_height_follow_rerun(shape, names, expected):
    assert default_width_height(shape, names + (None,) * (len(shape) - len(names))) == expected


def test_make_valid_fills_clamps_and_keeps_width_and_height_apart():
    shape, names = (5, 32, 48), (None, None, None)
    assert default_selection(shape, names) == SliceSelection(
        DimSelection(2), DimSelection(1), {0: 2})  # other dims start in the middle
    assert make_valid(shape, names, 2, 1, {0: 99}).indices == {0: 4}
    assert make_valid(shape, names, 2, 1, {0: -3}).indices == {0: 0}
    # Width on the default height's dimension: height takes the other default.
    assert make_valid(shape, names, width=1) == SliceSelection(
        DimSelection(1), DimSelection(2), {0: 2})
    # Same dimension for both: height gives way.
    sel = make_valid(shape, names, width=0, height=0)
    assert sel.width == DimSelection(0) and sel.height == DimSelection(1)
    assert sel.indices == {2: 24}
    assert make_valid(shape, names, width=9, height=0).width == DimSelection(2)
    # "left" along the width and "up" along the height are drawn reversed.
    flipped = default_selection((4, 6), ("up", "left"))
    assert flipped.width == DimSelection(1, True) and flipped.height == DimSelection(0, True)
    assert default_selection((7,), (None,)) == SliceSelection(DimSelection(0), None, {})


def test_slice_2d_cuts_the_selected_plane():
    a = np.arange(24).reshape(2, 3, 4)
    sel = default_selection(a.shape, (None,) * 3)  # width = dim 2, height = dim 1, dim 0 = 1
    np.testing.assert_array_equal(slice_2d(a, sel), [[12, 13, 14, 15], [16, 17, 18, 19],
                                                     [20, 21, 22, 23]])
    sel0 = make_valid(a.shape, (None,) * 3, sel.width, sel.height, {0: 0})
    np.testing.assert_array_equal(slice_2d(a, sel0)[0], [0, 1, 2, 3])
    swapped = make_valid(a.shape, (None,) * 3, width=1, height=2, indices={0: 1})
    np.testing.assert_array_equal(slice_2d(a, swapped), a[1].T)
    # Height after width in dimension order: out[r, c] = a[c, 1, r].
    across = make_valid(a.shape, (None,) * 3, width=0, height=2, indices={1: 1})
    out = slice_2d(a, across)
    assert out.shape == (4, 2) and out[3, 1] == a[1, 1, 3] == 19
    inverted = SliceSelection(DimSelection(2, True), DimSelection(1, True), {0: 1})
    np.testing.assert_array_equal(slice_2d(a, inverted), a[1][::-1, ::-1])
    row = slice_2d(np.array([4, 5, 6]), default_selection((3,), (None,)))
    np.testing.assert_array_equal(row, [[4, 5, 6]])


def test_tensor_index_points_at_the_drawn_cell():
    a = np.arange(3 * 4 * 5).reshape(3, 4, 5)
    for sel in (SliceSelection(DimSelection(2), DimSelection(0), {1: 2}),
                SliceSelection(DimSelection(0, True), DimSelection(2, True), {1: 3})):
        cut = slice_2d(a, sel)
        for r in range(cut.shape[0]):
            for c in range(cut.shape[1]):
                assert a[tensor_index(sel, a.shape, r, c)] == cut[r, c]


@pytest.mark.parametrize(("values", "logged", "expected"), [
    (np.array([3, 200], np.uint8), None, (0.0, 255.0)),
    (np.array([300, 4000], np.uint16), None, (300.0, 4000.0)),
    (np.array([0.1, 0.9], np.float32), None, (0.0, 1.0)),
    (np.array([0.5, np.nan, np.inf], np.float64), None, (0.0, 1.0)),  # finite values only
    (np.array([-1.0, 3.0]), None, (-1.0, 3.0)),
    (np.array([300, 300], np.int16), None, (299.0, 301.0)),          # constant
    (np.array([-7, 7], np.int8), (-100.0, 50.0), (-100.0, 50.0)),     # logged wins
])
def test_value_range_heuristic(values, logged, expected):
    assert value_range(values, logged) == pytest.approx(expected)


def test_colormapped_slices_are_the_colormap_of_the_normalized_values():
    grey = colormapped(np.array([[0, 51], [102, 255]], np.uint8), 0.0, 255.0, "grayscale")
    assert grey.shape == (2, 2, 4) and grey.flags.c_contiguous
    np.testing.assert_array_equal(grey[..., 0], [[0, 51], [102, 255]])
    assert (grey[..., 0] == grey[..., 2]).all() and (grey[..., 3] == 255).all()
    # Gamma 2: 51 -> (0.2 ** 2) * 255 = 10.2 -> 10.
    assert colormapped(np.array([[51]]), 0, 255, "grayscale", gamma=2.0)[0, 0, 0] == 10
    # Viridis runs from its dark purple to its yellow; values outside the range clamp.
    ends = colormapped(np.array([[-5.0, 0.0, 1.0, 9.0]]), 0.0, 1.0, "viridis")
    assert tuple(ends[0, 1, :3]) == (0x44, 0x01, 0x54) == tuple(ends[0, 0, :3])
    assert tuple(ends[0, 2, :3]) == (0xFD, 0xE7, 0x25) == tuple(ends[0, 3, :3])
    assert colormapped(np.array([[np.nan]]), 0.0, 1.0, "viridis")[0, 0, 3] == 0
    np.testing.assert_allclose(normalize(np.array([2.0, 4.0, 6.0]), 2.0, 6.0), [0, 0.5, 1])


def test_tensor_at_reuses_the_previous_decode_for_the_same_rows(rrd):
    def log(rec):
        import rerun as rr

        rec.set_time("frame", sequence=0)
        rec.log("t", rr.Tensor(np.eye(3, dtype=np.float32)))
        rec.set_time("frame", sequence=2)
        rec.log("t", rr.Tensor(np.eye(4, dtype=np.float32)))

    db = rrd(log)
    t = EntityPath.parse("/t")
    first = tensor_at(LatestAt(db, "frame", 0), t)
    assert tensor_at(LatestAt(db, "frame", 1), t, first) is first
    second = tensor_at(LatestAt(db, "frame", 2), t, first)
    assert second is not first and second.tensor.shape == (4, 4)
