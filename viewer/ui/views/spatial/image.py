"""The 2D view's background colour, kept here only while ``view2d.py`` imports it from
this module (the image view that defined it is gone: images are drawn by ``view2d``)."""

from __future__ import annotations

from PySide6.QtGui import QColor

BACKGROUND = QColor(24, 26, 30)
