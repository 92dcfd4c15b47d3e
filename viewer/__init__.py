"""A fast desktop viewer for Rerun `.rrd` recordings.

Layers (each may import only the ones below it; enforced by import-linter in CI):
``ui`` -> ``net`` -> ``ingest`` -> ``store`` -> ``log``. ``log`` and ``store`` never import Qt.
"""

__version__ = "0.1.0"
