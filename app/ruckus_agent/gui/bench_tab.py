"""Benchmarks tab: pick a device and tests, run with progress and cancel; results as a table and charts;
earlier results from storage to compare (select several to see them side by side)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from ruckus_agent.bench import BenchmarkCancelled
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui import theme
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.widgets import read_only_table
from ruckus_agent.models.benchmark import MEMORY_TESTS, SUITE_TESTS, BenchmarkSuiteResult

TEST_LABELS = {
    "memory_bandwidth": "Memory bandwidth",
    "compute_performance": "Compute (matmul TFLOPS)",
    "tensor_cores": "Tensor cores",
}
PRECISION_ORDER = ("FP64", "FP32", "TF32", "FP16", "BF16", "FP8", "INT8", "FP4")
HISTORY_LIMIT = 50
MAX_COMPARED = 4


def result_label(r: BenchmarkSuiteResult) -> str:
    return f"{r.device} {fmt.when(r.started_at)}"


def result_rows(results: list[BenchmarkSuiteResult]) -> list[tuple[str, list[str]]]:
    """(row label, one cell per result): the comparison table, rows in the union of what was measured."""
    rows: list[tuple[str, list[str]]] = [
        ("Device", [f"{r.device} ({r.device_name})" for r in results]),
        ("Backend", [f"{r.backend} {r.torch_version or r.numpy_version or ''}".strip() for r in results]),
        ("Mode", ["quick" if r.quick else "full" for r in results]),
        ("Started", [fmt.when(r.started_at) for r in results]),
        ("Duration", [fmt.duration(r.duration_s) for r in results]),
    ]
    tests = [
        t for t in MEMORY_TESTS if any(r.memory_bandwidth and t in r.memory_bandwidth.tests for r in results)
    ]
    for test in tests:
        cells = []
        for r in results:
            t = r.memory_bandwidth.tests.get(test) if r.memory_bandwidth else None
            if t is None:
                cells.append(fmt.MISSING)
                continue
            text = fmt.with_unit(t.peak_bandwidth_gb_s, "GB/s")
            if not t.plateau_reached and t.peak_bandwidth_gb_s is not None:
                text += " (no plateau)"
            cells.append(text)
        rows.append((f"{test} bandwidth", cells))
    precisions = _precisions(results)
    for precision in precisions:
        cells = []
        for r in results:
            m = r.compute.results.get(precision) if r.compute else None
            if m is None:
                cells.append(fmt.MISSING)
            elif m.skipped:
                cells.append(f"skipped: {m.skip_reason or 'unsupported'}")
            else:
                unit = "TOPS" if precision == "INT8" else "TFLOPS"
                cells.append(f"{fmt.with_unit(m.tflops, unit)} (n={m.n}, {fmt.num(m.avg_time_ms)} ms)")
        rows.append((f"{precision} matmul", cells))
    if any(r.tensor_cores for r in results):
        cells = []
        for r in results:
            tc = r.tensor_cores
            if tc is None:
                cells.append(fmt.MISSING)
                continue
            gen = f"gen {tc.generation}" if tc.generation else ("present" if tc.present else "none")
            speed = ", ".join(f"{k} x{v:.2f}" for k, v in tc.speedup_vs_fp32.items())
            verdict = {True: "accelerates", False: "no speed-up", None: "not measured"}[tc.accelerates]
            cells.append(f"{gen}; {verdict}" + (f" ({speed})" if speed else ""))
        rows.append(("Tensor cores", cells))
    shares = list(dict.fromkeys(k for r in results for k in (r.share_of_peak or {})))
    for key in shares:
        rows.append((f"share of peak: {key}", [fmt.share((r.share_of_peak or {}).get(key)) for r in results]))
    if any(r.notes for r in results):
        rows.append(("Notes", ["; ".join(r.notes) or fmt.MISSING for r in results]))
    return rows


def _precisions(results: list[BenchmarkSuiteResult]) -> list[str]:
    seen = {p for r in results if r.compute for p in r.compute.results}
    return [p for p in PRECISION_ORDER if p in seen] + sorted(seen - set(PRECISION_ORDER))


class BenchmarksTab(QWidget):
    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.bridge = bridge  # keep it alive as long as the widget
        self.history: list[BenchmarkSuiteResult] = []
        self.shown: list[BenchmarkSuiteResult] = []
        self._loading = False
        self._stale = False

        split = QSplitter(Qt.Orientation.Horizontal)
        layout = QHBoxLayout(self)
        layout.addWidget(split)

        # --- run panel ---
        run_box = QGroupBox("Run a benchmark")
        form = QFormLayout(run_box)
        self.device_combo = QComboBox()
        self.device_combo.addItem("cpu", "cpu")
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        form.addRow("Device:", self.device_combo)
        tests_box = QVBoxLayout()
        self.test_checks: dict[str, QCheckBox] = {}
        for test in SUITE_TESTS:
            check = QCheckBox(TEST_LABELS[test])
            check.setChecked(True)
            check.toggled.connect(self._update_run_enabled)
            self.test_checks[test] = check
            tests_box.addWidget(check)
        form.addRow("Tests:", tests_box)
        self.precision_grid = QGridLayout()
        self.precision_checks: dict[str, QCheckBox] = {}
        form.addRow("Precisions:", self.precision_grid)
        self.test_checks["compute_performance"].toggled.connect(self._precisions_enabled)
        mode = QHBoxLayout()
        self.quick_radio = QRadioButton("Quick (~20 s on a small CPU)")
        self.full_radio = QRadioButton("Full")
        self.quick_radio.setChecked(True)
        mode.addWidget(self.quick_radio)
        mode.addWidget(self.full_radio)
        form.addRow("Mode:", mode)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        form.addRow(self.progress)
        self.step_label = QLabel("Idle")
        self.step_label.setWordWrap(True)
        form.addRow(self.step_label)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(run_box)
        history_box = QGroupBox("Earlier results (select up to 4 to compare)")
        hl = QVBoxLayout(history_box)
        self.history_table = read_only_table(["Started", "Device", "Mode", "Copy GB/s", "Best TFLOPS"])
        self.history_table.setObjectName("benchHistory")
        self.history_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.history_table.itemSelectionChanged.connect(self._selection_changed)
        hl.addWidget(self.history_table)
        left_layout.addWidget(history_box, 1)
        split.addWidget(left)

        # --- results ---
        right = QSplitter(Qt.Orientation.Vertical)
        self.result_title = QLabel("No result yet: run a benchmark or pick an earlier one.")
        self.result_table = QTableWidget(0, 0)
        self.result_table.setObjectName("benchResults")
        self.result_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.result_table.setWordWrap(True)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.result_title)
        tl.addWidget(self.result_table)
        right.addWidget(top)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setObjectName("benchCharts")
        self.bw_plot = self.charts.addPlot(row=0, col=0, title="Memory bandwidth per array size")
        self.bw_plot.setLogMode(x=True, y=False)
        self.bw_plot.setLabel("bottom", "array size", units="B")
        self.bw_plot.setLabel("left", "GB/s")
        self.bw_plot.showGrid(x=True, y=True, alpha=0.25)
        self.bw_legend = self.bw_plot.addLegend(offset=(5, 5))
        self.flops_plot = self.charts.addPlot(row=0, col=1, title="Matmul TFLOPS per precision")
        self.flops_plot.setLabel("left", "TFLOPS")
        self.flops_plot.showGrid(y=True, alpha=0.25)
        self.flops_legend = self.flops_plot.addLegend(offset=(5, 5))
        self.share_plot = pg.PlotItem(title="Share of the datasheet peak")
        self.share_plot.setLabel("left", "%")
        self.share_plot.showGrid(y=True, alpha=0.25)
        for plot in (self.bw_plot, self.flops_plot, self.share_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
        theme.style_plot(self.charts)
        right.addWidget(self.charts)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 1000])

        bridge.info_changed.connect(self._info_changed)
        bridge.bench_progress.connect(self.on_progress)
        bridge.bench_result.connect(self.on_result)
        bridge.state_changed.connect(self._state_changed)
        self._info_changed()
        self._set_running(agent.benchmark_running)

    # model -> widget --------------------------------------------------------------------------------
    def _info_changed(self) -> None:
        try:
            info = self.agent.info()
        except RuntimeError:
            return
        devices = list(info.capabilities.precisions_by_device)
        current = self.device_combo.currentData()
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        names = {f"cuda:{g.index}": g.name for g in info.system_info.gpus}
        cpu = info.system_info.cpu.model or "CPU"
        for device in devices:
            label = f"{device} — {names.get(device, cpu if device == 'cpu' else '')}".rstrip(" —")
            self.device_combo.addItem(label, device)
        index = self.device_combo.findData(current)
        self.device_combo.setCurrentIndex(max(0, index))
        self.device_combo.blockSignals(False)
        self._device_changed()

    def _state_changed(self, state: str) -> None:
        if state == "idle" and not self.history and not self._loading:
            self.reload_history()

    def _device_changed(self, *_: object) -> None:
        """The precision boxes follow the device's capabilities."""
        device = self.device_combo.currentData()
        try:
            precisions = self.agent.capabilities().precisions_by_device.get(device, [])
        except Exception:
            precisions = []
        while self.precision_grid.count():
            item = self.precision_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.precision_checks = {}
        for i, precision in enumerate(precisions):
            check = QCheckBox(precision)
            check.setChecked(True)
            check.toggled.connect(self._update_run_enabled)
            self.precision_checks[precision] = check
            self.precision_grid.addWidget(check, i // 4, i % 4)
        self._precisions_enabled(self.test_checks["compute_performance"].isChecked())

    def _precisions_enabled(self, on: bool) -> None:
        for check in self.precision_checks.values():
            check.setEnabled(on)
        self._update_run_enabled()

    def _update_run_enabled(self, *_: object) -> None:
        tests = self.selected_tests()
        ok = bool(tests)
        why = "" if ok else "Pick at least one test."
        if "compute_performance" in tests and self.precision_checks and not self.selected_precisions():
            ok, why = False, "Pick at least one precision."
        self.run_button.setEnabled(ok and not self.agent.benchmark_running)
        if why and not self.agent.benchmark_running:
            self.step_label.setText(why)
        elif not self.agent.benchmark_running and self.step_label.text().startswith("Pick"):
            self.step_label.setText("Idle")

    def on_progress(self, payload: dict[str, Any]) -> None:
        self._set_running(True)
        self.progress.setValue(int(1000 * float(payload.get("fraction", 0))))
        self.step_label.setText(f"{payload.get('device')}: {payload.get('step')}")

    def on_result(self, result: BenchmarkSuiteResult) -> None:
        self.progress.setValue(1000)
        self.reload_history(select_newest=True)

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.device_combo.setEnabled(not running)
        if running:
            self.run_button.setEnabled(False)
        else:
            self._update_run_enabled()

    @asyncSlot()
    async def reload_history(self, select_newest: bool = False) -> None:
        self._loading = True
        try:
            self.history = await self.agent.benchmark_history(None, limit=HISTORY_LIMIT)
        finally:
            self._loading = False
        self._fill_history(select_newest)

    def _fill_history(self, select_newest: bool) -> None:
        if not self.isVisible():  # tables and charts are rebuilt when the tab is next shown
            self._stale = True
            return
        self._stale = False
        table = self.history_table
        table.blockSignals(True)
        table.setRowCount(len(self.history))
        for row, r in enumerate(self.history):
            copy = (
                r.memory_bandwidth.tests["copy"].peak_bandwidth_gb_s
                if r.memory_bandwidth and "copy" in r.memory_bandwidth.tests
                else None
            )
            best = max(
                ((p, m.tflops) for p, m in (r.compute.results.items() if r.compute else []) if m.tflops),
                key=lambda pm: pm[1],
                default=None,
            )
            cells = [
                fmt.when(r.started_at),
                r.device,
                "quick" if r.quick else "full",
                fmt.num(copy),
                f"{fmt.num(best[1])} ({best[0]})" if best else fmt.MISSING,
            ]
            for c, text in enumerate(cells):
                table.setItem(row, c, QTableWidgetItem(text))
        table.blockSignals(False)
        if self.history and (select_newest or not table.selectedItems()):
            table.selectRow(0)
        self._selection_changed()

    def _selection_changed(self) -> None:
        rows = sorted({i.row() for i in self.history_table.selectedItems()})[:MAX_COMPARED]
        self.show_results([self.history[r] for r in rows if r < len(self.history)])

    def show_results(self, results: list[BenchmarkSuiteResult]) -> None:
        """The table (a column per result) and the charts (a series per result)."""
        self.shown = results
        if not results:
            self.result_title.setText("No result yet: run a benchmark or pick an earlier one.")
        elif len(results) == 1:
            r = results[0]
            self.result_title.setText(
                f"<b>{r.device}</b> ({r.device_name}), {'quick' if r.quick else 'full'} run of "
                f"{fmt.when(r.started_at)}, took {fmt.duration(r.duration_s)}"
            )
        else:
            self.result_title.setText(f"Comparing {len(results)} results")
        rows = result_rows(results) if results else []
        table = self.result_table
        table.clear()
        table.setColumnCount(len(results))
        table.setRowCount(len(rows))
        table.setHorizontalHeaderLabels([result_label(r) for r in results])
        table.setVerticalHeaderLabels([label for label, _ in rows])
        for row, (_label, cells) in enumerate(rows):
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.resizeRowsToContents()
        self._draw_charts(results)

    def _draw_charts(self, results: list[BenchmarkSuiteResult]) -> None:
        self.bw_plot.clear()
        self.flops_plot.clear()
        self.share_plot.clear()
        styles = [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine]
        symbols = ["o", "t", "s", "d"]
        many = len(results) > 1
        for k, r in enumerate(results):
            if r.memory_bandwidth is None:
                continue
            for j, test in enumerate(MEMORY_TESTS):
                t = r.memory_bandwidth.tests.get(test)
                if t is None or not t.points:
                    continue
                color = theme.series_color(j, len(MEMORY_TESTS))
                x = np.array([p.size_bytes for p in t.points], dtype=float)
                y = np.array([p.bandwidth_gb_s for p in t.points], dtype=float)
                name = f"{test} ({result_label(r)})" if many else test
                self.bw_plot.plot(
                    x,
                    y,
                    pen=pg.mkPen(color, width=2, style=styles[k % len(styles)]),
                    symbol=symbols[k % len(symbols)],
                    symbolSize=5,
                    symbolBrush=color,
                    name=name,
                )
        precisions = _precisions(results)
        width = 0.8 / max(1, len(results))
        for k, r in enumerate(results):
            xs, hs = [], []
            for i, precision in enumerate(precisions):
                m = r.compute.results.get(precision) if r.compute else None
                if m is not None and m.tflops is not None:
                    xs.append(i - 0.4 + width * (k + 0.5))
                    hs.append(m.tflops)
            if xs:
                color = theme.series_color(k, 4)
                bars = pg.BarGraphItem(x=xs, height=hs, width=width * 0.9, brush=color)
                self.flops_plot.addItem(bars)
                if many:
                    self.flops_legend.addItem(bars, result_label(r))
        self.flops_plot.getAxis("bottom").setTicks([list(enumerate(precisions))])
        keys = list(dict.fromkeys(key for r in results for key in (r.share_of_peak or {})))
        self._show_share_plot(bool(keys))
        if keys:
            for k, r in enumerate(results):
                share = r.share_of_peak or {}
                xs = [i - 0.4 + width * (k + 0.5) for i, key in enumerate(keys) if key in share]
                hs = [100 * share[key] for key in keys if key in share]
                if xs:
                    color = theme.series_color(k, 4)
                    self.share_plot.addItem(pg.BarGraphItem(x=xs, height=hs, width=width * 0.9, brush=color))
            self.share_plot.getAxis("bottom").setTicks([list(enumerate(keys))])

    def _show_share_plot(self, show: bool) -> None:
        """The share-of-peak chart takes room only when a result has a datasheet peak to compare with."""
        shown = self.share_plot.scene() is not None
        if show and not shown:
            self.charts.addItem(self.share_plot, row=1, col=0, colspan=2)
            theme.style_plot(self.charts)
        elif not show and shown:
            self.charts.removeItem(self.share_plot)
        title = "Matmul TFLOPS per precision"
        if not show and self.shown and all(r.device == "cpu" for r in self.shown):
            title += " (no datasheet peak for CPUs)"
        elif not show and self.shown:
            title += " (no datasheet peak known for this GPU)"
        self.flops_plot.setTitle(title)

    # widget -> model --------------------------------------------------------------------------------
    def selected_tests(self) -> list[str]:
        return [t for t, check in self.test_checks.items() if check.isChecked()]

    def selected_precisions(self) -> list[str]:
        return [p for p, check in self.precision_checks.items() if check.isChecked()]

    @asyncSlot()
    async def run_clicked(self) -> None:
        await self.run()

    async def run(self) -> BenchmarkSuiteResult | None:
        """Run the chosen suite on the agent (in its thread); progress and the result arrive as events."""
        device = self.device_combo.currentData()
        tests = self.selected_tests()
        precisions = self.selected_precisions()
        self._set_running(True)
        self.progress.setValue(0)
        self.step_label.setText(f"{device}: starting")
        try:
            result = await self.agent.run_benchmark(
                device,
                quick=self.quick_radio.isChecked(),
                tests=tests,
                precisions=precisions or None,  # the device's own list: never ones it cannot run
            )
        except BenchmarkCancelled:
            self.step_label.setText("Cancelled")
            return None
        except Exception as exc:  # already running, device gone, bad combination: say so, keep going
            self.step_label.setText(f"Failed: {exc}")
            return None
        finally:
            self._set_running(False)
        self.step_label.setText(f"Done in {fmt.duration(result.duration_s)}")
        return result

    def cancel(self) -> None:
        if self.agent.cancel_benchmark():
            self.step_label.setText("Cancelling…")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._fill_history(select_newest=True)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            theme.style_plot(self.charts)
