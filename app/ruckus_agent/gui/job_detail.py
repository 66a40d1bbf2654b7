"""One job in detail: every run (the cold start marked, outliers highlighted), the statistics, a per-run plot
of a chosen metric, the telemetry recorded during each run, and export as JSON or CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui import theme
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.export import job_csv, job_json, job_runs, metric_names, outlier_runs
from ruckus_agent.gui.widgets import ask_save_path, read_only_table
from ruckus_agent.models.jobs import (
    FINAL_STATUSES,
    JobResult,
    JobState,
    MultiRunJobResult,
    SingleRunResult,
)
from ruckus_agent.models.statistics import MetricStatistics

ROLE_KIND = Qt.ItemDataRole.UserRole  # "cold", "outlier" or "warm" on each runs-table item

STATS_HEADERS = [
    "Metric",
    "Count",
    "Mean ± std",
    "Median",
    "Min",
    "Max",
    "p90",
    "p95",
    "p99",
    "CI 95 %",
    "CV",
    "Outlier runs",
]
TELEMETRY_HEADERS = [
    "Run",
    "Samples",
    "GPU",
    "GPU util mean %",
    "GPU util max %",
    "GPU mem peak",
    "Power mean W",
    "Energy J",
    "Temp max °C",
    "SM clock MHz",
    "Throttle",
    "CPU %",
]


def stats_row(s: MetricStatistics) -> list[str]:
    unit = f" ({s.unit})" if s.unit else ""
    return [
        f"{s.metric}{unit}",
        str(s.count),
        fmt.mean_std(s),
        fmt.num(s.median),
        fmt.num(s.min),
        fmt.num(s.max),
        fmt.num(s.p90),
        fmt.num(s.p95),
        fmt.num(s.p99),
        fmt.ci95(s),
        fmt.share(s.cv),
        ", ".join(str(r) for r in s.outliers) or "none",
    ]


def stats_summary(s: MetricStatistics) -> str:
    """The line above the per-run plot."""
    return (
        f"{s.metric}: {fmt.mean_std(s)} over {s.count} warm run(s); median {fmt.num(s.median)}, "
        f"CI 95 % {fmt.ci95(s)}, CV {fmt.share(s.cv)}"
    )


class JobDetail(QWidget):
    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.bridge = bridge  # keep it alive as long as the widget
        self.job_id: str | None = None
        self.state: JobState | None = None
        self.result: JobResult | MultiRunJobResult | None = None
        self.runs: list[SingleRunResult] = []
        self._live_runs: dict[str, dict[int, SingleRunResult]] = {}

        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel("Select a job to see its runs.")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.title, 1)
        self.json_button = QPushButton("Export JSON…")
        self.csv_button = QPushButton("Export CSV…")
        self.json_button.clicked.connect(self._ask_json)
        self.csv_button.clicked.connect(self._ask_csv)
        for b in (self.json_button, self.csv_button):
            b.setEnabled(False)
            head.addWidget(b)
        layout.addLayout(head)

        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        runs_page = QWidget()
        rl = QVBoxLayout(runs_page)
        self.runs_table = read_only_table(["Run"])
        self.runs_table.setObjectName("runsTable")
        self.runs_table.setAlternatingRowColors(False)  # the row tints carry meaning
        rl.addWidget(self.runs_table, 1)
        legend = QLabel(
            "Bold, tinted blue: the cold start (run 0: model load and first call; not in the statistics). "
            "Tinted red: an outlier (modified z-score > 3.5) in the metric shown in bold; flagged, not dropped."
        )
        legend.setWordWrap(True)
        rl.addWidget(legend)
        self.tabs.addTab(runs_page, "Runs")

        self.stats_table = read_only_table(STATS_HEADERS)
        self.stats_table.setObjectName("statsTable")
        self.tabs.addTab(self.stats_table, "Statistics")

        plot_page = QWidget()
        pl = QVBoxLayout(plot_page)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Metric:"))
        self.metric_combo = QComboBox()
        self.metric_combo.currentIndexChanged.connect(self._draw_plot)
        bar.addWidget(self.metric_combo)
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("statsSummary")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.summary_label, 1)
        pl.addLayout(bar)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "run id")
        self.plot.addLegend(offset=(5, 5))
        accent = theme.series_color(0)
        self.warm_curve = self.plot.plot(
            pen=pg.mkPen(accent, width=1.5), symbol="o", symbolSize=7, symbolBrush=accent, name="warm runs"
        )
        cold = theme.series_color(6)
        self.cold_point = self.plot.plot(
            pen=None,
            symbol="star",
            symbolSize=16,
            symbolBrush=cold,
            symbolPen=cold,
            name="cold start (run 0)",
        )
        self.cold_label = pg.TextItem("cold start", anchor=(0.5, 1.3))
        self.cold_label.hide()
        self.plot.addItem(self.cold_label)
        bad = theme.error_color()
        self.outlier_points = self.plot.plot(
            pen=None,
            symbol="x",
            symbolSize=14,
            symbolPen=pg.mkPen(bad, width=2),
            symbolBrush=bad,
            name="outliers",
        )
        self.mean_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(accent, style=Qt.PenStyle.DashLine)
        )
        self.mean_line.hide()
        self.plot.addItem(self.mean_line)
        self.ci_band = pg.LinearRegionItem(orientation="horizontal", movable=False, brush=(100, 150, 255, 40))
        self.ci_band.hide()
        self.plot.addItem(self.ci_band)
        theme.style_plot(self.plot_widget)
        pl.addWidget(self.plot_widget, 1)
        self.tabs.addTab(plot_page, "Plot")

        self.telemetry_table = read_only_table(TELEMETRY_HEADERS)
        self.telemetry_table.setObjectName("telemetryTable")
        self.tabs.addTab(self.telemetry_table, "Telemetry")

        self.environment = QPlainTextEdit()
        self.environment.setReadOnly(True)
        self.tabs.addTab(self.environment, "Environment")

        bridge.job_changed.connect(self._job_changed)
        bridge.job_run.connect(self._job_run)

    # model -> widget --------------------------------------------------------------------------------
    @asyncSlot(str)
    async def load(self, job_id: str) -> None:
        """Show a job: its result when it has finished, else its state and the runs seen so far."""
        self.job_id = job_id
        try:
            state = await self.agent.job_state(job_id)
        except Exception as exc:
            self.title.setText(f"{job_id}: {exc}")
            return
        if self.job_id != job_id:  # another job was picked meanwhile
            return
        self.state = state
        if state.status in FINAL_STATUSES:
            result = await self.agent.job_result(job_id)
            if self.job_id == job_id:
                self.show_result(result, state)
        else:
            self._show_live(state)

    def _job_changed(self, state: JobState) -> None:
        if state.job_id != self.job_id:
            return
        was_final = self.state is not None and self.state.status in FINAL_STATUSES
        self.state = state
        if state.status in FINAL_STATUSES and not was_final:
            self.load(state.job_id)
        elif state.status not in FINAL_STATUSES:
            self._show_live(state)

    def _job_run(self, payload: dict[str, Any]) -> None:
        job_id = payload.get("job_id")
        if not isinstance(job_id, str):
            return
        if job_id != self.job_id:
            self._live_runs.pop(job_id, None)
            return
        try:
            run = SingleRunResult.model_validate(payload.get("run") or {})
        except Exception:
            return
        self._live_runs.setdefault(job_id, {})[run.run_id] = run

    def _show_live(self, state: JobState) -> None:
        self.result = None
        runs = sorted(self._live_runs.get(state.job_id, {}).values(), key=lambda r: r.run_id)
        self.title.setText(
            f"<b>{state.job_id}</b> · {state.task_type or '?'} · <b>{state.status}</b> "
            f"({state.stage or ''}) · {state.runs_completed}/{state.runs_total} runs; "
            "statistics follow when it finishes"
        )
        for b in (self.json_button, self.csv_button):
            b.setEnabled(False)
        self._fill_runs(runs, {})
        self.stats_table.setRowCount(0)
        self.telemetry_table.setRowCount(0)

    def show_result(self, result: JobResult | MultiRunJobResult, state: JobState | None = None) -> None:
        self.result = result
        self.job_id = result.job_id
        self._live_runs.pop(result.job_id, None)
        runs = job_runs(result)
        flagged = outlier_runs(result)
        self.title.setText(self._title(result))
        for b in (self.json_button, self.csv_button):
            b.setEnabled(True)
        self._fill_runs(runs, flagged)
        stats = result.summary_stats if isinstance(result, MultiRunJobResult) else {}
        self.stats_table.setRowCount(len(stats))
        for row, s in enumerate(stats.values()):
            for col, text in enumerate(stats_row(s)):
                item = QTableWidgetItem(text)
                if col == len(STATS_HEADERS) - 1 and s.outliers:
                    item.setBackground(QBrush(theme.outlier_brush()))
                self.stats_table.setItem(row, col, item)
        self._fill_telemetry(runs)
        self.environment.setPlainText(json.dumps(result.environment, indent=2))
        current = self.metric_combo.currentText()
        names = metric_names(runs)
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems(names)
        preferred = current if current in names else next((n for n in stats if n in names), None)
        if preferred:
            self.metric_combo.setCurrentText(preferred)
        self.metric_combo.blockSignals(False)
        self._draw_plot()

    def _title(self, r: JobResult | MultiRunJobResult) -> str:
        parts = [f"<b>{r.job_id}</b>", r.task_type, f"<b>{r.status}</b>"]
        if isinstance(r, MultiRunJobResult):
            parts.append(
                f"{r.runs_completed}/{r.total_runs} runs ({r.successful_runs} ok, {r.failed_runs} failed)"
            )
            load_s = r.cold_start_data.model_load_time_seconds
        else:
            parts.append("1 run")
            load_s = r.model_load_time_seconds
        if r.model:
            parts.append(f"model {r.model}")
        parts.append(f"took {fmt.duration(r.duration_seconds)}")
        if load_s is not None:
            parts.append(f"cold-start load {fmt.duration(load_s)}")
        text = " · ".join(parts)
        if r.error:
            text += f"<br>{_escape(r.error)}"
        return text

    def _fill_runs(self, runs: list[SingleRunResult], flagged: dict[int, list[str]]) -> None:
        self.runs = runs
        metrics = metric_names(runs)
        headers = ["Run", "Kind", "OK", "Duration", *metrics, "Error"]
        table = self.runs_table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(runs))
        bold = QFont(table.font())
        bold.setBold(True)
        for row, run in enumerate(runs):
            outlier_in = flagged.get(run.run_id, [])
            kind = "cold" if run.cold_start else ("outlier" if outlier_in else "warm")
            cells = [
                str(run.run_id),
                "cold start" if run.cold_start else ("warm, outlier" if outlier_in else "warm"),
                "yes" if run.success else "no",
                fmt.duration(run.duration_seconds),
                *(fmt.num(run.metrics.get(m)) for m in metrics),
                run.error or "",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ROLE_KIND, kind)
                if kind == "cold":
                    item.setBackground(QBrush(theme.cold_start_brush()))
                    item.setFont(bold)
                    item.setToolTip("Cold start: includes loading; reported apart from the statistics")
                elif kind == "outlier":
                    item.setBackground(QBrush(theme.outlier_brush()))
                    item.setToolTip("Outlier in " + ", ".join(outlier_in))
                    if 4 <= col < 4 + len(metrics) and metrics[col - 4] in outlier_in:
                        item.setFont(bold)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()

    def _fill_telemetry(self, runs: list[SingleRunResult]) -> None:
        table = self.telemetry_table
        table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            t = run.telemetry
            if t is None:
                cells = [str(run.run_id), "0", *([fmt.MISSING] * (len(TELEMETRY_HEADERS) - 2))]
            else:
                energy = fmt.num(t.energy_j)
                if t.energy_j is not None and t.energy_source:
                    energy += f" ({t.energy_source})"
                clocks = (
                    f"{fmt.num(t.clock_sm_min_mhz)} to {fmt.num(t.clock_sm_max_mhz)}"
                    if t.clock_sm_min_mhz is not None
                    else fmt.MISSING
                )
                cells = [
                    str(run.run_id),
                    str(t.samples),
                    fmt.MISSING if t.gpu_index is None else str(t.gpu_index),
                    fmt.num(t.gpu_utilization_pct),
                    fmt.num(t.gpu_utilization_max_pct),
                    fmt.mib(t.gpu_memory_peak_mb),
                    fmt.num(t.power_mean_w),
                    energy,
                    fmt.num(t.temperature_max_c),
                    clocks,
                    ", ".join(t.throttle_reasons) or "none",
                    fmt.num(t.cpu_utilization_pct),
                ]
            for col, text in enumerate(cells):
                table.setItem(row, col, QTableWidgetItem(text))

    def _draw_plot(self, *_: object) -> None:
        """Warm runs as a line, the cold start as a star, outliers crossed, the mean and its CI behind."""
        metric = self.metric_combo.currentText()
        runs = self.runs
        warm = [(r.run_id, r.metrics[metric]) for r in runs if not r.cold_start and metric in r.metrics]
        cold = [(r.run_id, r.metrics[metric]) for r in runs if r.cold_start and metric in r.metrics]
        self.warm_curve.setData(*_xy(warm))
        self.cold_point.setData(*_xy(cold))
        if cold:
            self.cold_label.setPos(cold[0][0], cold[0][1])
            self.cold_label.setColor(theme.series_color(6))
            self.cold_label.show()
        else:
            self.cold_label.hide()
        stats = self.result.summary_stats.get(metric) if isinstance(self.result, MultiRunJobResult) else None
        values = {r.run_id: r.metrics.get(metric) for r in runs}
        outliers = [(i, values[i]) for i in (stats.outliers if stats else []) if values.get(i) is not None]
        self.outlier_points.setData(*_xy(outliers))  # type: ignore[arg-type]
        self.plot.setLabel("left", metric + (f" ({stats.unit})" if stats and stats.unit else ""))
        if stats is not None and stats.mean is not None:
            self.mean_line.setPos(stats.mean)
            self.mean_line.show()
            self.summary_label.setText(stats_summary(stats))
        else:
            self.mean_line.hide()
            self.summary_label.setText(
                f"{metric}: no statistics (one run, or no successful warm run)" if metric else ""
            )
        if stats is not None and stats.ci95_low is not None and stats.ci95_high is not None:
            self.ci_band.setRegion((stats.ci95_low, stats.ci95_high))
            self.ci_band.show()
        else:
            self.ci_band.hide()
        self.plot.enableAutoRange()

    # widget -> model / files ----------------------------------------------------------------------------
    def export_json(self, path: str | Path) -> None:
        if self.result is not None:
            Path(path).write_text(job_json(self.result), encoding="utf-8")

    def export_csv(self, path: str | Path) -> None:
        if self.result is not None:
            Path(path).write_text(job_csv(self.result), encoding="utf-8")

    @asyncSlot()
    async def _ask_json(self) -> None:
        if self.result is None:
            return
        path = await ask_save_path(self, "Export job as JSON", f"{self.result.job_id}.json", "JSON (*.json)")
        if path:
            self.export_json(path)

    @asyncSlot()
    async def _ask_csv(self) -> None:
        if self.result is None:
            return
        path = await ask_save_path(self, "Export runs as CSV", f"{self.result.job_id}.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            theme.style_plot(self.plot_widget)


def _xy(points: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    if not points:
        return np.empty(0), np.empty(0)
    xs, ys = zip(*points, strict=True)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
