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

from ruckus_agent import __version__

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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    detect = sub.add_parser("detect", help="print the GPU/system detection report and why a GPU is missing")
    detect.add_argument("--json", action="store_true", help="print JSON")
    detect.add_argument(
        "--nvidia-smi-xml", metavar="FILE", help="read GPUs from a recorded `nvidia-smi -q -x`"
    )
    return parser


def _settings_from_args(args: argparse.Namespace):  # -> Settings (lazy import keeps --help fast)
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


async def run_headless(settings) -> int:
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
    await stop.wait()
    log.info("shutting down")
    await runtime.stop()
    log.info("stopped")
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

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

    if not args.no_gui:
        reason = gui_unavailable_reason()
        if reason is None:
            from ruckus_agent.gui.app import run_gui

            return int(run_gui(settings))
        log.info("%s: running headless", reason)
    try:
        return asyncio.run(run_headless(settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
