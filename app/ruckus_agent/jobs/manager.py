"""JobManager: a bounded FIFO queue, `max_concurrent_jobs` consumers, one spawned worker process per job.

Each finished run is persisted the moment it arrives. Cancel and timeout stop the worker; the runs already
done stay. A worker that dies (segfault, OOM kill, os._exit) fails the job with the reason; the agent goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import secrets
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ruckus_agent.core.config import Settings
from ruckus_agent.core.events import JOB, JOB_RUN, EventBus
from ruckus_agent.core.storage import AgentStorage, DuplicateJobError
from ruckus_agent.jobs.errors import JobConflict, JobInvalid, JobNotFound, QueueFull, ShuttingDown
from ruckus_agent.jobs.results import build_result, job_state
from ruckus_agent.jobs.tasks import load_task_class, task_types
from ruckus_agent.models.jobs import FINAL_STATUSES, JobRequest, JobResult, JobStatus, MultiRunJobResult
from ruckus_agent.models.monitor import RunTelemetry
from ruckus_agent.models.storage import JobRecord, RunRecord

log = logging.getLogger(__name__)

TELEMETRY_METRICS = (
    "gpu_utilization_pct",
    "gpu_utilization_max_pct",
    "gpu_memory_peak_mb",
    "power_mean_w",
    "energy_j",
    "temperature_max_c",
)

WindowFn = Callable[[datetime, datetime, int | None], RunTelemetry | None]


def describe_exit(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is None:
        return "worker process did not exit"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = {
            "SIGSEGV": " (segmentation fault in task code)",
            "SIGKILL": " (killed; out of memory?)",
            "SIGABRT": " (aborted)",
            "SIGBUS": " (bus error)",
        }.get(name, "")
        return f"worker process crashed with {name}{hint}"
    return f"worker process exited with code {exitcode} before finishing"


@dataclass
class _Running:
    job_id: str
    process: Any = None
    cancel_reason: str | None = None  # "cancelled" | "timeout" | "interrupted"
    messages: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    runs_completed: int = 0


class JobManager:
    def __init__(
        self,
        storage: AgentStorage,
        settings: Settings,
        events: EventBus,
        *,
        telemetry: WindowFn | None = None,
        boost: Callable[[], Callable[[], None]] | None = None,
        environment: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.events = events
        self._telemetry = telemetry
        self._boost = boost
        self._environment = environment or dict
        self.plugins = [p.strip() for p in settings.task_plugins.split(",") if p.strip()]
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: OrderedDict[str, JobRequest] = OrderedDict()
        self._running: dict[str, _Running] = {}
        self._consumers: list[asyncio.Task[None]] = []
        self._accepting = False
        self._mp = multiprocessing.get_context("spawn")

    # lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._accepting = True
        for i in range(self.settings.max_concurrent_jobs):
            self._consumers.append(
                asyncio.get_running_loop().create_task(self._consume(), name=f"ruckus-jobs-{i}")
            )

    async def stop(self) -> None:
        """Stop taking jobs; running workers are stopped and their jobs marked interrupted (runs kept)."""
        self._accepting = False
        queued = list(self._queued)
        self._queued.clear()  # consumers skip ids no longer queued
        for running in list(self._running.values()):
            running.cancel_reason = "interrupted"
            await asyncio.to_thread(self._kill, running)
        for job_id in queued:
            await self._finish(job_id, JobStatus.INTERRUPTED, "agent stopped before the job started")
        # let the consumers record the interrupted running jobs
        deadline = asyncio.get_running_loop().time() + 10
        while self._running and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._consumers.clear()

    # queries ------------------------------------------------------------------------------------------
    @property
    def running_ids(self) -> list[str]:
        return list(self._running)

    @property
    def queued_ids(self) -> list[str]:
        return list(self._queued)

    def task_types(self) -> list[str]:
        return task_types(str(self.settings.agent_type), self.plugins)

    async def get(self, job_id: str) -> JobRecord:
        record = await self.storage.get_job(job_id)
        if record is None:
            raise JobNotFound(f"no job {job_id!r}")
        return record

    async def result(self, job_id: str) -> JobResult | MultiRunJobResult:
        record = await self.get(job_id)
        if record.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            raise JobConflict(
                f"job {job_id!r} is {record.status}; its result is not ready "
                f"({record.runs_completed}/{record.runs_total} runs done)"
            )
        if record.result and not record.result.get("partial"):
            cls = JobResult if record.runs_total == 1 else MultiRunJobResult
            return cls.model_validate(record.result)
        return build_result(record, await self.storage.list_runs(job_id))

    # submit and cancel ------------------------------------------------------------------------------
    def validate(self, request: JobRequest) -> None:
        """Raise JobInvalid (422) naming the field when the job cannot run here."""
        allowed = self.task_types()
        if request.task_type not in allowed:
            why = ""
            try:
                reason = load_task_class(request.task_type, self.plugins).missing(
                    str(self.settings.agent_type)
                )
                why = f": {reason}" if reason else ""
            except LookupError:
                pass
            raise JobInvalid(
                f"task_type {request.task_type!r} is not available on this {self.settings.agent_type} agent{why}",
                details=[{"loc": ["task_type"], "msg": f"must be one of {allowed}", "type": "unsupported"}],
            )
        cls = load_task_class(request.task_type, self.plugins)
        refused = cls.check_model(request.model, self.settings)
        if refused:
            raise JobInvalid(
                f"model refused: {refused}",
                details=[{"loc": ["model"], "msg": refused, "type": "value_error"}],
            )
        try:
            cls.params_model.model_validate(request.parameters)
        except ValidationError as exc:
            raise JobInvalid(
                f"invalid parameters for {request.task_type}",
                details=[
                    {"loc": ["parameters", *err["loc"]], "msg": err["msg"], "type": err["type"]}
                    for err in exc.errors(include_url=False)
                ],
            ) from None

    async def submit(self, request: JobRequest) -> JobRecord:
        if not self._accepting:
            raise ShuttingDown("the agent is shutting down")
        self.validate(request)
        if len(self._queued) >= self.settings.max_queue_size:
            raise QueueFull(f"the job queue is full ({self.settings.max_queue_size} jobs); retry later")
        job_id = request.job_id or f"job-{secrets.token_hex(8)}"
        request = request.model_copy(update={"job_id": job_id})
        record = JobRecord(
            job_id=job_id,
            status=JobStatus.QUEUED,
            task_type=request.task_type,
            runs_total=request.runs_per_job,
            stage="queued",
            request=request.model_dump(mode="json"),
        )
        try:
            await self.storage.create_job(record)
        except DuplicateJobError:
            raise JobConflict(f"a job with job_id {job_id!r} exists already") from None
        self._queued[job_id] = request
        self._queue.put_nowait(job_id)
        self.events.publish(JOB, job_state(record))
        return record

    async def cancel(self, job_id: str) -> JobRecord:
        record = await self.get(job_id)
        if record.status in FINAL_STATUSES:
            raise JobConflict(f"job {job_id!r} has already finished ({record.status})")
        if job_id in self._queued:
            self._queued.pop(job_id)
            return await self._finish(job_id, JobStatus.CANCELLED, "cancelled before it started")
        running = self._running.get(job_id)
        if running is not None:
            running.cancel_reason = "cancelled"
            await asyncio.to_thread(self._kill, running)
            for _ in range(1000):  # the consumer records the final state
                record = await self.get(job_id)
                if record.status in FINAL_STATUSES and record.result and not record.result.get("partial"):
                    return record
                await asyncio.sleep(0.01)
        return await self.get(job_id)

    # execution --------------------------------------------------------------------------------------
    async def _consume(self) -> None:
        while True:
            job_id = await self._queue.get()
            request = self._queued.pop(job_id, None)
            if request is None:  # cancelled while queued
                continue
            try:
                await self._execute(job_id, request)
            except Exception:
                log.exception("job %s failed in the harness", job_id)
                try:
                    await self._finish(
                        job_id, JobStatus.FAILED, "internal error in the job harness; see the log"
                    )
                except Exception:
                    log.exception("could not record the failure of job %s", job_id)
                self._running.pop(job_id, None)

    def _spec(self, request: JobRequest) -> dict[str, Any]:
        return {
            "job_id": request.job_id,
            "task_type": request.task_type,
            "parameters": request.parameters,
            "runs_per_job": request.runs_per_job,
            "plugins": self.plugins,
            "context": {
                "job_id": request.job_id,
                "model": request.model,
                "framework": request.framework,
                "model_path": str(self.settings.model_path),
                "allow_absolute_model_paths": self.settings.allow_absolute_model_paths,
                "extra": load_task_class(request.task_type, self.plugins).context_extra(self.settings),
            },
        }

    async def _execute(self, job_id: str, request: JobRequest) -> None:
        loop = asyncio.get_running_loop()
        running = _Running(job_id)
        self._running[job_id] = running
        release = self._boost() if self._boost else (lambda: None)
        environment = self._environment()
        device = request.parameters.get("device")
        gpu_index = (
            int(device.split(":")[1]) if isinstance(device, str) and device.startswith("cuda:") else None
        )
        if gpu_index is None and isinstance(device, str) and device == "cuda":
            gpu_index = 0
        record = await self.storage.update_job(
            job_id,
            status=JobStatus.RUNNING,
            started_at=datetime.now(UTC),
            stage="starting worker",
            result={"partial": True, "environment": environment},
        )
        self.events.publish(JOB, job_state(record))
        status: JobStatus | None = JobStatus.FAILED
        error: str | None = "internal error in the job harness; see the agent log"
        try:
            parent_conn, child_conn = self._mp.Pipe(duplex=False)
            from ruckus_agent.jobs.worker import worker_main

            proc = self._mp.Process(
                target=worker_main,
                args=(self._spec(request), child_conn),
                daemon=True,
                name=f"ruckus-job-{job_id}",
            )
            await asyncio.to_thread(proc.start)
            child_conn.close()
            running.process = proc
            if running.cancel_reason:  # cancelled while the process was starting
                await asyncio.to_thread(self._kill, running)
            reader = threading.Thread(
                target=_pump,
                args=(parent_conn, running.messages, loop),
                daemon=True,
                name=f"ruckus-pipe-{job_id}",
            )
            reader.start()
            handler = loop.create_task(
                self._handle_messages(job_id, running, request, gpu_index, environment)
            )
            # asyncio.wait never cancels the handler mid-write: on timeout the worker is stopped, the pipe
            # closes, and the handler ends by itself after recording every run that arrived.
            done, _ = await asyncio.wait({handler}, timeout=request.timeout_seconds)
            if not done:
                running.cancel_reason = running.cancel_reason or "timeout"
                await asyncio.to_thread(self._kill, running)
            status, error = await handler
            if running.cancel_reason == "timeout":
                status = JobStatus.TIMEOUT
                error = f"timed out after {request.timeout_seconds:g} s ({running.runs_completed} runs done)"
            await asyncio.to_thread(proc.join, 5)
            if running.cancel_reason == "cancelled":
                status, error = JobStatus.CANCELLED, f"cancelled after {running.runs_completed} run(s)"
            elif running.cancel_reason == "interrupted":
                status, error = JobStatus.INTERRUPTED, "agent stopped while the job was running"
            elif status is None:
                status, error = JobStatus.FAILED, describe_exit(proc.exitcode)
        except Exception:
            log.exception("job %s: harness error", job_id)
        finally:
            release()
            await self._finish(job_id, status or JobStatus.FAILED, error)
            self._running.pop(job_id, None)

    async def _handle_messages(
        self,
        job_id: str,
        running: _Running,
        request: JobRequest,
        gpu_index: int | None,
        environment: dict[str, Any],
    ) -> tuple[JobStatus | None, str | None]:
        """Consume worker messages until done; (None, None) means the pipe closed early (crash)."""
        while True:
            kind, payload = await running.messages.get()
            if kind == "eof":
                return None, None
            if kind == "stage":
                await self._set_stage(job_id, str(payload))
            elif kind == "loaded":
                rec = await self.storage.update_job(
                    job_id,
                    stage="running",
                    result={"partial": True, "environment": environment, **payload},
                )
                self.events.publish(JOB, job_state(rec))
            elif kind == "run":
                await self._record_run(job_id, running, payload, gpu_index, request.runs_per_job)
            elif kind == "error":
                log.warning("job %s failed: %s", job_id, payload.get("message"))
                return JobStatus.FAILED, str(payload.get("message"))
            elif kind == "done":
                return JobStatus.COMPLETED, None

    async def _set_stage(self, job_id: str, stage: str) -> None:
        rec = await self.storage.update_job(job_id, stage=stage)
        self.events.publish(JOB, job_state(rec))

    async def _record_run(
        self, job_id: str, running: _Running, payload: dict[str, Any], gpu_index: int | None, total: int
    ) -> None:
        run_id = int(payload["run_id"])
        started = datetime.fromisoformat(payload["started_at"])
        completed = datetime.fromisoformat(payload["completed_at"])
        telemetry = self._telemetry(started, completed, gpu_index) if self._telemetry else None
        metrics = dict(payload.get("metrics") or {})
        if telemetry is not None and payload.get("success"):
            for key in TELEMETRY_METRICS:
                value = getattr(telemetry, key)
                if value is not None and key not in metrics:
                    metrics[key] = float(value)
        data = {
            **payload,
            "cold_start": run_id == 0,
            "metrics": metrics,
            "telemetry": telemetry.model_dump(mode="json") if telemetry else None,
        }
        await self.storage.add_run(
            RunRecord(job_id=job_id, run_index=run_id, success=bool(payload.get("success")), data=data)
        )
        running.runs_completed += 1
        rec = await self.storage.update_job(
            job_id, runs_completed=running.runs_completed, stage=f"run {running.runs_completed}/{total}"
        )
        self.events.publish(JOB_RUN, {"job_id": job_id, "run": data})
        self.events.publish(JOB, job_state(rec))

    async def _finish(self, job_id: str, status: JobStatus, error: str | None) -> JobRecord:
        self._running.pop(job_id, None)  # before the final event, so listeners see the agent idle
        runs = await self.storage.list_runs(job_id)
        rec = await self.storage.update_job(
            job_id,
            status=status,
            error=error,
            completed_at=datetime.now(UTC),
            stage=str(status),
            runs_completed=len(runs),
        )
        result = build_result(rec, runs)
        rec = await self.storage.update_job(job_id, result=result.model_dump(mode="json"))
        self.events.publish(JOB, job_state(rec))
        callback = rec.request.get("callback_url")
        if callback:
            asyncio.get_running_loop().create_task(
                _post_callback(str(callback), result.model_dump(mode="json"))
            )
        return rec

    @staticmethod
    def _kill(running: _Running) -> None:
        proc = running.process
        if proc is None or not proc.is_alive():
            return
        proc.terminate()
        proc.join(3)
        if proc.is_alive():
            proc.kill()
            proc.join(3)


def _pump(conn: Any, queue: asyncio.Queue[tuple[str, Any]], loop: asyncio.AbstractEventLoop) -> None:
    """Reader thread: worker messages onto the loop's queue; ('eof', None) when the pipe closes."""
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            loop.call_soon_threadsafe(queue.put_nowait, msg)
    finally:
        try:
            conn.close()
        except OSError:
            pass
        try:
            loop.call_soon_threadsafe(queue.put_nowait, ("eof", None))
        except RuntimeError:  # loop closed
            pass


async def _post_callback(url: str, body: dict[str, Any], attempts: int = 3) -> None:
    """POST the result to the job's callback_url, with retries; failures are logged, never fatal."""
    import aiohttp

    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(url, json=body) as resp,
            ):
                if resp.status < 300:
                    log.info("callback for %s delivered to %s", body.get("job_id"), url)
                    return
                log.warning("callback %s answered %d (attempt %d)", url, resp.status, attempt)
        except Exception as exc:
            log.warning("callback %s failed (attempt %d): %s", url, attempt, exc)
        if attempt < attempts:
            await asyncio.sleep(delay)
            delay *= 2
