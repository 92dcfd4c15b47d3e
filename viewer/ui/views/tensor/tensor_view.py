"""A ``Tensor`` at the time cursor: one 2D slice, colormapped, with dimension selectors.

Two dimensions are drawn (height down, width across); every other one is fixed at the
index its slider picks. The defaults and the repair of a selection when the tensor at the
cursor changes shape are Rerun's (``viewer.scene.tensor_slice``); colours span
``Tensor:value_range`` or Rerun's range heuristic over the whole tensor
(``viewer.scene.tensor_colormap``), so moving a slider keeps the scale. Hovering a cell
shows its full tensor index and value. Like Rerun, a view shows one tensor: the first of
its entities that has one at the cursor.

A new tensor row is decoded once (a view of the Arrow buffer); moving the cursor within
the same row, or changing nothing, repaints nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from viewer.scene.query import LatestAt
from viewer.scene.tensor_colormap import DEFAULT_COLORMAP, colormapped, value_range
from viewer.scene.tensor_data import TENSOR_DATA, TensorAt, TensorDataError, tensor_at
from viewer.scene.tensor_slice import (
    DimSelection,
    SliceSelection,
    default_selection,
    make_valid,
    slice_2d,
    tensor_index,
)
from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.time_control import TimeControl
from viewer.ui.views.base import View
from viewer.ui.views.tensor.tensor_canvas import TensorCanvas
from viewer.ui.views.tensor.tensor_controls import TensorControls


def format_value(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


class TensorView(View):
    kind_name = "Tensor"

    def __init__(self, db: EntityDb, entities: Iterable[EntityPath], time_control: TimeControl,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(db, entities, time_control, title, parent)
        self.colormap = DEFAULT_COLORMAP
        self.controls = TensorControls(self.colormap, self)
        self.canvas = TensorCanvas(self._on_hover, self)
        self.info = QLabel(self)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.info)
        self.controls.selection_changed.connect(self._on_selection_wanted)
        self.controls.colormap_changed.connect(self.set_colormap)

        self.entity: EntityPath | None = None  # whose tensor is shown
        self.tensor: TensorAt | None = None
        self.selection: SliceSelection | None = None
        self.value_range: tuple[float, float] | None = None
        #: The slice drawn (height, width) in the tensor's element type, and its RGBA.
        self.current_slice: np.ndarray | None = None
        self.current_rgba: np.ndarray | None = None
        self.hover_text = ""
        self._info = ""  # what the info line says without the hover read-out
        self.error: str | None = None
        self._shown_key: object = ()

    @classmethod
    def accepts(cls, db: EntityDb, entity: EntityPath) -> bool:
        return TENSOR_DATA in db.components(entity)

    # ------------------------------------------------------------------ data

    def redraw(self) -> None:
        query = LatestAt(self.db, self.time_control.timeline, self.time_control.time)
        found: TensorAt | None = None
        entity: EntityPath | None = None
        error = None
        for candidate in self.entities:
            previous = self.tensor if candidate == self.entity else None
            try:
                found = tensor_at(query, candidate, previous)
            except TensorDataError as exc:
                error = f"{candidate}: {exc}"
                found = None
            if found is not None:
                entity = candidate
                break
        key = None if found is None else (entity, found.key)
        if key == self._shown_key and error == self.error:
            return
        self._shown_key = key
        self.error = error
        self.entity, self.tensor = entity, found
        if found is None:
            self.value_range = None
            self._show_nothing(error or "(no tensor at this time)")
            return
        shape, names = found.tensor.shape, found.tensor.names
        if len(shape) == 0:
            self._show_nothing(f"{entity}: a tensor with no dimensions")
            return
        old = self.selection
        if old is None or len(old.indices) + (old.width is not None) + \
                (old.height is not None) != len(shape):
            self.selection = default_selection(shape, names)
        else:
            self.selection = make_valid(shape, names, old.width, old.height, old.indices)
        self.value_range = value_range(found.tensor.array, found.logged_range)
        self.controls.show_range(*self.value_range, logged=found.logged_range is not None)
        self._render()

    def _show_nothing(self, message: str) -> None:
        self.current_slice = self.current_rgba = None
        self.canvas.set_image(None, message)
        self._info = ""
        self.info.setText("")

    def _render(self) -> None:
        tensor, selection, rng = self.tensor, self.selection, self.value_range
        if tensor is None or selection is None or rng is None:
            return
        array = tensor.tensor.array
        self.controls.show_selection(array.shape, tensor.tensor.names, selection)
        cut = slice_2d(array, selection)
        rgba = colormapped(cut, rng[0], rng[1], self.colormap)
        self.current_slice, self.current_rgba = cut, rgba
        h, w = cut.shape
        image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.canvas.set_image(image, "" if cut.size else "(empty slice)")
        shape = "×".join(str(n) for n in array.shape)
        self._info = f"{self.entity}: {shape} {array.dtype.name}"
        self.info.setText(self._info)

    # ------------------------------------------------------------------ user choices

    def set_colormap(self, name: str) -> None:
        if name == self.colormap:
            return
        self.colormap = name
        combo = self.controls.colormap_combo
        index = combo.findData(name)
        if index >= 0 and combo.currentIndex() != index:
            combo.setCurrentIndex(index)
        self._render()

    def set_selection(self, width: DimSelection | int | None = None,
                      height: DimSelection | int | None = None,
                      indices: Mapping[int, int] | None = None) -> None:
        """Show other dimensions or indices (repaired against the shape, as a user pick)."""
        if self.tensor is None:
            return
        current = self.selection or SliceSelection(None, None, {})
        wanted = SliceSelection(
            current.width if width is None else
            (DimSelection(width) if isinstance(width, int) else width),
            current.height if height is None else
            (DimSelection(height) if isinstance(height, int) else height),
            {**current.indices, **(indices or {})})
        self._on_selection_wanted(wanted)

    def _on_selection_wanted(self, wanted: SliceSelection) -> None:
        if self.tensor is None:
            return
        tensor = self.tensor.tensor
        self.selection = make_valid(tensor.shape, tensor.names, wanted.width, wanted.height,
                                    wanted.indices)
        self._render()

    # ------------------------------------------------------------------ hover

    def _on_hover(self, cell: tuple[int, int] | None) -> None:
        if cell is None or self.tensor is None or self.selection is None or \
                self.current_slice is None:
            self.hover_text = ""
        else:
            row, col = cell
            array = self.tensor.tensor.array
            index = tensor_index(self.selection, array.shape, row, col)
            self.hover_text = f"{list(index)} = {format_value(array[index])}"
        self.canvas.setToolTip(self.hover_text)
        self.info.setText(f"{self._info}   {self.hover_text}" if self.hover_text else self._info)
