"""TensorView on tensors logged with rerun-sdk: the slice's pixels follow the colormap over
the value range, sliders and dimension selectors change the slice, hover reads the cell,
the tensor at the time cursor, Clear."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from ui_views_support import write_recording

from viewer.scene.colors import colormap
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.tensor.tensor_view import TensorView

K, H, W = 5, 6, 8
_k, _y, _x = np.meshgrid(np.arange(K), np.arange(H), np.arange(W), indexing="ij")
VOLUME = (_x * 10 + _y * 30 + _k * 7).astype(np.uint8)  # max 248: range 0..255
LATER = np.arange(3 * 4 * 9, dtype=np.float32).reshape(3, 4, 9) * 3  # 0..321


@pytest.fixture
def tensor_db(tmp_path, qapp):
    def log(rr, rec):
        rec.set_time("frame", sequence=0)
        rec.log("volume", rr.Tensor(VOLUME, dim_names=("batch", "height", "width")))
        rec.log("ranged", rr.Tensor(np.array([[0.0, 5.0], [10.0, 20.0]]), value_range=(0, 10)))
        rec.log("vector", rr.Tensor(np.array([0, 100, 255], np.uint8)))
        rec.set_time("frame", sequence=3)
        rec.log("volume", rr.Tensor(LATER, dim_names=("batch", "height", "width")))
        rec.set_time("frame", sequence=6)
        rec.log("volume", rr.Clear(recursive=False))

    return write_recording(tmp_path / "tensors.rrd", tmp_path, log)


def _view(qtbot, db, entity, t):
    tc = TimeControl()
    tc.set_timeline("frame")
    tc.set_time(t)
    view = TensorView(db, [EntityPath.parse(entity)], tc)
    qtbot.addWidget(view)
    view.resize(520, 420)
    view.redraw_now()
    return view, tc


def _canvas_pixels(view: TensorView) -> np.ndarray:
    image = view.canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    arr = arr.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4]
    return arr.reshape(image.height(), image.width(), 4).copy()


def _cell_centers(view: TensorView, rows: int, cols: int) -> list[tuple[int, int, QPointF]]:
    rect = view.canvas.image_rect()
    return [(r, c, QPointF(rect.left() + (c + 0.5) * rect.width() / cols,
                           rect.top() + (r + 0.5) * rect.height() / rows))
            for r in range(rows) for c in range(cols)]


def _expected(values: np.ndarray, lo: float, hi: float, name: str) -> np.ndarray:
    t = np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1)
    return colormap(name, t).reshape(values.shape + (4,))


def _assert_canvas_shows(view: TensorView, expected_rgba: np.ndarray) -> None:
    pixels = _canvas_pixels(view)
    rows, cols = expected_rgba.shape[:2]
    for r, c, p in _cell_centers(view, rows, cols):
        got = tuple(pixels[int(p.y()), int(p.x())])
        assert got == tuple(expected_rgba[r, c]), (r, c, got, tuple(expected_rgba[r, c]))


def test_default_slice_pixels_follow_the_colormap(qtbot, tensor_db):
    view, _ = _view(qtbot, tensor_db, "/volume", 0)
    sel = view.selection
    assert (sel.height.dim, sel.width.dim, dict(sel.indices)) == (1, 2, {0: 2})  # by name
    assert view.value_range == (0.0, 255.0)
    np.testing.assert_array_equal(view.current_slice, VOLUME[2])
    rect = view.canvas.image_rect()
    assert abs(rect.width() / rect.height() - W / H) < 0.02
    _assert_canvas_shows(view, _expected(VOLUME[2], 0, 255, "viridis"))
    view.controls.colormap_combo.setCurrentIndex(
        view.controls.colormap_combo.findData("grayscale"))
    assert view.colormap == "grayscale"
    grey = _canvas_pixels(view)
    for r, c, p in _cell_centers(view, H, W):
        assert tuple(grey[int(p.y()), int(p.x())]) == (VOLUME[2, r, c],) * 3 + (255,)


def test_slider_moves_through_the_other_dimension(qtbot, tensor_db):
    view, _ = _view(qtbot, tensor_db, "/volume", 0)
    slider = view.controls.sliders[0]
    assert (slider.minimum(), slider.maximum(), slider.value()) == (0, K - 1, 2)
    before = _canvas_pixels(view)
    slider.setValue(4)
    assert view.selection.indices == {0: 4}
    np.testing.assert_array_equal(view.current_slice, VOLUME[4])
    after = _canvas_pixels(view)
    assert (before != after).any()
    _assert_canvas_shows(view, _expected(VOLUME[4], 0, 255, "viridis"))


def test_dimension_selectors_swap_and_flip(qtbot, tensor_db):
    view, _ = _view(qtbot, tensor_db, "/volume", 0)
    view.controls.height_combo.setCurrentIndex(2)  # the width's dimension: the two swap
    assert (view.selection.height.dim, view.selection.width.dim) == (2, 1)
    np.testing.assert_array_equal(view.current_slice, VOLUME[2].T)
    view.controls.width_combo.setCurrentIndex(0)  # batch across, height gets a slider
    assert view.selection.indices == {1: H // 2}
    assert sorted(view.controls.sliders) == [1]
    np.testing.assert_array_equal(view.current_slice, VOLUME[:, H // 2, :].T)
    view.controls.flip_width.setChecked(True)
    np.testing.assert_array_equal(view.current_slice, VOLUME[:, H // 2, :].T[:, ::-1])
    _assert_canvas_shows(view, _expected(VOLUME[:, H // 2, :].T[:, ::-1], 0, 255, "viridis"))


def test_logged_value_range_and_one_dimensional_tensors(qtbot, tensor_db):
    view, _ = _view(qtbot, tensor_db, "/ranged", 0)
    assert view.value_range == (0.0, 10.0)
    assert "logged" in view.controls.range_label.text()
    view.set_colormap("grayscale")
    # 0 -> 0, 5 -> 128 (0.5 * 255 rounded), 10 and 20 (clamped) -> 255
    np.testing.assert_array_equal(view.current_rgba[..., 0], [[0, 128], [255, 255]])
    vector, _ = _view(qtbot, tensor_db, "/vector", 0)
    assert vector.current_slice.shape == (1, 3)  # one row
    assert vector.value_range == (0.0, 255.0)
    assert not vector.controls.height_combo.isEnabled()


def test_hover_reads_index_and_value(qtbot, tensor_db):
    view, _ = _view(qtbot, tensor_db, "/volume", 0)
    view.show()
    qtbot.waitExposed(view)
    view.controls.sliders[0].setValue(1)
    for r, c, p in _cell_centers(view, H, W)[::7]:
        QTest.mouseMove(view.canvas, p.toPoint())
        expected = f"[1, {r}, {c}] = {VOLUME[1, r, c]}"
        qtbot.waitUntil(lambda e=expected: view.hover_text == e)
        assert view.info.text() == f"/volume: 5×6×8 uint8   {expected}"


def test_tensor_at_the_cursor_keeps_a_valid_selection(qtbot, tensor_db):
    view, tc = _view(qtbot, tensor_db, "/volume", 0)
    view.controls.sliders[0].setValue(4)
    tc.set_time(3)  # (3, 4, 9) float32: batch 4 is out of range now
    qtbot.waitUntil(lambda: view.current_slice is not None and view.current_slice.shape == (4, 9))
    assert view.selection.indices == {0: 2}
    np.testing.assert_array_equal(view.current_slice, LATER[2])
    assert view.value_range == (0.0, float(LATER.max()))  # whole tensor, not the slice
    assert view.controls.sliders[0].maximum() == 2
    tc.set_time(6)
    qtbot.waitUntil(lambda: view.current_slice is None)
    assert view.canvas.image is None and "no tensor" in view.canvas.message


def test_accepts(tensor_db):
    assert TensorView.accepts(tensor_db, EntityPath.parse("/volume"))
    assert not TensorView.accepts(tensor_db, EntityPath.parse("/__properties"))
