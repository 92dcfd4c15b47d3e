"""Widgets, views, the main window and the overlay. The only layer that may use QtWidgets."""
