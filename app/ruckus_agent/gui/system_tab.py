"""System tab: everything /api/v1/info holds, grouped so it reads at a glance; why a GPU is missing, up top."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from ruckus_agent.core.agent import Agent
from ruckus_agent.gui import formatting as fmt
from ruckus_agent.gui import theme
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.widgets import form_group, read_only_table, value_label
from ruckus_agent.models.gpu import GpuInfo
from ruckus_agent.models.system import AgentInfo, SystemInfo


def detection_problem(info: SystemInfo) -> tuple[str, list[str]] | None:
    """(headline, one line per failed source) when a GPU source failed, else None."""
    if not info.gpu_detection_errors:
        return None
    if info.gpus:
        found = ", ".join(sorted({g.detection_method for g in info.gpus}))
        headline = f"{len(info.gpus)} GPU(s) found via {found}, but some sources failed"
    else:
        headline = "No GPU found"
    lines = [f"{e.source}: {e.message} ({e.reason})" for e in info.gpu_detection_errors]
    return headline, lines


def bench_summary(results: dict[str, Any] | None) -> str:
    """One line from a seed-shape `benchmark_results`: bandwidth and the best TFLOPS per precision."""
    if not results:
        return "not measured yet (Benchmarks tab)"
    parts = []
    mem = results.get("memory_bandwidth") or {}
    if mem.get("peak_bandwidth_gb_s") is not None:
        parts.append(f"copy {mem['peak_bandwidth_gb_s']:.4g} GB/s")
    for precision, row in (results.get("compute_performance") or {}).items():
        if row.get("tflops") is not None:
            parts.append(f"{precision} {row['tflops']:.4g} TFLOPS")
    return ", ".join(parts) or "no figures"


class DetectionBanner(QFrame):
    """A tinted box with a warning icon that says why GPU detection failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detectionBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(32, 32))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(icon)
        self.text = value_label("")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.text, 1)
        self.hide()

    def show_problem(self, problem: tuple[str, list[str]] | None) -> None:
        if problem is None:
            self.hide()
            return
        headline, lines = problem
        items = "".join(f"<li>{_escape(line)}</li>" for line in lines)
        self.text.setText(f"<b>GPU detection: {_escape(headline)}</b><ul style='margin:2px'>{items}</ul>")
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Window)
        tint = theme.banner_brush()
        alpha = tint.alphaF()
        mixed = base.toRgb()
        mixed.setRgbF(
            base.redF() * (1 - alpha) + tint.redF() * alpha,
            base.greenF() * (1 - alpha) + tint.greenF() * alpha,
            base.blueF() * (1 - alpha) + tint.blueF() * alpha,
        )
        pal.setColor(QPalette.ColorRole.Window, mixed)
        self.setPalette(pal)
        self.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SystemTab(QWidget):
    def __init__(self, agent: Agent, bridge: AgentBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.bridge = bridge  # keep it alive as long as the widget
        layout = QVBoxLayout(self)

        bar = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Detect the machine again")
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button = QPushButton("Copy as JSON")
        self.copy_button.setToolTip("Copy what /api/v1/info answers to the clipboard")
        self.copy_button.clicked.connect(self.copy_json)
        self.updated_label = QLabel("")
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.copy_button)
        bar.addStretch(1)
        bar.addWidget(self.updated_label)
        layout.addLayout(bar)

        self.banner = DetectionBanner()
        layout.addWidget(self.banner)

        self.page_scroll = QScrollArea()
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.page_scroll, 1)
        self.info: AgentInfo | None = None

        self._stale = False
        bridge.info_changed.connect(self._info_changed)
        self.reload()

    # model -> widget --------------------------------------------------------------------------------
    def _info_changed(self) -> None:
        """Rebuild now if on screen, else when next shown (a rebuild is ~100 widgets: not for nothing)."""
        if self.isVisible() or self.info is None:
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        try:
            info = self.agent.info()
        except RuntimeError:
            self.info = None
            self.copy_button.setEnabled(False)
            waiting = QLabel("Detecting this machine…")
            waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.page_scroll.setWidget(waiting)
            return
        self.info = info
        self.copy_button.setEnabled(True)
        self.updated_label.setText(f"Last updated {fmt.when(info.last_updated)}")
        self.banner.show_problem(detection_problem(info.system_info))
        self.page_scroll.setWidget(self._content(info))

    def _content(self, info: AgentInfo) -> QWidget:
        si = info.system_info
        page = QWidget()
        grid = QGridLayout(page)
        left = QVBoxLayout()
        left.addWidget(self._agent_group(info))
        left.addWidget(self._os_group(si))
        left.addWidget(self._cpu_group(si, info.cpu_benchmark_results))
        left.addWidget(self._memory_group(si))
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self._gpus_group(si))
        right.addWidget(self._frameworks_group(si))
        right.addWidget(self._models_group(si))
        right.addStretch(1)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        return page

    def _agent_group(self, info: AgentInfo) -> QGroupBox:
        caps = info.capabilities
        precisions = "; ".join(
            f"{dev}: {', '.join(p) or '—'}" for dev, p in caps.precisions_by_device.items()
        )
        return form_group(
            "Agent",
            [
                ("Name", info.agent_name),
                ("Agent id", info.agent_id),
                ("Type", info.agent_type),
                ("Version", info.version),
                ("Task types", ", ".join(caps.task_types)),
                ("Precisions", precisions),
                ("Concurrent jobs", str(caps.max_concurrent_jobs)),
                ("Metric families", ", ".join(info.system_info.metrics)),
                ("Detection took", fmt.duration(info.system_info.detection_seconds)),
            ],
            name="agentGroup",
        )

    def _os_group(self, si: SystemInfo) -> QGroupBox:
        s = si.system
        return form_group(
            "Operating system",
            [
                ("Host", s.hostname),
                ("OS", s.os_release or s.os),
                ("Kernel", s.kernel or fmt.MISSING),
                ("Architecture", s.architecture),
                ("Python", f"{s.python_version} ({s.python_implementation})"),
                ("Booted", fmt.when(s.boot_time)),
            ],
            name="osGroup",
        )

    def _cpu_group(self, si: SystemInfo, bench: dict[str, Any] | None) -> QGroupBox:
        c = si.cpu
        cores = (
            f"{c.physical_cores if c.physical_cores is not None else '?'} physical, {c.logical_cores} logical"
        )
        freq = fmt.with_unit(c.frequency_mhz, "MHz", 5)
        if c.frequency_max_mhz:
            freq += f" (max {fmt.with_unit(c.frequency_max_mhz, 'MHz', 5)})"
        caches = ", ".join(
            f"{name} {fmt.size_bytes(kb * 1024)}"
            for name, kb in (("L2", c.l2_cache_kb), ("L3", c.l3_cache_kb))
            if kb
        )
        has = [name for name, on in c.features.items() if on]
        lacks = [name for name, on in c.features.items() if not on]
        return form_group(
            "CPU",
            [
                ("Model", c.model or fmt.MISSING),
                ("Vendor", c.vendor or fmt.MISSING),
                ("Architecture", c.architecture),
                ("Cores", cores),
                ("Frequency", freq),
                ("Caches", caches or fmt.MISSING),
                ("ISA features", " · ".join(has) or "none of the ML-relevant ones"),
                ("Not present", " · ".join(lacks) or "—"),
                ("Latest benchmark", bench_summary(bench)),
            ],
            name="cpuGroup",
        )

    def _memory_group(self, si: SystemInfo) -> QGroupBox:
        m = si.memory
        return form_group(
            "Memory",
            [
                ("Total", fmt.mib(m.total_mb)),
                ("Available", fmt.mib(m.available_mb)),
                ("Used", fmt.pct(m.used_percent, 1)),
                ("Swap", fmt.mib(m.swap_total_mb)),
            ],
            name="memoryGroup",
        )

    def _gpus_group(self, si: SystemInfo) -> QGroupBox:
        box = QGroupBox(f"GPUs ({len(si.gpus)})")
        box.setObjectName("gpusGroup")
        layout = QVBoxLayout(box)
        summary = value_label(f"Detection: {si.gpu_detection_summary or '—'}")
        summary.setObjectName("gpuSummary")
        layout.addWidget(summary)
        if not si.gpus:
            layout.addWidget(
                value_label("No GPU: the Monitor tab shows the host only; benchmarks run on the CPU.")
            )
        for gpu in si.gpus:
            layout.addWidget(self._gpu_box(gpu))
        return box

    def _gpu_box(self, g: GpuInfo) -> QGroupBox:
        cc = ".".join(str(x) for x in g.compute_capability) if g.compute_capability else fmt.MISSING
        tc = f"generation {g.tensor_core_generation}" if g.tensor_core_generation else "none"
        pcie = (
            f"Gen {g.pcie_generation or '?'} x{g.pcie_width or '?'}"
            if g.pcie_generation or g.pcie_width
            else fmt.MISSING
        )
        rows = [
            ("Detected by", g.detection_method),
            ("UUID", g.uuid or fmt.MISSING),
            ("PCI bus", g.pci_bus_id or fmt.MISSING),
            ("Memory", f"{fmt.mib(g.memory_total_mb)} total, {fmt.mib(g.memory_free_mb)} free"),
            ("Compute capability", f"{cc} ({g.architecture or 'unknown architecture'})"),
            ("Tensor cores", tc),
            ("Precisions", ", ".join(g.supported_precisions) or fmt.MISSING),
            ("SMs / CUDA cores", f"{fmt.num(g.sm_count)} / {fmt.num(g.cuda_cores)}"),
            ("Driver / CUDA", f"{g.driver_version or fmt.MISSING} / {g.cuda_version or fmt.MISSING}"),
            ("PCIe", pcie),
            ("ECC", fmt.yes_no(g.ecc_enabled)),
            ("MIG", fmt.yes_no(g.mig_mode) + (f" ({len(g.mig_devices)} instances)" if g.mig_devices else "")),
            ("Processes", str(len(g.processes)) if g.processes else "none"),
            ("Latest benchmark", bench_summary(g.benchmark_results)),
        ]
        return form_group(f"GPU {g.index}: {g.name}", rows, name=f"gpu{g.index}Group")

    def _frameworks_group(self, si: SystemInfo) -> QGroupBox:
        box = QGroupBox(f"Frameworks ({len(si.frameworks)})")
        layout = QVBoxLayout(box)
        rows = [(f.name, f.version, fmt.yes_no(f.gpu_support), f.detail or "") for f in si.frameworks]
        table = read_only_table(["Name", "Version", "GPU support", "How we know"], rows)
        table.setObjectName("frameworksTable")
        _fit_height(table)
        layout.addWidget(table)
        return box

    def _models_group(self, si: SystemInfo) -> QGroupBox:
        box = QGroupBox(f"Models ({len(si.models)})")
        layout = QVBoxLayout(box)
        if not si.models:
            layout.addWidget(value_label(f"No models found in {self.agent.settings.model_path}"))
            return box
        rows = [
            (
                m.name,
                m.format or fmt.MISSING,
                fmt.size_bytes(m.size_bytes),
                m.architecture or fmt.MISSING,
                fmt.num(m.parameter_count),
                m.dtype or fmt.MISSING,
                m.path,
            )
            for m in si.models
        ]
        table = read_only_table(
            ["Name", "Format", "Size", "Architecture", "Parameters", "dtype", "Path"], rows
        )
        table.setObjectName("modelsTable")
        _fit_height(table)
        layout.addWidget(table)
        return box

    # widget -> model --------------------------------------------------------------------------------
    def copy_json(self) -> None:
        """Put /api/v1/info's JSON (indented) on the clipboard."""
        try:
            data = json.loads(self.agent.info_json())
        except RuntimeError:
            return
        QGuiApplication.clipboard().setText(json.dumps(data, indent=2))

    @asyncSlot()
    async def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.refresh_button.setText("Detecting…")
        try:
            await self.agent.refresh()
        finally:
            self.refresh_button.setEnabled(True)
            self.refresh_button.setText("Refresh")


def _fit_height(table: Any) -> None:
    """Show every row without an inner scroll bar (the page scrolls)."""
    table.resizeRowsToContents()
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setMinimumHeight(height + 2)
    table.setMaximumHeight(height + 2)
