"""Agent: the composition root. Owns the detector, storage (and later the monitor and job manager).

The GUI and the REST API are two views of one Agent on one asyncio loop; both only call its methods and
subscribe to its events.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ruckus_agent import __version__
from ruckus_agent.core import events
from ruckus_agent.core.config import Settings, ensure_agent_id, ensure_token
from ruckus_agent.core.detector import SystemDetector
from ruckus_agent.core.storage import AgentStorage, create_storage
from ruckus_agent.jobs.manager import JobManager
from ruckus_agent.jobs.results import job_state
from ruckus_agent.models.common import AgentStatus, Health, utcnow
from ruckus_agent.models.jobs import JobRequest, JobResult, JobState, MultiRunJobResult
from ruckus_agent.models.monitor import RunTelemetry, Sample
from ruckus_agent.models.storage import BenchmarkRecord, SystemSnapshot
from ruckus_agent.models.system import AgentInfo, Capabilities, SystemInfo
from ruckus_agent.monitor import GpuReaderProtocol, Sampler, summarize_window

if TYPE_CHECKING:
    from ruckus_agent.models.benchmark import BenchmarkSuiteResult

log = logging.getLogger(__name__)

State = Literal["starting", "idle", "busy", "stopping"]


def cpu_precisions(features: dict[str, bool], torch_installed: bool) -> list[str]:
    """Precisions the CPU benchmarks can run here (torch runs BF16/FP16 on any x86-64/Arm CPU, slowly without
    native support; numpy has no BF16)."""
    if torch_installed:
        return ["FP64", "FP32", "BF16", "FP16"]
    return ["FP64", "FP32", "FP16"]


class Agent:
    """One agent: lifecycle `await start()` / `await stop()`, snapshots for the API and the GUI."""

    def __init__(
        self,
        settings: Settings,
        storage: AgentStorage | None = None,
        *,
        detector: SystemDetector | None = None,
        gpu_reader: GpuReaderProtocol | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage if storage is not None else create_storage(settings.storage_url)
        self.detector = detector or SystemDetector(settings.model_path)
        self.events = events.EventBus()
        self.agent_id = ensure_agent_id(settings)
        self.api_token, self.token_path = ensure_token(settings)
        self.version = __version__
        self.state: State = "starting"
        self._started_monotonic = time.monotonic()
        self.started_at = datetime.now(UTC)
        self._system_info: SystemInfo | None = None
        self._info_cache: bytes | None = None
        self._last_updated = utcnow()
        self._storage_open = False
        self._gpu_reader = gpu_reader
        self.sampler: Sampler | None = None
        self.jobs = JobManager(
            self.storage,
            settings,
            self.events,
            telemetry=self._run_telemetry,
            boost=self._boost,
            environment=self.environment,
        )
        self.ready = asyncio.Event()
        self._bench_cancel: threading.Event | None = None
        self._latest_bench: dict[str, dict[str, Any]] = {}
        self._bench_task: asyncio.Task[None] | None = None

    # lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open storage, recover interrupted jobs, detect the system. /health turns 200 after this."""
        await self.storage.open()
        self._storage_open = True
        interrupted = await self.storage.mark_interrupted("agent stopped while the job was active")
        if interrupted:
            log.warning("marked %d job(s) interrupted: %s", len(interrupted), ", ".join(interrupted[:10]))
        await self._load_latest_benchmarks()
        info = await asyncio.to_thread(self.detector.detect)
        self._set_system_info(info)
        await self.storage.save_system_snapshot(SystemSnapshot(data=info.model_dump(mode="json")))
        await self._start_monitor(info)
        await self.jobs.start()
        self.events.subscribe(events.JOB, self._on_job_event)
        self._set_state("idle")
        self.ready.set()
        if self.settings.bench_on_start:
            self._bench_task = asyncio.get_running_loop().create_task(self._bench_on_start(info))

    async def _bench_on_start(self, info: SystemInfo) -> None:
        """RUCKUS_AGENT_BENCH_ON_START: the quick suite on each GPU, or on the CPU when there is none."""
        devices = [f"cuda:{g.index}" for g in info.gpus if g.detection_method != "nvidia-smi"] or ["cpu"]
        for device in devices:
            try:
                await self.run_benchmark(device, quick=True)
            except Exception as exc:  # a start-up benchmark never stops the agent
                log.warning("start-up benchmark on %s failed: %s", device, exc)

    def _on_job_event(self, _topic: str, _payload: object) -> None:
        if self.state in ("idle", "busy"):
            busy = bool(self.jobs.running_ids)
            if busy != (self.state == "busy"):
                self._set_state("busy" if busy else "idle")

    def _boost(self) -> Callable[[], None]:
        return self.sampler.boost() if self.sampler is not None else (lambda: None)

    def _run_telemetry(self, start: datetime, end: datetime, gpu_index: int | None) -> RunTelemetry | None:
        if self.sampler is None:
            return None
        return summarize_window(self.sampler.window(start, end), gpu_index)

    def environment(self) -> dict[str, Any]:
        """The hardware and software a result was taken on."""
        info = self._system_info
        if info is None:
            return {"agent_version": self.version}
        return {
            "agent_version": self.version,
            "agent_id": self.agent_id,
            "hostname": info.system.hostname,
            "os": info.system.os_release or info.system.os,
            "kernel": info.system.kernel,
            "python": info.system.python_version,
            "cpu": info.cpu.model,
            "cpu_logical_cores": info.cpu.logical_cores,
            "memory_total_mb": info.memory.total_mb,
            "gpus": [
                {
                    "index": g.index,
                    "name": g.name,
                    "uuid": g.uuid,
                    "driver_version": g.driver_version,
                    "cuda_version": g.cuda_version,
                }
                for g in info.gpus
            ],
            "frameworks": {f.name: f.version for f in info.frameworks},
        }

    async def _start_monitor(self, info: SystemInfo) -> None:
        reader = self._gpu_reader
        if reader is None and any(g.detection_method == "nvml" for g in info.gpus):
            from ruckus_agent.gpu import GpuReader

            reader = await asyncio.to_thread(GpuReader)
        s = self.settings
        capacity = max(600, int(s.history_seconds / s.sample_interval_s) * 2)
        self.sampler = Sampler(
            reader,
            interval_s=s.sample_interval_s,
            fast_interval_s=s.job_sample_interval_s,
            capacity=capacity,
            on_sample=self._on_sample,
        )
        await self.sampler.start()

    def _on_sample(self, sample: Sample) -> None:
        if sample.gpus:
            self._info_cache = None  # GPUs carry their live reading in /info
            self._last_updated = sample.timestamp
        self.events.publish(events.SAMPLE, sample)

    async def stop(self) -> None:
        if self.state == "stopping":
            return
        self._set_state("stopping")
        if self._bench_task is not None and not self._bench_task.done():
            self.cancel_benchmark()
            try:
                await self._bench_task
            except BaseException:  # cancelled or failed: either way it is over
                pass
        if self._storage_open:
            await self.jobs.stop()
        if self.sampler is not None:
            await self.sampler.stop()
        if self._storage_open:
            await self.storage.close()
            self._storage_open = False

    # state --------------------------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        self.state = state
        self.events.publish(events.STATE, state)

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self._started_monotonic, 3)

    @property
    def agent_name(self) -> str:
        if self.settings.agent_name:
            return self.settings.agent_name
        return self._system_info.system.hostname if self._system_info else "ruckus-agent"

    def health(self) -> Health:
        status = {"starting": "starting", "stopping": "stopping"}.get(self.state, "healthy")
        return Health(
            status=status,
            version=self.version,
            agent_id=self.agent_id,
            uptime_seconds=self.uptime_seconds(),
        )

    def status(self) -> AgentStatus:
        return AgentStatus(
            agent_id=self.agent_id,
            state=self.state,
            running_jobs=self.jobs.running_ids,
            queued_jobs=self.jobs.queued_ids,
            uptime_seconds=self.uptime_seconds(),
            started_at=self.started_at,
        )

    # info ---------------------------------------------------------------------------------------
    @property
    def system_info(self) -> SystemInfo | None:
        return self._system_info

    def _set_system_info(self, info: SystemInfo) -> None:
        self._system_info = info
        self._touch()

    def _touch(self) -> None:
        self._info_cache = None
        self._last_updated = utcnow()
        self.events.publish(events.INFO, None)

    def capabilities(self) -> Capabilities:
        info = self._system_info
        torch_installed = importlib.util.find_spec("torch") is not None
        precisions: dict[str, list[str]] = {
            "cpu": cpu_precisions(info.cpu.features if info else {}, torch_installed)
        }
        for gpu in info.gpus if info else []:
            precisions[f"cuda:{gpu.index}"] = list(gpu.supported_precisions)
        return Capabilities(
            agent_type=self.settings.agent_type,
            task_types=self.jobs.task_types(),
            precisions_by_device=precisions,
            max_concurrent_jobs=self.settings.max_concurrent_jobs,
        )

    def info(self) -> AgentInfo:
        if self._system_info is None:
            raise RuntimeError("system detection has not finished")
        system_info = self._system_info
        latest = self.sampler.latest if self.sampler is not None else None
        if system_info.gpus:
            live = {r.index: r for r in latest.gpus} if latest is not None else {}
            gpus = [
                g.model_copy(
                    update={
                        "live": live.get(g.index),
                        "benchmark_results": self._latest_bench.get(f"cuda:{g.index}"),
                    }
                )
                for g in system_info.gpus
            ]
            system_info = system_info.model_copy(update={"gpus": gpus})
        return AgentInfo(
            agent_id=self.agent_id,
            agent_name=self.agent_name,
            agent_type=self.settings.agent_type,
            version=self.version,
            system_info=system_info,
            capabilities=self.capabilities(),
            cpu_benchmark_results=self._latest_bench.get("cpu"),
            last_updated=self._last_updated,
        )

    def info_json(self) -> bytes:
        """/api/v1/info's body, serialised once per change rather than once per request."""
        if self._info_cache is None:
            self._info_cache = self.info().model_dump_json().encode()
        return self._info_cache

    async def refresh(self) -> SystemInfo:
        """Detect again (GUI 'Refresh')."""
        info = await asyncio.to_thread(self.detector.detect)
        self._set_system_info(info)
        return info

    # jobs (the GUI's door; the API uses the same calls) -------------------------------------------
    async def submit_job(self, request: JobRequest) -> JobState:
        return job_state(await self.jobs.submit(request))

    async def cancel_job(self, job_id: str) -> JobState:
        return job_state(await self.jobs.cancel(job_id))

    async def job_state(self, job_id: str) -> JobState:
        return job_state(await self.jobs.get(job_id))

    async def job_result(self, job_id: str) -> JobResult | MultiRunJobResult:
        return await self.jobs.result(job_id)

    async def list_jobs(
        self, status: str | list[str] | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[JobState], int]:
        """A page of the job history, newest first, and the total count for the filter."""
        records = await self.storage.list_jobs(status, limit=limit, offset=offset)
        return [job_state(r) for r in records], await self.storage.count_jobs(status)

    # benchmarks ---------------------------------------------------------------------------------------
    @property
    def benchmark_running(self) -> bool:
        return self._bench_cancel is not None

    async def run_benchmark(
        self,
        device: str = "cpu",
        *,
        quick: bool = True,
        tests: list[str] | None = None,
        precisions: list[str] | None = None,
        max_memory_usage_percent: float = 50,
    ) -> BenchmarkSuiteResult:
        """Run the benchmark suite in a thread (never on the loop), publish progress, store the result.

        Progress goes out as events.BENCH_PROGRESS `{"step": str, "fraction": float}`; the stored result as
        events.BENCH_RESULT. Raises RuntimeError if a benchmark is already running, BenchmarkCancelled when
        cancel_benchmark() stops it (the partial result is not stored).
        """
        import threading

        from ruckus_agent.bench import run_suite

        if self._bench_cancel is not None:
            raise RuntimeError("a benchmark is already running")
        loop = asyncio.get_running_loop()
        cancel = threading.Event()
        self._bench_cancel = cancel

        def progress(step: str, fraction: float) -> None:
            loop.call_soon_threadsafe(
                self.events.publish,
                events.BENCH_PROGRESS,
                {"device": device, "step": step, "fraction": fraction},
            )

        def telemetry(start: datetime, end: datetime) -> dict[str, Any]:
            gpu = int(device.split(":")[1]) if device.startswith("cuda:") else None
            summary = self._run_telemetry(start, end, gpu)
            return summary.model_dump(exclude_none=True) if summary is not None else {}

        release = self._boost()
        try:
            result = await asyncio.to_thread(
                run_suite,
                device,
                quick=quick,
                tests=tests,
                precisions=precisions,
                max_memory_usage_percent=max_memory_usage_percent,
                progress=progress,
                cancel=cancel,
                telemetry=telemetry,
            )
        finally:
            release()
            self._bench_cancel = None
        record = BenchmarkRecord(
            device=result.device,
            data={"result": result.model_dump(mode="json"), "environment": self.environment()},
        )
        await self.storage.save_benchmark(record)
        self._latest_bench[result.device] = result.to_seed_shape()
        self._touch()
        self.events.publish(events.BENCH_RESULT, result)
        return result

    def cancel_benchmark(self) -> bool:
        if self._bench_cancel is None:
            return False
        self._bench_cancel.set()
        return True

    async def benchmark_history(
        self, device: str | None = None, limit: int = 20
    ) -> list[BenchmarkSuiteResult]:
        from ruckus_agent.models.benchmark import BenchmarkSuiteResult

        records = await self.storage.list_benchmarks(device, limit=limit)
        return [BenchmarkSuiteResult.model_validate(r.data["result"]) for r in records if "result" in r.data]

    async def _load_latest_benchmarks(self) -> None:
        from ruckus_agent.models.benchmark import BenchmarkSuiteResult

        for device, record in (await self.storage.latest_benchmarks()).items():
            try:
                result = BenchmarkSuiteResult.model_validate(record.data["result"])
            except Exception:  # a record from an older schema: skip it, never fail start-up
                log.warning("skipping an unreadable stored benchmark result for %s", device)
                continue
            self._latest_bench[device] = result.to_seed_shape()

    def describe(self) -> dict[str, Any]:
        """Where things are, for the startup log and the GUI status bar."""
        return {
            "agent_id": self.agent_id,
            "token_path": str(self.token_path) if self.token_path else None,
            "storage": _redact_url(self.settings.storage_url),
            "model_path": str(Path(self.settings.model_path)),
        }


def _redact_url(url: str) -> str:
    """Hide a password in a storage URL."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
