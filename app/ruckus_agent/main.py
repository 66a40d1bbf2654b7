"""CLI entry: `ruckus-agent` (window, or headless when there is no display), `--no-gui`, and subcommands.

ruckus-agent [--no-gui] [--host H] [--port P] [--agent-type T] [--storage URL] [--log-level L]
ruckus-agent detect [--json] [--nvidia-smi-xml FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ruckus_agent import __version__

if TYPE_CHECKING:  # imported lazily at run time: --help and --version stay fast
    from ruckus_agent.core.config import Settings
    from ruckus_agent.models.benchmark import BenchmarkSuiteResult

log = logging.getLogger("ruckus_agent")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ruckus-agent",
        description="RUCKUS Agent: detects this machine, benchmarks it, and runs benchmark jobs; "
        "serves a REST API (default port 8081). Opens a window unless --no-gui or no display.",
    )
    parser.add_argument("--version", action="version", version=f"ruckus-agent {__version__}")
    parser.add_argument("--no-gui", action="store_true", help="run headless: no window, same REST API")
    parser.add_argument("--host", help="address to listen on (RUCKUS_AGENT_HOST, default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (RUCKUS_AGENT_PORT, default 8081)")
    parser.add_argument("--agent-type", help="white_box | gray_box | black_box (RUCKUS_AGENT_AGENT_TYPE)")
    parser.add_argument(
        "--storage",
        help="storage URL: memory://, sqlite:///path.db, postgresql://... "
        "(RUCKUS_AGENT_STORAGE_URL, default a SQLite file in the user data dir)",
    )
    parser.add_argument("--log-level", help="DEBUG | INFO | WARNING | ERROR (RUCKUS_AGENT_LOG_LEVEL)")
    parser.add_argument(
        "--quit-after", type=float, metavar="SECONDS", help="shut down cleanly after SECONDS (smoke tests)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    detect = sub.add_parser("detect", help="print the GPU/system detection report and why a GPU is missing")
    detect.add_argument("--json", action="store_true", help="print JSON")
    detect.add_argument(
        "--nvidia-smi-xml", metavar="FILE", help="read GPUs from a recorded `nvidia-smi -q -x`"
    )

    bench = sub.add_parser(
        "bench", help="run the benchmark suite (memory bandwidth, matmul TFLOPS, tensor cores)"
    )
    bench.add_argument("--device", default="cpu", help="cpu or cuda:N (default cpu)")
    bench.add_argument(
        "--quick", action="store_true", help="about 20 s on a 2-core CPU instead of about 2 min"
    )
    bench.add_argument("--json", action="store_true", help="print the full result as JSON")
    bench.add_argument("--tests", help="comma-separated: memory_bandwidth, compute_performance, tensor_cores")
    bench.add_argument("--precisions", help="comma-separated: FP64,FP32,TF32,FP16,BF16,FP8,INT8")
    bench.add_argument("--max-memory-percent", type=float, default=50, help="cap on free device memory used")
    bench.add_argument(
        "--no-save", action="store_true", help="do not store the result in the agent's storage"
    )

    job = sub.add_parser("job", help="submit and follow jobs on a running agent over its REST API")
    job.add_argument("--url", help="agent URL (default http://127.0.0.1:<port>)")
    job.add_argument("--token", help="API token (default RUCKUS_AGENT_API_TOKEN or the token file)")
    jsub = job.add_subparsers(dest="job_command", metavar="ACTION", required=True)
    submit = jsub.add_parser("submit", help="submit a job from a JSON file ('-' for stdin)")
    submit.add_argument("file")
    submit.add_argument("--wait", action="store_true", help="wait for the job and print its result")
    submit.add_argument("--timeout", type=float, default=3600, help="seconds to wait with --wait")
    for name, text in (
        ("status", "print a job's status"),
        ("result", "print a job's result"),
        ("cancel", "cancel a queued or running job"),
    ):
        one = jsub.add_parser(name, help=text)
        one.add_argument("job_id")
    listing = jsub.add_parser("list", help="list jobs, newest first")
    listing.add_argument("--status", help="comma-separated statuses")
    listing.add_argument("--limit", type=int, default=20)
    return parser


def _settings_from_args(args: argparse.Namespace) -> Settings:
    from ruckus_agent.core.config import load_settings

    return load_settings(
        host=args.host,
        port=args.port,
        agent_type=args.agent_type.lower() if args.agent_type else None,
        storage_url=args.storage,
        log_level=args.log_level.upper() if args.log_level else None,
    )


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def gui_unavailable_reason() -> str | None:
    """Why the window cannot open here, or None if it can."""
    if importlib.util.find_spec("ruckus_agent.gui.app") is None:
        return "the desktop window is not part of this build"
    if importlib.util.find_spec("PySide6") is None:
        return "the gui extra is not installed (pip install 'ruckus-agent[gui]')"
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        return "no display"
    return None


async def run_headless(settings: Settings, quit_after_s: float | None = None) -> int:
    from ruckus_agent.runtime import Runtime, RuntimeStartError

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    runtime = Runtime(settings)
    try:
        await runtime.start()
    except RuntimeStartError as exc:
        log.error("%s", exc)
        return 2
    where = runtime.agent.describe()
    log.info("RUCKUS Agent %s (%s) listening on %s", __version__, where["agent_id"], runtime.url)
    if where["token_path"]:
        log.info("API token is in %s (send it as 'Authorization: Bearer <token>')", where["token_path"])
    else:
        log.info("API token comes from RUCKUS_AGENT_API_TOKEN")
    log.info("storage: %s", where["storage"])
    if quit_after_s is not None:
        loop.call_later(quit_after_s, stop.set)
    await stop.wait()
    log.info("shutting down")
    await runtime.stop()
    log.info("stopped")
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    import json

    from ruckus_agent.gpu import detect_from_nvidia_smi_xml, detect_gpus, format_report

    if args.nvidia_smi_xml:
        path = Path(args.nvidia_smi_xml)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            print(f"ruckus-agent detect: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
        detection = detect_from_nvidia_smi_xml(text)
    else:
        detection = detect_gpus()
    if args.json:
        print(json.dumps(detection.model_dump(mode="json"), indent=2))
    else:
        print(format_report(detection))
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from ruckus_agent.bench import BenchmarkCancelled, BenchmarkError, format_suite, run_suite

    def progress(step: str, fraction: float) -> None:
        print(f"\r[{fraction * 100:5.1f}%] {step[:70]:<70}", end="", file=sys.stderr, flush=True)

    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    try:
        result = run_suite(
            args.device,
            quick=args.quick,
            tests=split(args.tests),
            precisions=split(args.precisions),
            max_memory_usage_percent=args.max_memory_percent,
            progress=None if args.json else progress,
        )
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return 130
    except (BenchmarkError, BenchmarkCancelled) as exc:
        print(f"\nruckus-agent bench: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        print(file=sys.stderr)
    if not args.no_save:
        asyncio.run(_save_benchmark(settings, result))
    print(json.dumps(result.model_dump(mode="json"), indent=2) if args.json else format_suite(result))
    return 0


async def _save_benchmark(settings: Settings, result: BenchmarkSuiteResult) -> None:
    from ruckus_agent.core.storage import StorageError, create_storage
    from ruckus_agent.models.storage import BenchmarkRecord

    try:
        async with create_storage(settings.storage_url) as storage:
            await storage.save_benchmark(
                BenchmarkRecord(device=result.device, data={"result": result.model_dump(mode="json")})
            )
    except (StorageError, OSError) as exc:
        log.warning("result not stored: %s", exc)


def cmd_job(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from ruckus_agent.client import AgentAPIError, AgentClient
    from ruckus_agent.core.config import ensure_token

    url = args.url or f"http://127.0.0.1:{settings.port}"
    token = args.token or ensure_token(settings)[0]

    async def run() -> int:
        async with AgentClient(url, token) as client:
            if args.job_command == "submit":
                text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
                accepted = await client.submit_job(json.loads(text))
                print(json.dumps(accepted.model_dump(mode="json")))
                if args.wait:
                    state = await client.wait(accepted.job_id, timeout_s=args.timeout)
                    print(f"job {state.job_id}: {state.status}", file=sys.stderr)
                    result = await client.result(accepted.job_id)
                    print(result.model_dump_json(indent=2))
                    return 0 if state.status == "completed" else 1
                return 0
            if args.job_command == "list":
                page = await client.jobs(args.status, limit=args.limit)
                for j in page.jobs:
                    print(
                        f"{j.job_id:<28} {j.status:<11} {j.runs_completed:>4}/{j.runs_total:<4} {j.task_type or ''}"
                    )
                print(f"({len(page.jobs)} of {page.total})", file=sys.stderr)
                return 0
            call = {"status": client.job, "result": client.result, "cancel": client.cancel}[args.job_command]
            print((await call(args.job_id)).model_dump_json(indent=2))
            return 0

    try:
        return asyncio.run(run())
    except AgentAPIError as exc:
        print(f"ruckus-agent job: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"ruckus-agent job: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    multiprocessing.freeze_support()
    parser = build_parser()
    args = parser.parse_args(argv)
    from ruckus_agent.core.config import SettingsError

    try:
        settings = _settings_from_args(args)
    except SettingsError as exc:
        print(f"ruckus-agent: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings.log_level)

    if args.command == "detect":
        return cmd_detect(args)
    if args.command == "bench":
        return cmd_bench(args, settings)
    if args.command == "job":
        return cmd_job(args, settings)

    if not args.no_gui:
        reason = gui_unavailable_reason()
        if reason is None:
            from ruckus_agent.gui.app import run_gui

            return int(run_gui(settings, quit_after_s=args.quit_after))
        log.info("%s: running headless", reason)
    try:
        return asyncio.run(run_headless(settings, args.quit_after))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
