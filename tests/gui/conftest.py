"""GUI tests: widgets over a real Agent (memory:// storage, fake GPUs) on qasync's loop, offscreen.

Every async test here runs on a qasync QEventLoop (pytest-asyncio's loop-factory hook, this folder only).
Never call qtbot.waitUntil inside such a test (the loop's teardown hangs): poll with `wait_for`. Start and
stop agents inside the test (`async with started(...)`), not in async fixtures: pytest-qt processes Qt events
between the test and its fixtures' teardown, outside the running loop, and a live sampler task would step
there without a loop.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from fakes.fake_nvml import FakeNvml, h100, rtx_4090
from gui.fake_hw import LiveFakeNvml, fake_agent
from ruckus_agent.core.agent import Agent
from ruckus_agent.gui.compat import protect_none


def _qasync_loop() -> asyncio.AbstractEventLoop:
    protect_none()  # as make_application() does: PySide6 6.12 on Python 3.11 drops references to None
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as run_gui does: a collected test window must not end the loop
    return qasync.QEventLoop(app)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    """Collect on the main thread, then keep the collector off while the test runs: Python's cyclic GC runs
    in whichever thread allocates (sampler, benchmark, executor threads), and a Qt object freed off its
    thread leaves timers behind that Qt later fires into freed memory. The app does the same
    (compat.MainThreadGc)."""
    gc.collect()
    gc.disable()
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    try:
        return (yield)
    finally:
        gc.collect()  # the test's loop, widgets and agent: freed here, on the main thread
        gc.enable()


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    return {"qasync": _qasync_loop}


async def wait_for(predicate: Callable[[], object], timeout_s: float = 20.0, what: str = "condition") -> None:
    """Poll `predicate` on the running loop (never qtbot.waitUntil here)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    """A QSettings file of this test's own (never the user's)."""
    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def nvml() -> LiveFakeNvml:
    return LiveFakeNvml([h100(0), rtx_4090()])


@asynccontextmanager
async def started(tmp_path: Path, nvml: FakeNvml | None = None, **settings: Any) -> AsyncIterator[Agent]:
    """A started Agent (fake GPUs from `nvml`, 20 Hz sampling, the fault-task plugins), stopped on exit."""
    options: dict[str, Any] = {"sample_interval_s": 0.05, "task_plugins": "fakes.fault_tasks", **settings}
    agent = fake_agent(tmp_path, nvml, **options)
    await agent.start()
    try:
        yield agent
    finally:
        await agent.stop()
