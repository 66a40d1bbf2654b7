"""Open the real window over fake GPUs, with some jobs and a benchmark, e.g. for screenshots.

    QT_QPA_PLATFORM=xcb DISPLAY=:99 .venv/bin/python tests/gui/demo_window.py --gpus 8 --jobs --bench \
        --shots /tmp/shots --quit-after 60

--shots DIR saves a grab of each tab (DIR/<tab>.png) once the jobs and the benchmark are done; with
--root-shots it also runs ImageMagick's `import -window root` (the real X11 screen) per tab.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from PySide6.QtCore import QSettings  # noqa: E402

from fakes.fake_nvml import a100_mig, h100, library_missing, power_not_supported, rtx_4090  # noqa: E402
from gui.fake_hw import LiveFakeNvml, fake_agent  # noqa: E402
from ruckus_agent.gui.app import run_window  # noqa: E402
from ruckus_agent.gui.main_window import MainWindow  # noqa: E402
from ruckus_agent.models.jobs import JobRequest  # noqa: E402
from ruckus_agent.runtime import Runtime  # noqa: E402


def gpus(n: int) -> list:
    if n <= 0:
        return []
    mixed = [h100(0), rtx_4090(), a100_mig(), power_not_supported()]
    return [h100(i) for i in range(n)] if n > 4 else mixed[:n]


async def populate(window: MainWindow, args: argparse.Namespace) -> None:
    agent = window.agent
    if args.jobs:
        values = [4.2, 1.0, 1.1, 0.95, 1.02, 0.98, 1.05, 3.5, 1.01, 0.99, 1.03]
        await agent.submit_job(JobRequest(task_type="noop", runs_per_job=5, parameters={"sleep_s": 0.05}))
        last = await agent.submit_job(
            JobRequest(
                job_id="demo-values",
                task_type="values",
                runs_per_job=len(values),
                parameters={"values": values},
            )
        )
        while (await agent.job_state(last.job_id)).status in ("queued", "running"):
            await asyncio.sleep(0.2)
    if args.bench:
        window.tabs.setCurrentWidget(window.bench_tab)
        await window.bench_tab.run()
    if args.jobs:
        window.tabs.setCurrentWidget(window.jobs_tab)
        await asyncio.sleep(0.5)
        window.jobs_tab.detail.load("demo-values")
        await asyncio.sleep(1.0)
    if args.shots:
        out = Path(args.shots)
        out.mkdir(parents=True, exist_ok=True)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            name = window.tabs.tabText(index).lower()
            if name == "jobs":
                window.jobs_tab.detail.tabs.setCurrentIndex(args.job_page)
            await asyncio.sleep(2.5 if name == "monitor" else 1.0)
            window.grab().save(str(out / f"{name}.png"))
            if args.root_shots:
                subprocess.run(["import", "-window", "root", str(out / f"{name}-screen.png")], check=False)
        print(f"screenshots in {out}", flush=True)
        if args.quit_when_done:
            window.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gpus", type=int, default=4)
    ap.add_argument("--jobs", action="store_true")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--shots")
    ap.add_argument("--root-shots", action="store_true")
    ap.add_argument("--job-page", type=int, default=0, help="detail page shown in the Jobs shot")
    ap.add_argument("--quit-after", type=float)
    ap.add_argument("--quit-when-done", action="store_true")
    ap.add_argument("--dark", action="store_true", help="ask Qt for the dark colour scheme")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ruckus-demo-"))
    nvml = LiveFakeNvml(gpus(args.gpus)) if args.gpus > 0 else library_missing()  # 0: no driver at all

    def runtime() -> Runtime:
        agent = fake_agent(tmp, nvml, task_plugins="fakes.fault_tasks", sample_interval_s=0.5)
        return Runtime(agent.settings, agent=agent)

    if args.dark:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.styleHints().setColorScheme(Qt.ColorScheme.Dark)

    qsettings = QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat)

    tasks: list[asyncio.Future[None]] = []

    def started(window: MainWindow) -> None:
        window.resize(1400, 900)
        tasks.append(asyncio.ensure_future(populate(window, args)))

    return run_window(runtime, quit_after_s=args.quit_after, qsettings=qsettings, on_started=started)


if __name__ == "__main__":
    sys.exit(main())
