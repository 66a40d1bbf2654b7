"""Render resources/ruckus-agent.svg to the PNG sizes the app and the .desktop file use.

QT_QPA_PLATFORM=offscreen .venv/bin/python resources/render_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SIZES = {"ruckus-agent.png": 256, "ruckus-agent-64.png": 64}


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter needs an application
    renderer = QSvgRenderer(str(HERE / "ruckus-agent.svg"))
    if not renderer.isValid():
        print("ruckus-agent.svg does not parse", file=sys.stderr)
        return 1
    for name, size in SIZES.items():
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(HERE / name))
        print(f"wrote {name} ({size}x{size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
