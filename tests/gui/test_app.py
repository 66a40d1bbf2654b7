"""The window and the program: state kept in QSettings, the status bar's API address and token, quitting,
and run_gui end to end in a subprocess (clean exit; a taken port reported with a non-zero status)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication

from gui.conftest import started, wait_for
from gui.fake_hw import TOKEN, fake_agent
from ruckus_agent.gui.app import gui_main
from ruckus_agent.gui.main_window import MainWindow
from ruckus_agent.runtime import Runtime


async def test_window_size_position_and_tab_come_back(qtbot, tmp_path, nvml, qsettings: QSettings) -> None:
    async with started(tmp_path, nvml) as agent:
        window = MainWindow(agent, settings=qsettings)
        qtbot.addWidget(window)
        window.show()
        window.resize(761, 583)  # inside the offscreen screen (800x600), above the minimum size
        window.move(17, 23)
        window.tabs.setCurrentIndex(3)
        geometry = window.geometry()
        assert (geometry.width(), geometry.height()) == (761, 583)
        quits: list[bool] = []
        window.quit_requested.connect(lambda: quits.append(True))
        window.close()
        assert quits == [True]
        window.shutdown()

        again = MainWindow(agent, settings=QSettings(qsettings.fileName(), QSettings.Format.IniFormat))
        qtbot.addWidget(again)
        assert again.geometry() == geometry
        assert again.tabs.currentIndex() == 3
        assert again.tabs.currentWidget() is again.jobs_tab
        assert not again.windowIcon().isNull()
        again.shutdown()


async def test_a_fresh_window_has_a_sensible_size(qtbot, tmp_path, qsettings: QSettings) -> None:
    window = MainWindow(fake_agent(tmp_path), settings=qsettings)  # never started: tabs wait for detection
    qtbot.addWidget(window)
    assert (window.width(), window.height()) == (1280, 820) and window.tabs.currentIndex() == 0
    window.shutdown()


async def test_status_bar_shows_the_api_address_and_a_masked_token(qtbot, tmp_path, nvml, qsettings) -> None:
    agent = fake_agent(tmp_path, nvml)
    runtime = Runtime(agent.settings, agent=agent)
    seen: list[MainWindow] = []
    task = None
    try:
        import asyncio

        task = asyncio.ensure_future(
            gui_main(runtime, quit_after_s=30, qsettings=qsettings, on_started=seen.append)
        )
        await wait_for(lambda: seen, what="the window and the runtime")
        window = seen[0]
        assert window.isVisible()
        status = window.api_status
        assert status.url_label.text() == f"API: {runtime.url}"
        assert runtime.port and runtime.url.endswith(f":{runtime.port}")
        assert TOKEN not in status.token_label.text() and status.token_label.text().endswith(TOKEN[-4:])
        QGuiApplication.clipboard().clear()
        status.copy_button.click()
        assert QGuiApplication.clipboard().text() == TOKEN
        await wait_for(lambda: status.state_label.text() == "Agent: idle", what="the agent state")
        import aiohttp

        async with aiohttp.ClientSession() as http, http.get(f"{runtime.url}/health") as resp:
            assert resp.status == 200  # the API answers on the same loop while the window is up
            assert (await resp.json())["status"] == "healthy"
        window.quit_action.trigger()  # File > Quit
        assert await asyncio.wait_for(task, 30) == 0
        await asyncio.sleep(0.05)
        assert agent.state == "stopping" and not shiboken6.isValid(window)  # stopped, and the window is gone
    finally:
        if task is not None and not task.done():
            task.cancel()


def run_gui_in_subprocess(tmp_path: Path, port: int, quit_after_s: float) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO)
        from ruckus_agent.core.config import load_settings
        from ruckus_agent.gui.app import run_gui
        settings = load_settings(host="127.0.0.1", port={port}, storage_url="memory://")
        sys.exit(run_gui(settings, quit_after_s={quit_after_s}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUCKUS_AGENT_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # QSettings and the token land here, not in the user's home
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90
    )


def test_run_gui_quits_cleanly(tmp_path: Path) -> None:
    done = run_gui_in_subprocess(tmp_path, 0, quit_after_s=2)
    assert done.returncode == 0, done.stderr
    assert "listening on http://127.0.0.1:" in done.stderr
    assert "stopped" in done.stderr
    assert (tmp_path / "config" / "RUCKUS" / "ruckus-agent.conf").is_file()  # the window saved its state


def test_run_gui_reports_a_taken_port_and_exits_non_zero(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = run_gui_in_subprocess(tmp_path, port, quit_after_s=1)
    assert done.returncode == 2, done.stderr
    assert "already in use" in done.stderr


def test_the_cli_opens_the_window_and_quits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUCKUS_AGENT_")}
    env.update(
        QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d")
    )
    done = subprocess.run(
        [sys.executable, "-m", "ruckus_agent.main", "--host", "127.0.0.1", "--port", "0", "--storage", "memory://",
         "--quit-after", "2"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stopped" in done.stderr
