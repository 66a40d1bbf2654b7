"""System tab: /info at a glance, the reason a GPU is missing, Copy as JSON, Refresh."""

from __future__ import annotations

import json
from pathlib import Path

import pynvml
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QGroupBox, QLabel

from fakes.fake_nvml import FakeNvml
from gui.conftest import started, wait_for
from gui.fake_hw import fake_agent
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui.bridge import AgentBridge
from ruckus_agent.gui.system_tab import SystemTab


def labels(widget: QGroupBox) -> list[str]:
    return [w.text() for w in widget.findChildren(QLabel)]


async def test_shows_each_gpu_and_copy_json_puts_the_info_on_the_clipboard(qtbot, tmp_path, nvml) -> None:
    async with started(tmp_path, nvml) as agent:
        check_gpus_and_copy(qtbot, agent)


def check_gpus_and_copy(qtbot, agent: Agent) -> None:
    tab = SystemTab(agent, AgentBridge(agent))
    qtbot.addWidget(tab)
    tab.show()
    info = agent.info()
    for gpu in info.system_info.gpus:
        box = tab.findChild(QGroupBox, f"gpu{gpu.index}Group")
        assert box is not None and box.title() == f"GPU {gpu.index}: {gpu.name}"
        texts = labels(box)
        assert gpu.detection_method in texts
        assert ", ".join(gpu.supported_precisions) in texts
    cpu = tab.findChild(QGroupBox, "cpuGroup")
    assert info.system_info.cpu.architecture in labels(cpu)
    assert not tab.banner.isVisibleTo(tab)  # NVML answered: nothing to explain

    QGuiApplication.clipboard().clear()
    tab.copy_button.click()
    copied = json.loads(QGuiApplication.clipboard().text())
    assert copied["agent_id"] == agent.agent_id
    assert [g["name"] for g in copied["system_info"]["gpus"]] == [g.name for g in info.system_info.gpus]


async def test_says_why_no_gpu_was_found(qtbot, tmp_path: Path) -> None:
    agent = fake_agent(tmp_path, FakeNvml([], init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    await agent.start()
    try:
        tab = SystemTab(agent, AgentBridge(agent))
        qtbot.addWidget(tab)
        tab.show()
        si = agent.info().system_info
        assert si.gpus == [] and si.gpu_detection_errors  # the fake really failed
        assert tab.banner.isVisibleTo(tab)
        text = tab.banner.text.text()
        assert "No GPU found" in text
        for error in si.gpu_detection_errors:
            assert error.source in text and error.reason in text
        nvml_error = next(e for e in si.gpu_detection_errors if e.source == "nvml")
        assert nvml_error.message.split(":")[0] in text
        summary = tab.findChild(QLabel, "gpuSummary")
        assert summary is not None and si.gpu_detection_summary in summary.text()
    finally:
        await agent.stop()


async def test_fills_in_when_detection_completes_and_refresh_detects_again(qtbot, tmp_path: Path) -> None:
    agent = fake_agent(tmp_path)
    tab = SystemTab(agent, AgentBridge(agent))
    qtbot.addWidget(tab)
    tab.show()
    assert isinstance(tab.page_scroll.widget(), QLabel)
    assert "Detecting" in tab.page_scroll.widget().text()
    assert not tab.copy_button.isEnabled()
    await agent.start()
    try:
        assert tab.info is not None and tab.copy_button.isEnabled()
        first = agent.info().last_updated
        tab.refresh_button.click()
        await wait_for(lambda: agent.info().last_updated > first, what="a second detection")
        await wait_for(lambda: tab.refresh_button.isEnabled(), what="refresh to finish")
        assert tab.info is not None and tab.info.last_updated == agent.info().last_updated
    finally:
        await agent.stop()
