"""Monitor tab: curves are the sampler's ring buffer, gauges the newest sample; no drawing while hidden or
paused; window length; PNG and CSV export; a machine without a GPU still shows the host."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from fakes.fake_nvml import FakeNvml
from gui.conftest import started, wait_for
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.monitor_tab import GPU_PLOTS, MonitorTab
from ruckus_agent.models.monitor import Sample


def buffered(agent: Agent, start: float, end: float) -> list[Sample]:
    """The sampler's own ring buffer, between two epoch times (inclusive)."""
    assert agent.sampler is not None
    return [s for s in agent.sampler.buffer if start <= s.timestamp.timestamp() <= end]


def values(samples: list[Sample], index: int, field: str) -> np.ndarray:
    out = []
    for s in samples:
        reading = next((g for g in s.gpus if g.index == index), None)
        value = getattr(reading, field) if reading is not None else None
        out.append(np.nan if value is None else float(value))
    return np.array(out)


async def test_curves_hold_the_ring_buffer_and_gauges_the_newest_sample(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = MonitorTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)
        tab.resize(1600, 900)  # wide plots and a 1 min window: no display reduction of 20 Hz data
        tab.set_window(60)
        tab.show()
        assert agent.sampler is not None
        await wait_for(lambda: len(agent.sampler.buffer) >= 20 and tab.redraws > 0, what="20 samples drawn")
        tab.set_paused(True)  # the buffer keeps filling; the picture holds still
        tab.redraw()
        drawn = tab.redraws
        start, end = tab.store.window(tab.window_s).start, tab.store.window(tab.window_s).end

        expected = buffered(agent, start, end)
        assert len(expected) >= 20
        times = np.array([s.timestamp.timestamp() for s in expected])
        for field, _title, _unit, scale in GPU_PLOTS:
            for index in (0, 1):
                curve = tab._gpu_curves[field][index]
                x, y = curve.getOriginalDataset()
                np.testing.assert_array_equal(x, times)
                np.testing.assert_array_equal(y, values(expected, index, field) * scale)
                shown_x, shown_y = curve.getData()  # what is on screen: the same points
                np.testing.assert_array_equal(shown_x, times)
                np.testing.assert_array_equal(shown_y, y)
        host_x, host_y = tab.host_curves["cpu_utilization_pct"].getOriginalDataset()
        np.testing.assert_array_equal(host_x, times)
        np.testing.assert_array_equal(host_y, [s.host.cpu_utilization_pct for s in expected])

        latest = tab.latest
        assert latest is not None
        for reading in latest.gpus:
            card = tab._gpu_cards[reading.index]
            assert card.temperature.value == reading.temperature_c
            assert card.power.value == reading.power_usage_w
            assert card.power.maximum == reading.power_limit_w
            assert card.utilization.value == reading.utilization_gpu_pct
            assert card.memory.value == reading.memory_used_mb
            assert card.memory.maximum == reading.memory_total_mb
        assert tab.host_card.cpu.value == latest.host.cpu_utilization_pct

        await asyncio_sleep(0.3)
        assert tab.redraws == drawn  # paused: samples arrive, nothing is drawn
        tab.set_paused(False)
        assert tab.redraws == drawn + 1


async def test_window_length_limits_what_is_plotted(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = MonitorTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)
        tab.show()
        await wait_for(lambda: tab.store is not None and len(tab.store) >= 5, what="samples")
        tab.set_paused(True)
        tab.set_window(60)  # redraws at once, paused or not
        assert tab.window_s == 60
        x, _ = tab._gpu_curves["temperature_c"][0].getOriginalDataset()
        latest = tab.store.latest_time
        assert x[-1] == latest and x[0] >= latest - 60
        (x0, x1), _ = tab._gpu_plots["temperature_c"].viewRange()
        assert abs((x1 - x0) - 60) < 1e-6


async def test_a_hidden_tab_draws_nothing(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = MonitorTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)  # never shown: like a tab in the background
        await wait_for(lambda: tab.store is not None and len(tab.store) >= 10, what="samples")
        assert tab.redraws == 0
        tab.show()
        await wait_for(lambda: tab.redraws > 0, what="a redraw once shown")


async def test_exports_png_and_csv(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        tab = MonitorTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)
        tab.resize(1000, 700)
        tab.show()
        await wait_for(lambda: tab.redraws > 0 and len(tab.store) >= 5, what="samples drawn")
        tab.set_paused(True)
        tab.redraw()
        png, table = tmp_path / "plots.png", tmp_path / "samples.csv"
        tab.export_png(png)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        tab.export_csv(table)
        rows = list(csv.DictReader(io.StringIO(table.read_text())))
        window = tab.store.window(tab.window_s)
        assert len(rows) == len(window.t)
        expected = buffered(agent, window.start, window.end)
        assert [float(r["gpu1_temperature_c"]) for r in rows] == list(values(expected, 1, "temperature_c"))
        assert rows[0]["timestamp"] == expected[0].timestamp.isoformat()


async def test_a_machine_without_gpus_shows_the_host(qtbot, tmp_path: Path) -> None:
    async with started(tmp_path, FakeNvml([])) as agent:
        tab = MonitorTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)
        tab.show()
        tab._info_changed()
        await wait_for(lambda: tab.redraws > 0 and len(tab.store) >= 3, what="host samples drawn")
        tab.set_paused(True)
        tab.redraw()
        x, y = tab.host_curves["memory_used_pct"].getOriginalDataset()
        assert len(x) >= 3 and np.isfinite(y).all()
        assert tab._gpu_cards == {} and tab._gpu_plots == {}
        assert tab.no_gpu_label.isVisibleTo(tab)
        assert tab.host_card.memory.value is not None


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
