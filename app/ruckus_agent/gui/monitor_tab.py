"""Monitor tab: per-GPU gauges and time series, a host CPU/memory panel, window length, pause, PNG/CSV export.

Samples arrive as events (10 Hz while a job runs; with 8 GPUs that is 80 readings a second) and only go
into column arrays (`SeriesStore`, a mirror of the sampler's ring buffer). Drawing happens on a 100 ms timer
while the tab is on screen, in small slices so the loop never stalls for long: per tick, the one plot most
overdue (and only once its window has scrolled two pixels) and a third of the cards' gauges. Curves are
made once per GPU and fed with setData; pyqtgraph clips to the view and peak-downsamples long windows. A
late tick (the loop is starved) is skipped, and while a CPU benchmark measures, drawing slows to ~1 Hz so
it neither steals the benchmark's cores nor starves the loop.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui import theme
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.export import monitor_csv
from ruckus_agent.gui.gauge import Gauge
from ruckus_agent.gui.series import SeriesStore
from ruckus_agent.gui.widgets import ask_save_path
from ruckus_agent.models.gpu import GpuReading
from ruckus_agent.models.monitor import HostReading, Sample

WINDOWS: list[tuple[str, int]] = [("1 min", 60), ("5 min", 300), ("15 min", 900), ("60 min", 3600)]
REDRAW_MS = 100  # the drawing timer: at most 10 slices of drawing a second
PIXELS_PER_REDRAW = 2  # a plot is redrawn when its window has scrolled this far
BACK_OFF = 1.5  # a tick this much later than due means the loop is starved: skip it
CPU_BENCH_PLOT_S = 2.0  # while a CPU benchmark measures, each plot at most this often (cards: ~1 Hz)

# (field, title, unit, scale): plotted value = field value x scale
GPU_PLOTS: list[tuple[str, str, str, float]] = [
    ("temperature_c", "Temperature", "°C", 1.0),
    ("power_usage_w", "Power", "W", 1.0),
    ("utilization_gpu_pct", "GPU utilization", "%", 1.0),
    ("memory_used_mb", "Memory used", "GiB", 1 / 1024),
]
GPU_SCALES = {field: scale for field, _title, _unit, scale in GPU_PLOTS}
HOST_PLOT = "host"
HOST_CURVES: list[tuple[str, str]] = [("cpu_utilization_pct", "CPU %"), ("memory_used_pct", "Memory %")]


class GpuCard(QGroupBox):
    """Four gauges for one GPU and a line of the rest (clocks, fan, P-state, throttling)."""

    def __init__(self, index: int, name: str, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName(f"gpuCard{index}")
        self.setTitle(f"GPU {index}: {name}")
        self.setToolTip(f"Plotted in this colour: {color}")
        layout = QVBoxLayout(self)
        swatch = QFrame()
        swatch.setFixedHeight(3)
        swatch.setStyleSheet(f"background-color: {color};")
        layout.addWidget(swatch)
        row = QHBoxLayout()
        self.temperature = Gauge("Temperature", maximum=100, warn_at=0.8, critical_at=0.9)
        self.power = Gauge("Power")
        self.utilization = Gauge("Utilization")
        self.memory = Gauge("Memory", warn_at=0.9, critical_at=0.97)
        for gauge in (self.temperature, self.power, self.utilization, self.memory):
            row.addWidget(gauge)
        layout.addLayout(row)
        self.extra = QLabel("")
        self.extra.setWordWrap(True)
        layout.addWidget(self.extra)

    def show_reading(self, r: GpuReading | None) -> None:
        if r is None or r.lost:
            why = "lost: " + (r.error or "not answering") if r is not None else "no reading"
            for gauge in (self.temperature, self.power, self.utilization, self.memory):
                gauge.set_value(None)
            self.extra.setText(why)
            return
        self.temperature.set_value(
            r.temperature_c, text=_int(r.temperature_c, "°C"), detail="of 100 °C" if r.temperature_c else ""
        )
        self.power.set_value(
            r.power_usage_w,
            maximum=r.power_limit_w or None,
            text=_int(r.power_usage_w, "W"),
            detail=f"of {r.power_limit_w:.0f} W" if r.power_limit_w else "no limit known",
        )
        self.utilization.set_value(r.utilization_gpu_pct, text=_int(r.utilization_gpu_pct, "%"))
        self.memory.set_value(
            r.memory_used_mb,
            maximum=r.memory_total_mb or None,
            text=fmt.mib(r.memory_used_mb) if r.memory_used_mb is not None else "n/a",
            detail=f"of {fmt.mib(r.memory_total_mb)}" if r.memory_total_mb else "",
        )
        parts = [
            f"SM {fmt.with_unit(r.clock_sm_mhz, 'MHz')}",
            f"mem {fmt.with_unit(r.clock_mem_mhz, 'MHz')}",
            f"fan {fmt.pct(r.fan_speed_pct)}",
            f"P-state {r.pstate or fmt.MISSING}",
        ]
        if r.throttle_reasons:
            parts.append("throttled: " + ", ".join(r.throttle_reasons))
        self.extra.setText(" · ".join(parts))


class HostCard(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Host", parent)
        self.setObjectName("hostCard")
        layout = QHBoxLayout(self)
        self.cpu = Gauge("CPU")
        self.memory = Gauge("Memory", warn_at=0.9, critical_at=0.97)
        layout.addWidget(self.cpu)
        layout.addWidget(self.memory)
        self.load = QLabel("")
        layout.addWidget(self.load, 1)

    def show_reading(self, h: HostReading) -> None:
        self.cpu.set_value(h.cpu_utilization_pct, text=_int(h.cpu_utilization_pct, "%"))
        self.memory.set_value(
            h.memory_used_mb,
            maximum=h.memory_total_mb or None,
            text=fmt.mib(h.memory_used_mb) if h.memory_used_mb is not None else "n/a",
            detail=f"of {fmt.mib(h.memory_total_mb)}" if h.memory_total_mb else "",
        )
        self.load.setText(f"load (1 min): {fmt.num(h.load_1m, 3)}")


def _padded_range(arrays: list[np.ndarray], pad: float = 0.06) -> tuple[float, float] | None:
    """Min and max over the finite values of all arrays, padded; None when there is none."""
    finite = [a[np.isfinite(a)] for a in arrays if a.size]
    values = [a for a in finite if a.size]
    if not values:
        return None
    lo = min(float(a.min()) for a in values)
    hi = max(float(a.max()) for a in values)
    span = hi - lo or max(1.0, abs(hi) * 0.1)
    return lo - pad * span, hi + pad * span


def _int(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:.0f} {unit}"


class MonitorTab(QWidget):
    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.bridge = bridge  # keep it alive as long as the widget
        self.store: SeriesStore | None = None
        self.latest: Sample | None = None
        self.paused = False
        self.window_s = 300
        self.redraws = 0
        self.redraw_seconds = 0.0
        self._plot_state: dict[str, tuple[int, float]] = {}  # plot key -> (store version, monotonic time)
        self._card_cursor = 0
        self._ticked_at = 0.0
        self._cpu_bench = False
        self._cards_version: dict[int, int] = {}  # card slot -> store version it shows
        self._gpu_cards: dict[int, GpuCard] = {}
        self._gpu_curves: dict[str, dict[int, pg.PlotDataItem]] = {f: {} for f, *_ in GPU_PLOTS}
        self._limit_lines: dict[int, pg.InfiniteLine] = {}  # power limit: moves only when the limit does

        self._gpu_plots: dict[str, pg.PlotItem] = {}

        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Window:"))
        self.window_combo = QComboBox()
        for label, seconds in WINDOWS:
            self.window_combo.addItem(label, seconds)
        self.window_combo.setCurrentIndex(1)
        self.window_combo.currentIndexChanged.connect(self._window_changed)
        bar.addWidget(self.window_combo)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        bar.addWidget(self.pause_button)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self._ask_csv)
        bar.addWidget(self.png_button)
        bar.addWidget(self.csv_button)
        bar.addStretch(1)
        self.status = QLabel("Waiting for the first sample…")
        bar.addWidget(self.status)
        layout.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        cards = QWidget()
        self.cards_layout = QVBoxLayout(cards)
        self.host_card = HostCard()
        self.cards_layout.addWidget(self.host_card)
        self.no_gpu_label = QLabel("")
        self.no_gpu_label.setWordWrap(True)
        self.no_gpu_label.hide()
        self.cards_layout.addWidget(self.no_gpu_label)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(cards)
        scroll.setMinimumWidth(400)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split.addWidget(scroll)

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setObjectName("monitorPlots")
        self.host_plot = self._make_plot("Host CPU and memory", "%")
        self.host_plot.addLegend(offset=(5, 5))
        self.host_curves: dict[str, pg.PlotDataItem] = {}
        for i, (field, label) in enumerate(HOST_CURVES):
            self.host_curves[field] = self.host_plot.plot(
                pen=pg.mkPen(theme.series_color(i), width=1), name=label, connect="finite"
            )
        self.plots.addItem(self.host_plot, row=2, col=0, colspan=2)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([420, 900])
        layout.addWidget(split, 1)
        theme.style_plot(self.plots)

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._tick)

        bridge.sample.connect(self.on_sample)
        bridge.bench_progress.connect(self._bench_progress)
        bridge.info_changed.connect(self._info_changed)
        if agent.sampler is not None:
            self._attach(agent.sampler.latest)

    # model -> widget --------------------------------------------------------------------------------
    def _attach(self, latest: Sample | None) -> None:
        """First contact with the sampler: mirror its ring buffer (same capacity, same samples)."""
        sampler = self.agent.sampler
        assert sampler is not None
        self.store = SeriesStore(sampler.buffer.capacity)
        self.store.extend(sampler.buffer)
        self.latest = latest

    def on_sample(self, sample: Sample) -> None:
        """A new sample: store it; drawing waits for the timer."""
        if self.store is None:
            self._attach(sample)  # the buffer already holds this sample
        else:
            self.store.append(sample)
            self.latest = sample

    def _info_changed(self) -> None:
        try:
            info = self.agent.info()
        except RuntimeError:
            return
        si = info.system_info
        for gpu in si.gpus:
            card = self._ensure_gpu(gpu.index)
            card.setTitle(f"GPU {gpu.index}: {gpu.name}")
        if not si.gpus:
            self.no_gpu_label.setText(f"No GPU: {si.gpu_detection_summary or 'none detected'}")
            self.no_gpu_label.show()
        else:
            self.no_gpu_label.hide()

    def _make_plot(self, title: str, unit: str) -> pg.PlotItem:
        plot = pg.PlotItem(title=title, axisItems={"bottom": pg.DateAxisItem()})
        plot.setLabel("left", units=None, text=unit)
        plot.showGrid(x=False, y=True, alpha=0.2)  # vertical date grid lines cost more than they tell
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setMouseEnabled(x=False, y=False)  # the ranges follow the data; panning comes with Pause
        plot.hideButtons()
        return plot

    def _ensure_gpu(self, index: int) -> GpuCard:
        """Cards, plots (first GPU) and curves (each GPU) are made once, when a GPU first appears."""
        card = self._gpu_cards.get(index)
        if card is not None:
            return card
        if not self._gpu_plots:
            for i, (field, title, unit, _scale) in enumerate(GPU_PLOTS):
                plot = self._make_plot(title, unit)
                self._gpu_plots[field] = plot
                self.plots.addItem(plot, row=i // 2, col=i % 2)
            self._gpu_plots["temperature_c"].addLegend(offset=(5, 5), colCount=4)
            theme.style_plot(self.plots)
        count = max(8, len(self._gpu_cards) + 1)
        color = theme.series_color(index, count)
        for field, plot in self._gpu_plots.items():
            self._gpu_curves[field][index] = plot.plot(
                pen=pg.mkPen(color, width=1), name=f"GPU {index}", connect="finite"
            )
        limit_pen = pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)
        line = pg.InfiniteLine(angle=0, movable=False, pen=limit_pen)
        line.setToolTip(f"GPU {index} power limit")
        line.hide()
        self._gpu_plots["power_usage_w"].addItem(line, ignoreBounds=True)
        self._limit_lines[index] = line
        info = self.agent.system_info
        names = {g.index: g.name for g in info.gpus} if info is not None else {}
        card = GpuCard(index, names.get(index, "unknown GPU"), color.name())
        self._gpu_cards[index] = card
        self.cards_layout.insertWidget(len(self._gpu_cards), card)  # after the host card, in order
        return card

    def plot_interval_s(self) -> float:
        """How often a plot is worth redrawing: at most 10 Hz, and no more often than the window scrolls
        by two pixels (a 5 min window 450 px wide: every 1.3 s; a 1 min one: every 0.27 s)."""
        width = max(1.0, min(plot.getViewBox().width() for plot in self._plots().values()))
        interval = max(REDRAW_MS / 1000, PIXELS_PER_REDRAW * self.window_s / width)
        return max(interval, CPU_BENCH_PLOT_S) if self.cpu_benchmark_running() else interval

    def cpu_benchmark_running(self) -> bool:
        """A CPU benchmark is measuring: our drawing would steal its cores (and it starves our loop)."""
        if self._cpu_bench and not self.agent.benchmark_running:
            self._cpu_bench = False
        return self._cpu_bench

    def _bench_progress(self, payload: dict[str, object]) -> None:
        self._cpu_bench = payload.get("device") == "cpu" and self.agent.benchmark_running

    def _plots(self) -> dict[str, pg.PlotItem]:
        return {**self._gpu_plots, HOST_PLOT: self.host_plot}

    def _tick(self) -> None:
        """Every 100 ms while shown, a small slice of the drawing: the plot most overdue (if it would move by
        a pixel) and a third of the cards. Spreading the work keeps every slice short, so the loop never
        stalls for long, even with 8 GPUs sampled at 10 Hz."""
        store = self.store
        if self.paused or store is None or not self.isVisible() or self.window().isMinimized():
            return
        now = time.monotonic()
        late = now - self._ticked_at > BACK_OFF * REDRAW_MS / 1000
        self._ticked_at = now
        if late:  # the loop is starved (CPU saturated): give it this slice back
            return
        due = [
            (drawn_at, key)
            for key in self._plots()
            for version, drawn_at in [self._plot_state.get(key, (-1, 0.0))]
            if version != store.version and now - drawn_at >= self.plot_interval_s()
        ]
        if due:
            started = time.perf_counter()
            self._draw_plots([min(due)[1]])
            self.redraws += 1
            self.redraw_seconds += time.perf_counter() - started
        self._show_cards(share=len(self._gpu_cards) + 1 if self.cpu_benchmark_running() else 3)

    def redraw(self) -> None:
        """Everything at once: every curve its window of the buffer, every gauge the newest sample."""
        if self.store is None or len(self.store) == 0:
            return
        started = time.perf_counter()
        self._draw_plots(list(self._plots()))
        self._show_cards(share=1)
        self.redraws += 1
        self.redraw_seconds += time.perf_counter() - started

    def _draw_plots(self, keys: list[str]) -> None:
        store = self.store
        if store is None or len(store) == 0:
            return
        win = store.window(self.window_s)
        for index in win.gpus:
            self._ensure_gpu(index)
        plots = self._plots()
        now = time.monotonic()
        for key in keys:
            y_range: tuple[float, float] | None = (0.0, 100.0)
            if key == HOST_PLOT:
                for field, curve in self.host_curves.items():
                    curve.setData(win.t, win.host[field])
            else:
                scale = GPU_SCALES[key]
                shown = []
                for index, curve in self._gpu_curves[key].items():
                    cols = win.gpus.get(index)
                    y = cols[key] * scale if cols is not None else np.empty(0)
                    curve.setData(win.t if cols is not None else np.empty(0), y)
                    shown.append(y)
                if key == "power_usage_w":
                    shown.append(
                        np.array([line.value() for line in self._limit_lines.values() if line.isVisible()])
                    )
                if key != "utilization_gpu_pct":
                    y_range = _padded_range(shown)
            # One range change per plot, both axes at once, instead of pyqtgraph's auto-range (which
            # re-scans every curve on each paint and then paints a second time). No setXLink: it aligns
            # plots by pixels, not by values.
            x_range = (win.start, win.end)
            if y_range is None:
                plots[key].getViewBox().setRange(xRange=x_range, padding=0)
            else:
                plots[key].getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)
            self._plot_state[key] = (store.version, now)

    def _show_cards(self, share: int) -> None:
        """Gauges from the newest sample, 1/share of the cards per call (round robin)."""
        sample = self.latest
        store = self.store
        if sample is None or store is None:
            return
        readings = {r.index: r for r in sample.gpus}
        cards: list[GpuCard | None] = [None, *self._gpu_cards.values()]  # None: the host card
        count = max(1, -(-len(cards) // share))
        for _ in range(count):
            slot = self._card_cursor % len(cards)
            self._card_cursor += 1
            if self._cards_version.get(slot) == store.version:
                continue
            self._cards_version[slot] = store.version
            card = cards[slot]
            if card is None:
                self.host_card.show_reading(sample.host)
                continue
            reading = readings.get(card.index)
            card.show_reading(reading)
            line = self._limit_lines.get(card.index)
            limit = reading.power_limit_w if reading is not None else None
            if line is not None and limit is not None:
                if line.value() != limit:
                    line.setValue(limit)
                line.show()
        sampler = self.agent.sampler
        rate = 1 / sampler.current_interval_s if sampler is not None else math.nan
        text = f"{rate:.3g} Hz · {len(self._gpu_cards)} GPU(s) · latest {fmt.clock(sample.timestamp)}"
        if sample.gpu_read_error:
            text += f" · {sample.gpu_read_error}"
        if self._cpu_bench:
            text += " · drawing slowed while the CPU benchmark runs"
        if self.status.text() != text:
            self.status.setText(text)

    # widget -> model --------------------------------------------------------------------------------
    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")
        for plot in (self.host_plot, *self._gpu_plots.values()):
            plot.setMouseEnabled(x=paused, y=paused)  # pan back in time while paused
        if not paused:
            self.redraw()

    def set_window(self, seconds: int) -> None:
        index = self.window_combo.findData(seconds)
        if index < 0:
            return
        if index == self.window_combo.currentIndex():
            self._window_changed(index)  # the same length: no signal, but the caller expects a redraw
        else:
            self.window_combo.setCurrentIndex(index)

    def _window_changed(self, _index: int) -> None:
        self.window_s = int(self.window_combo.currentData())
        self.redraw()

    def export_png(self, path: str | Path) -> None:
        """Every plot of the tab in one PNG (pyqtgraph's ImageExporter over the plot layout)."""
        exporter = pg.exporters.ImageExporter(self.plots.ci)
        exporter.parameters()["width"] = max(800, self.plots.width())
        exporter.export(str(path))

    def export_csv(self, path: str | Path) -> None:
        """The samples of the current window, one row each."""
        if self.store is None:
            return
        Path(path).write_text(monitor_csv(self.store.window(self.window_s)), encoding="utf-8")

    @asyncSlot()
    async def _ask_png(self) -> None:
        path = await ask_save_path(self, "Export plots as PNG", "ruckus-monitor.png", "PNG image (*.png)")
        if path:
            self.export_png(path)

    @asyncSlot()
    async def _ask_csv(self) -> None:
        path = await ask_save_path(self, "Export samples as CSV", "ruckus-monitor.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    # visibility: draw only while on screen ------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()
        self._plot_state.clear()  # shown again: draw everything afresh

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.timer.stop()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            theme.style_plot(self.plots)
