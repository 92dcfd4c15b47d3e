"""Time-series plots (pyqtgraph)."""
