"""A small round gauge painted with QPainter: a 270° arc filled to value/maximum, the reading in the middle."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ruckus_agent.gui import theme

KEEP: float = -1.0  # set_value(maximum=KEEP): keep the current maximum
START_DEG = 225  # the arc runs clockwise from 7:30 to 4:30
SPAN_DEG = 270


class Gauge(QWidget):
    """`set_value(value, maximum, text, detail)`; None shows "n/a" (the hardware does not report it)."""

    def __init__(
        self,
        title: str,
        *,
        maximum: float = 100.0,
        warn_at: float = 0.8,
        critical_at: float = 0.95,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.maximum: float | None = maximum
        self.warn_at = warn_at
        self.critical_at = critical_at
        self.value: float | None = None
        self.text = "n/a"
        self.detail = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(80, 92)
        self.setToolTip(title)
        self._fonts: tuple[int, QFont, QFont] | None = None  # (side, value font, detail font), per size

    def sizeHint(self) -> QSize:
        return QSize(104, 104)

    @property
    def fraction(self) -> float | None:
        if self.value is None or not self.maximum:
            return None
        return max(0.0, min(1.0, self.value / self.maximum))

    def set_value(
        self, value: float | None, *, maximum: float | None = KEEP, text: str | None = None, detail: str = ""
    ) -> None:
        """Show `value` against `maximum` (None: no known maximum, no arc); repaint only on a change."""
        new_max = self.maximum if maximum == KEEP else (maximum or None)
        new_text = text if text is not None else ("n/a" if value is None else f"{value:.0f}")
        if (value, new_max, new_text, detail) == (self.value, self.maximum, self.text, self.detail):
            return
        self.value, self.maximum, self.text, self.detail = value, new_max, new_text, detail
        self.setToolTip(f"{self.title}: {new_text}" + (f" ({detail})" if detail else ""))
        self.update()

    def _fonts_for(self, side: int) -> tuple[QFont, QFont]:
        if self._fonts is None or self._fonts[0] != side:
            font = QFont(self.font())
            font.setBold(True)
            font.setPointSizeF(max(7.0, side / 8.5))
            small = QFont(self.font())
            small.setPointSizeF(max(6.5, side / 13))
            self._fonts = (side, font, small)
        return self._fonts[1], self._fonts[2]

    def _fill_color(self, fraction: float) -> QColor:
        if fraction >= self.critical_at:
            return theme.error_color()
        if fraction >= self.warn_at:
            return theme.warning_color()
        return self.palette().color(QPalette.ColorRole.Highlight)

    def paintEvent(self, _event: QPaintEvent) -> None:
        pal = self.palette()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        title_h = 16
        side = min(w, h - title_h) - 8
        arc = QRectF((w - side) / 2 + 4, 6, side - 8, side - 8)
        thickness = max(5.0, side / 11)

        track = pal.color(QPalette.ColorRole.Mid)
        track.setAlpha(110)
        p.setPen(QPen(track, thickness, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawArc(arc, START_DEG * 16, -SPAN_DEG * 16)
        fraction = self.fraction
        if fraction is not None and fraction > 0:
            p.setPen(
                QPen(self._fill_color(fraction), thickness, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            )
            p.drawArc(arc, START_DEG * 16, int(-SPAN_DEG * 16 * fraction))

        text_color = pal.color(QPalette.ColorRole.WindowText)
        if self.value is None:
            text_color = pal.color(QPalette.ColorRole.PlaceholderText)
        font, small = self._fonts_for(side)
        p.setFont(font)
        p.setPen(text_color)
        p.drawText(arc, Qt.AlignmentFlag.AlignCenter, self.text)
        if self.detail:
            p.setFont(small)
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            below = QRectF(arc.left(), arc.center().y() + side / 7, arc.width(), side / 5)
            p.drawText(below, Qt.AlignmentFlag.AlignCenter, self.detail)
        p.setFont(self.font())
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        p.drawText(QRectF(0, h - title_h - 2, w, title_h), Qt.AlignmentFlag.AlignCenter, self.title)
        p.end()
