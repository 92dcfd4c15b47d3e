"""The tensor view's selectors: which dimensions are height and width, an index slider per
other dimension, the colormap; and a read-out of the value range.

The widgets only report what the user picked (``selection_changed``, ``colormap_changed``);
the view repairs the selection against the tensor's shape and calls ``show_selection``
back, which updates the widgets without re-emitting.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from viewer.scene.tensor_colormap import colormap_names
from viewer.scene.tensor_slice import DimSelection, SliceSelection


def colormap_label(name: str) -> str:
    """``cyan_to_yellow`` -> ``Cyan to yellow`` (menu text)."""
    return name.replace("_", " ").capitalize()


def dim_label(shape: Sequence[int], names: Sequence[str | None], dim: int) -> str:
    name = names[dim] if dim < len(names) and names[dim] else f"dim {dim}"
    return f"{name} ({shape[dim]})"


class TensorControls(QWidget):
    #: The user picked other dimensions or indices: the wanted SliceSelection.
    selection_changed = Signal(object)
    #: The user picked a colormap (canonical name).
    colormap_changed = Signal(str)

    def __init__(self, colormap: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shape: tuple[int, ...] = ()
        self._names: tuple[str | None, ...] = ()
        self._selection = SliceSelection(None, None, {})
        self._updating = False

        self.height_combo = QComboBox(self)
        self.width_combo = QComboBox(self)
        # Checkable buttons (the dark theme styles their checked state; a check box's
        # indicator is hard to see there).
        self.flip_height = QToolButton(self)
        self.flip_height.setText("↕ flip")
        self.flip_height.setToolTip("Draw the height dimension bottom to top")
        self.flip_width = QToolButton(self)
        self.flip_width.setText("↔ flip")
        self.flip_width.setToolTip("Draw the width dimension right to left")
        for button in (self.flip_height, self.flip_width):
            button.setCheckable(True)
        self.swap_button = QToolButton(self)
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip("Swap height and width")
        self.colormap_combo = QComboBox(self)
        for name in colormap_names():
            self.colormap_combo.addItem(colormap_label(name), name)
        self.colormap_combo.setCurrentIndex(max(0, self.colormap_combo.findData(colormap)))
        self.range_label = QLabel(self)
        self.range_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Height", self), self.height_combo, self.flip_height,
                       self.swap_button, QLabel("Width", self), self.width_combo,
                       self.flip_width):
            top.addWidget(widget)
        top.addStretch(1)
        mapping = QHBoxLayout()
        mapping.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Colormap", self), self.colormap_combo, self.range_label):
            mapping.addWidget(widget)
        mapping.addStretch(1)
        self.slider_grid = QGridLayout()
        self.slider_grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(mapping)
        layout.addLayout(self.slider_grid)
        #: One slider per dimension that is neither height nor width, by dimension.
        self.sliders: dict[int, QSlider] = {}
        self._slider_labels: dict[int, tuple[QLabel, QLabel]] = {}

        self.height_combo.currentIndexChanged.connect(self._on_height)
        self.width_combo.currentIndexChanged.connect(self._on_width)
        self.flip_height.toggled.connect(self._on_flip)
        self.flip_width.toggled.connect(self._on_flip)
        self.swap_button.clicked.connect(self._on_swap)
        self.colormap_combo.currentIndexChanged.connect(
            lambda _i: self.colormap_changed.emit(self.colormap_combo.currentData()))

    # ------------------------------------------------------------------ from the view

    def show_selection(self, shape: Sequence[int], names: Sequence[str | None],
                       selection: SliceSelection) -> None:
        """Show ``selection`` for a tensor of ``shape`` (no signal is emitted)."""
        self._updating = True
        try:
            if tuple(shape) != self._shape or tuple(names) != self._names:
                self._shape, self._names = tuple(shape), tuple(names)
                labels = [dim_label(shape, names, d) for d in range(len(shape))]
                for combo in (self.height_combo, self.width_combo):
                    combo.clear()
                    combo.addItems(labels)
            self._selection = selection
            two_d = selection.width is not None and selection.height is not None
            for widget in (self.height_combo, self.width_combo, self.flip_height,
                           self.flip_width, self.swap_button):
                widget.setEnabled(two_d)
            if selection.height is not None:
                self.height_combo.setCurrentIndex(selection.height.dim)
                self.flip_height.setChecked(selection.height.invert)
            if selection.width is not None:
                self.width_combo.setCurrentIndex(selection.width.dim)
                self.flip_width.setChecked(selection.width.invert)
            self._show_sliders(selection)
        finally:
            self._updating = False

    def show_range(self, lo: float, hi: float, logged: bool) -> None:
        source = "logged" if logged else "auto"
        self.range_label.setText(f"range {lo:g} .. {hi:g} ({source})")

    def _show_sliders(self, selection: SliceSelection) -> None:
        dims = selection.slider_dims()
        if dims != sorted(self.sliders) or any(
                self.sliders[d].maximum() != max(self._shape[d] - 1, 0) for d in dims):
            self._rebuild_sliders(dims)
        for dim in dims:
            self.sliders[dim].setValue(selection.indices[dim])
            self._slider_labels[dim][1].setText(f"{selection.indices[dim]} / "
                                                f"{self._shape[dim] - 1}")

    def _rebuild_sliders(self, dims: list[int]) -> None:
        for slider in self.sliders.values():
            slider.deleteLater()
        for name_label, value_label in self._slider_labels.values():
            name_label.deleteLater()
            value_label.deleteLater()
        self.sliders.clear()
        self._slider_labels.clear()
        for row, dim in enumerate(dims):
            name = QLabel(dim_label(self._shape, self._names, dim), self)
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setRange(0, max(self._shape[dim] - 1, 0))
            value = QLabel(self)
            slider.valueChanged.connect(lambda v, d=dim: self._on_slider(d, v))
            self.slider_grid.addWidget(name, row, 0)
            self.slider_grid.addWidget(slider, row, 1)
            self.slider_grid.addWidget(value, row, 2)
            self.sliders[dim] = slider
            self._slider_labels[dim] = (name, value)

    # ------------------------------------------------------------------ from the user

    def _emit(self, selection: SliceSelection) -> None:
        if not self._updating:
            self.selection_changed.emit(selection)

    def _on_height(self, index: int) -> None:
        sel = self._selection
        if index < 0 or sel.height is None or sel.width is None or self._updating:
            return
        width = sel.width
        if index == width.dim:  # picking the width's dimension swaps the two
            width = DimSelection(sel.height.dim, width.invert)
        self._emit(SliceSelection(width, DimSelection(index, sel.height.invert), sel.indices))

    def _on_width(self, index: int) -> None:
        sel = self._selection
        if index < 0 or sel.height is None or sel.width is None or self._updating:
            return
        height = sel.height
        if index == height.dim:
            height = DimSelection(sel.width.dim, height.invert)
        self._emit(SliceSelection(DimSelection(index, sel.width.invert), height, sel.indices))

    def _on_flip(self, _checked: bool) -> None:
        sel = self._selection
        if sel.height is None or sel.width is None or self._updating:
            return
        self._emit(SliceSelection(DimSelection(sel.width.dim, self.flip_width.isChecked()),
                                  DimSelection(sel.height.dim, self.flip_height.isChecked()),
                                  sel.indices))

    def _on_swap(self) -> None:
        sel = self._selection
        if sel.height is None or sel.width is None:
            return
        self._emit(SliceSelection(DimSelection(sel.height.dim, sel.height.invert),
                                  DimSelection(sel.width.dim, sel.width.invert), sel.indices))

    def _on_slider(self, dim: int, value: int) -> None:
        if self._updating:
            return
        indices = dict(self._selection.indices)
        indices[dim] = value
        self._emit(SliceSelection(self._selection.width, self._selection.height, indices))
