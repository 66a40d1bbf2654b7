"""Bootstrap of the desktop app: QApplication, qasync's loop, the window, and the Runtime on that loop.

    run_gui(settings, quit_after_s=None) -> exit status

The window shows at once; the Runtime (API server + Agent) starts after it, and the tabs fill in as detection
completes. One asyncio.Event ends the program (window closed, File > Quit, SIGINT/SIGTERM, or quit_after_s);
then the runtime stops cleanly. A runtime that cannot start (port in use) is reported in a message box and
the program exits with status 2, as the headless mode does.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ruckus_agent import __version__
from ruckus_agent.core.config import Settings
from ruckus_agent.gui import theme
from ruckus_agent.gui.compat import MainThreadGc, protect_none
from ruckus_agent.gui.main_window import APPLICATION, ORGANIZATION, MainWindow
from ruckus_agent.runtime import Runtime, RuntimeStartError

log = logging.getLogger(__name__)

EXIT_START_FAILED = 2
BENCH_CANCEL_WAIT_S = 15.0


def make_application() -> QApplication:
    """The one QApplication, set up for us (name, icon, light/dark palette); reused if one exists."""
    protect_none()  # PySide6 6.12 on Python 3.11 (see compat.py)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("RUCKUS Agent")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APPLICATION)
    app.setWindowIcon(theme.app_icon())
    app.setQuitOnLastWindowClosed(False)  # the async main decides when to exit
    if app.property("ruckus_scheme") is None:
        app.setProperty("ruckus_scheme", True)
        theme.SchemeFollower(app)
    return app


def run_gui(settings: Settings, quit_after_s: float | None = None) -> int:
    """Open the window over a Runtime built from `settings`; return the exit status.

    quit_after_s: end the program after this many seconds, as if the window were closed (smoke tests,
    demos); it also closes a start-failure message box.
    """
    return run_window(lambda: Runtime(settings), quit_after_s=quit_after_s)


def run_window(
    make_runtime: Callable[[], Runtime],
    *,
    quit_after_s: float | None = None,
    qsettings: QSettings | None = None,
    on_started: Callable[[MainWindow], object] | None = None,
) -> int:
    """run_gui's body, with the Runtime (e.g. one over fake hardware) and the QSettings injectable."""
    import qasync

    app = make_application()
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(
            gui_main(make_runtime(), quit_after_s=quit_after_s, qsettings=qsettings, on_started=on_started)
        )


async def gui_main(
    runtime: Runtime,
    *,
    quit_after_s: float | None = None,
    qsettings: QSettings | None = None,
    on_started: Callable[[MainWindow], object] | None = None,
) -> int:
    """Show the window, start the runtime, wait for the stop event, stop the runtime."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    restore = _install_signal_handlers(loop, stop)
    collector = MainThreadGc()  # Qt objects must be freed on this thread (see compat.py)
    window = MainWindow(runtime.agent, settings=qsettings)
    window.quit_requested.connect(stop.set)
    window.show()
    if quit_after_s is not None:
        loop.call_later(quit_after_s, stop.set)
    try:
        try:
            await runtime.start()
        except RuntimeStartError as exc:
            log.error("%s", exc)
            window.set_api_url(None)
            await _show_start_error(window, str(exc), stop)
            window.shutdown()
            window.hide()
            return EXIT_START_FAILED
        window.set_api_url(runtime.url)
        log.info("RUCKUS Agent %s (%s) listening on %s", __version__, runtime.agent.agent_id, runtime.url)
        if on_started is not None:
            on_started(window)
        await stop.wait()
        log.info("shutting down")
        if window.isVisible():
            window.save_state()
            window.hide()
        await _cancel_benchmark(runtime)
        window.shutdown()
        await runtime.stop()
        log.info("stopped")
        return 0
    finally:
        restore()
        window.deleteLater()
        collector.stop()


async def _show_start_error(window: MainWindow, message: str, stop: asyncio.Event) -> None:
    """A window-modal message box that does not block the loop; closes on OK, or when `stop` is set."""
    box = QMessageBox(QMessageBox.Icon.Critical, "RUCKUS Agent cannot start", message, parent=window)
    box.setInformativeText("The window closes when you dismiss this message.")
    closed = asyncio.Event()
    box.finished.connect(lambda _code: closed.set())
    box.open()
    waiter = asyncio.ensure_future(stop.wait())
    done = asyncio.ensure_future(closed.wait())
    try:
        await asyncio.wait({waiter, done}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        done.cancel()
        box.close()


async def _cancel_benchmark(runtime: Runtime) -> None:
    """A benchmark thread would outlive the loop: cancel it and give it a moment to notice."""
    agent = runtime.agent
    if not agent.cancel_benchmark():
        return
    deadline = asyncio.get_running_loop().time() + BENCH_CANCEL_WAIT_S
    while agent.benchmark_running and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM end the program like closing the window. Qt's loop only lets Python see a signal
    when Python code runs, so a small timer wakes the interpreter a few times a second."""
    previous: dict[int, object] = {}

    def handler(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread
            pass
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)

    def restore() -> None:
        wake.stop()
        for sig, old in previous.items():
            try:
                signal.signal(sig, old)  # type: ignore[arg-type]
            except (ValueError, OSError, TypeError):
                pass

    return restore
