"""Look and feel: the application icon, the light/dark palette, plot colours and a few semantic colours.

Every colour the GUI paints comes from the palette (text, base, highlight) or from here, and the semantic ones
(warning, error, outlier) are picked per light/dark palette, so nothing turns unreadable in dark mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyleFactory

ICON_NAME = "ruckus-agent"


def resources_dir() -> Path | None:
    """The repository's (or the frozen bundle's) `resources/` folder, if present."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[3] / "resources")
    return next((c for c in candidates if c.is_dir()), None)


def app_icon() -> QIcon:
    """The application icon from resources/ (SVG and PNG), or the same picture drawn here when absent."""
    icon = QIcon()
    folder = resources_dir()
    if folder is not None:
        for name in (f"{ICON_NAME}.svg", f"{ICON_NAME}.png", f"{ICON_NAME}-64.png"):
            path = folder / name
            if path.is_file():
                icon.addFile(str(path))
    if icon.isNull():
        for size in (32, 64, 256):
            icon.addPixmap(draw_icon(size))
    return icon


def draw_icon(size: int) -> QPixmap:
    """resources/ruckus-agent.svg's picture drawn here: the fallback when resources/ is not shipped."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#1565c0"))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 48 * s, 48 * s)
    arc = QRectF(48 * s, 48 * s, 160 * s, 160 * s)
    track = QColor("#bbdefb")
    track.setAlphaF(0.45)
    p.setPen(QPen(track, 22 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawArc(arc, 225 * 16, -270 * 16)
    p.setPen(QPen(QColor("#ffb300"), 22 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawArc(arc, 225 * 16, -180 * 16)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ffffff"))
    for x, top in ((90, 140), (118, 114), (146, 88)):
        p.drawRoundedRect(QRectF(x * s, top * s, 20 * s, (184 - top) * s), 4 * s, 4 * s)
    p.end()
    return pixmap


# --- light / dark -------------------------------------------------------------------------------------


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """Fusion's palette in dark colours, for platforms whose theme reports dark but paints light."""
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#2b2d30",
        role.WindowText: "#e6e6e6",
        role.Base: "#1e1f22",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#3c3f41",
        role.ToolTipText: "#e6e6e6",
        role.PlaceholderText: "#8c8c8c",
        role.Text: "#e6e6e6",
        role.Button: "#3c3f41",
        role.ButtonText: "#e6e6e6",
        role.BrightText: "#ff6b6b",
        role.Light: "#4a4d50",
        role.Midlight: "#3f4245",
        role.Mid: "#323437",
        role.Dark: "#1b1c1e",
        role.Shadow: "#000000",
        role.Highlight: "#3d7bd9",
        role.HighlightedText: "#ffffff",
        role.Link: "#6ea8ff",
        role.LinkVisited: "#b38bff",
    }
    for r, c in colors.items():
        pal.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor("#7a7a7a"))
    return pal


class SchemeFollower(QObject):
    """Keeps the palette in step with the system's light/dark setting (Qt >= 6.5 reports it)."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._own_palette = False
        hints = app.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self.apply)
        self.apply()

    def apply(self, *_: object) -> None:
        hints = self._app.styleHints()
        scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else None
        want_dark = scheme == Qt.ColorScheme.Dark
        if want_dark and not is_dark(self._app.palette()):
            # The platform says dark but its style paints light (e.g. plain X11): use Fusion in dark colours.
            fusion = QStyleFactory.create("Fusion")
            if fusion is not None:
                self._app.setStyle(fusion)
            self._app.setPalette(dark_palette())
            self._own_palette = True
        elif not want_dark and self._own_palette:
            self._app.setPalette(self._app.style().standardPalette())
            self._own_palette = False


# --- semantic colours --------------------------------------------------------------------------------


def warning_color() -> QColor:
    return QColor("#ffb74d") if is_dark() else QColor("#e65100")


def error_color() -> QColor:
    return QColor("#ef5350") if is_dark() else QColor("#c62828")


def ok_color() -> QColor:
    return QColor("#81c784") if is_dark() else QColor("#2e7d32")


def outlier_brush() -> QColor:
    """Row background of an outlier: translucent red, readable under light and dark text."""
    return QColor(239, 83, 80, 90) if is_dark() else QColor(229, 57, 53, 60)


def cold_start_brush() -> QColor:
    """Row background of the cold start: translucent blue."""
    return QColor(100, 160, 255, 70) if is_dark() else QColor(30, 136, 229, 45)


def banner_brush() -> QColor:
    return QColor(255, 183, 77, 60) if is_dark() else QColor(255, 152, 0, 45)


SERIES = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
"""Tableau's ten-colour palette less its grey: tells 8 GPUs apart, and reads on light and dark backgrounds."""


def series_color(index: int, count: int = len(SERIES)) -> QColor:
    """Colour of series `index` (a GPU, a memory test, a compared result)."""
    if count <= len(SERIES):
        return QColor(SERIES[index % len(SERIES)])
    return QColor(pg.intColor(index, hues=count, values=1, maxValue=230, minValue=150, sat=200))


def style_plot(widget: pg.GraphicsView | pg.PlotWidget | pg.GraphicsLayoutWidget) -> None:
    """Background and axes from the palette (pyqtgraph defaults to black, which is wrong in light mode)."""
    pal = QGuiApplication.palette()
    widget.setBackground(pal.color(QPalette.ColorRole.Base))
    text = pal.color(QPalette.ColorRole.Text)
    scene = widget.scene()
    if scene is None:
        return
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            item.setPen(pg.mkPen(text))
            item.setTextPen(pg.mkPen(text))
        elif isinstance(item, pg.LegendItem):
            item.setLabelTextColor(text)
        elif isinstance(item, pg.LabelItem):
            item.setText(item.text, color=text)
