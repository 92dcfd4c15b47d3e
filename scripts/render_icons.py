#!/usr/bin/env python3
"""Render the application icon's PNG sizes into resources/icons (run after editing the SVG).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_icons.py [--painter]

``--painter`` draws with QPainter even when Qt's SVG module is there (to compare both).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--painter", action="store_true", help="draw instead of rendering the SVG")
    args = parser.parse_args()
    from PySide6.QtGui import QGuiApplication

    from viewer.ui.icon_render import svg_available, write_pngs

    _app = QGuiApplication.instance() or QGuiApplication([])
    icons = ROOT / "resources" / "icons"
    use_svg = svg_available() and not args.painter
    for path in write_pngs(icons / "rrd-viewer.svg", icons, use_svg=use_svg):
        print(f"{path.relative_to(ROOT)} ({'svg' if use_svg else 'painter'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
