"""Benchmarks tab: devices and precisions from the agent's capabilities; a real (small) CPU run with
progress and its result in the table and chart; Cancel; earlier results compared side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from gui.conftest import started, wait_for
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui.bench_tab import BenchmarksTab
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.models.benchmark import (
    BandwidthPoint,
    BandwidthTestResult,
    BenchmarkSuiteResult,
    ComputeResult,
    MatmulResult,
    MemoryBandwidthResult,
    PlateauRule,
)
from ruckus_agent.models.storage import BenchmarkRecord


def make_tab(qtbot, agent: Agent) -> BenchmarksTab:
    tab = BenchmarksTab(agent, AgentBridge(agent))
    qtbot.addWidget(tab)
    tab.resize(1400, 900)
    tab.show()
    return tab


def table_cells(tab: BenchmarksTab) -> dict[str, list[str]]:
    t = tab.result_table
    return {
        t.verticalHeaderItem(r).text(): [t.item(r, c).text() for c in range(t.columnCount())]
        for r in range(t.rowCount())
    }


async def test_devices_and_precisions_come_from_the_capabilities(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        caps = agent.capabilities().precisions_by_device
        devices = [tab.device_combo.itemData(i) for i in range(tab.device_combo.count())]
        assert devices == ["cpu", "cuda:0", "cuda:1"] == list(caps)
        for device in devices:
            tab.device_combo.setCurrentIndex(devices.index(device))
            assert list(tab.precision_checks) == caps[device]
        for check in tab.precision_checks.values():
            check.setChecked(False)
        assert not tab.run_button.isEnabled() and "precision" in tab.step_label.text()
        tab.test_checks["compute_performance"].setChecked(False)
        assert tab.run_button.isEnabled()


async def test_a_run_shows_progress_then_its_result(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        steps: list[dict] = []
        tab.bridge.bench_progress.connect(steps.append)
        tab.test_checks["memory_bandwidth"].setChecked(False)
        tab.test_checks["tensor_cores"].setChecked(False)
        for precision, check in tab.precision_checks.items():
            check.setChecked(precision == "FP32")
        tab.quick_radio.setChecked(True)
        tab.run_button.click()
        await wait_for(lambda: tab.cancel_button.isEnabled(), what="the run to start")
        assert not tab.run_button.isEnabled()
        await wait_for(lambda: tab.step_label.text().startswith("Done"), timeout_s=60, what="the run to end")
        assert steps and steps[-1]["fraction"] == 1.0
        assert tab.progress.value() == 1000
        await wait_for(lambda: len(tab.history) == 1 and tab.shown, what="the stored result")
        result = tab.shown[0]
        fp32 = result.compute.results["FP32"]
        assert list(result.compute.results) == ["FP32"]  # only what was ticked
        assert table_cells(tab)["FP32 matmul"][0].startswith(f"{fp32.tflops:.4g} TFLOPS")
        bars = [i for i in tab.flops_plot.items if i.__class__.__name__ == "BarGraphItem"]
        assert len(bars) == 1 and list(bars[0].opts["height"]) == [fp32.tflops]
        assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()


async def test_cancel_stops_a_run(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = make_tab(qtbot, agent)
        tab.full_radio.setChecked(True)
        tab.run_button.click()
        await wait_for(lambda: agent.benchmark_running, what="the run to start")
        tab.cancel_button.click()
        await wait_for(lambda: tab.step_label.text() == "Cancelled", timeout_s=60, what="the cancel")
        assert not agent.benchmark_running and tab.history == []
        assert tab.run_button.isEnabled()


def suite(
    device: str, when: datetime, copy_gb_s: list[float], tflops: float, share: dict | None
) -> BenchmarkSuiteResult:
    rule = PlateauRule(window=3, tolerance=0.05, min_size_bytes=0, description="test")
    points = [
        BandwidthPoint(
            size_bytes=2**20 * 4**i,
            bytes_per_iteration=2 * 2**20 * 4**i,
            iterations=10,
            region_times_s=[0.1],
            bandwidth_gb_s=bw,
            median_bandwidth_gb_s=bw,
            started_at=when,
            finished_at=when,
        )
        for i, bw in enumerate(copy_gb_s)
    ]
    memory = MemoryBandwidthResult(
        device=device,
        backend="torch",
        llc_bytes=2**25,
        llc_source="test",
        free_memory_bytes=2**34,
        max_memory_usage_percent=50,
        memory_limit_bytes=2**33,
        tests={
            "copy": BandwidthTestResult(
                test="copy",
                stream_byte_factor=2,
                points=points,
                plateau_rule=rule,
                plateau_reached=True,
                peak_bandwidth_gb_s=copy_gb_s[-1],
            )
        },
        peak_bandwidth_gb_s=copy_gb_s[-1],
    )
    compute = ComputeResult(
        device=device,
        backend="torch",
        results={"FP32": MatmulResult(precision="FP32", tflops=tflops, n=4096, avg_time_ms=2.0)},
    )
    return BenchmarkSuiteResult(
        device=device,
        device_name="test device",
        backend="torch",
        started_at=when,
        duration_s=12.0,
        memory_bandwidth=memory,
        compute=compute,
        share_of_peak=share,
    )


async def test_earlier_results_compare_side_by_side(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        now = datetime.now(UTC)
        older = suite("cpu", now - timedelta(hours=1), [10.0, 20.0, 18.0], 0.5, None)
        newer = suite("cuda:0", now, [900.0, 2500.0, 3000.0], 50.0, {"memory_bandwidth": 0.9, "FP32": 0.75})
        for r in (older, newer):
            await agent.storage.save_benchmark(
                BenchmarkRecord(
                    device=r.device, created_at=r.started_at, data={"result": r.model_dump(mode="json")}
                )
            )
        tab = make_tab(qtbot, agent)
        tab.reload_history()
        await wait_for(lambda: len(tab.history) == 2, what="two stored results")
        assert [r.device for r in tab.history] == ["cuda:0", "cpu"]  # newest first
        assert [r.device for r in tab.shown] == ["cuda:0"]  # the newest is shown at once
        assert tab.share_plot.scene() is not None  # it has a datasheet peak

        tab.history_table.selectAll()
        assert [r.device for r in tab.shown] == ["cuda:0", "cpu"]
        cells = table_cells(tab)
        assert cells["copy bandwidth"] == ["3000 GB/s", "18 GB/s"]
        assert cells["FP32 matmul"][0].startswith("50 TFLOPS") and cells["FP32 matmul"][1].startswith(
            "0.5 TFLOPS"
        )
        assert cells["share of peak: FP32"] == ["75.0 %", "—"]
        curves = tab.bw_plot.listDataItems()
        assert len(curves) == 2
        for curve, r in zip(curves, tab.shown, strict=True):
            x, y = curve.getOriginalDataset()
            points = r.memory_bandwidth.tests["copy"].points
            np.testing.assert_array_equal(x, [p.size_bytes for p in points])
            np.testing.assert_array_equal(y, [p.bandwidth_gb_s for p in points])

        tab.history_table.clearSelection()
        tab.history_table.selectRow(1)
        assert [r.device for r in tab.shown] == ["cpu"]
        assert tab.share_plot.scene() is None  # no peak for a CPU: no empty chart
